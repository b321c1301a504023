package gateway

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestSupervisor: services stop one by one when told to, in the caller's
// order; one that fails, or returns before it is stopped, is reported
// with its name.
func TestSupervisor(t *testing.T) {
	blockUntilStopped := func(name string, stopped *[]string) func(context.Context) error {
		return func(ctx context.Context) error {
			<-ctx.Done()
			*stopped = append(*stopped, name) // the stops run one at a time
			return nil
		}
	}
	t.Run("stopped in order", func(t *testing.T) {
		var stopped []string
		sv := newSupervisor(context.Background(), slog.New(slog.DiscardHandler))
		for _, name := range []string{"a", "b", "c"} {
			sv.start(name, blockUntilStopped(name, &stopped))
		}
		select {
		case <-sv.Failed():
			t.Fatal("Failed is closed, but nothing failed")
		case <-time.After(100 * time.Millisecond):
		}
		sv.stop("c")
		sv.stop("a")
		sv.stop("missing") // never started: nothing to do
		if err := sv.wait(); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(stopped, ","); got != "c,a,b" {
			t.Errorf("stopped %s, want c,a,b", got)
		}
	})
	for _, tc := range []struct {
		name string
		run  func(context.Context) error
		want string
	}{
		{"error", func(context.Context) error { return errors.New("socket gone") }, "b: socket gone"},
		{"own name", func(context.Context) error { return errors.New("b: socket gone") }, "b: socket gone"},
		{"returned", func(context.Context) error { return nil }, "b: stopped on its own"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stopped []string
			sv := newSupervisor(context.Background(), slog.New(slog.DiscardHandler))
			sv.start("a", blockUntilStopped("a", &stopped))
			sv.start("b", tc.run)
			select {
			case <-sv.Failed():
			case <-time.After(5 * time.Second):
				t.Fatal("Failed not closed")
			}
			if err := sv.wait(); err == nil || err.Error() != tc.want {
				t.Errorf("wait = %v, want %s", err, tc.want)
			}
			if len(stopped) != 1 {
				t.Errorf("a was not stopped by wait")
			}
		})
	}
}
