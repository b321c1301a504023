// Package testrun runs the code under test in the background for the
// length of a test: a server's Serve, a service's Run.
//
// Only tests import it.
package testrun

import (
	"context"
	"testing"
	"time"
)

// Until runs run in a goroutine until the test ends: the test's cleanup
// cancels run's context and waits for run to return, and fails the test
// if it returned an error or had not returned 15 s later. what names run
// in those failures ("Serve").
func Until(t testing.TB, what string, run func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s: %v", what, err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("%s did not return 15 s after its context ended", what)
		}
	})
}
