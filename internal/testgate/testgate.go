// Package testgate skips the tests that run only when asked: benchmarks
// and long measurements that take minutes and assert little, which `go
// test ./...` and `make test` must not start.
//
// Only tests import it.
package testgate

import (
	"os"
	"testing"
)

// OptIn skips t unless the environment variable env is set (to anything
// but ""). what says what t is and costs, for the skip message ("a
// benchmark, a few minutes").
func OptIn(t testing.TB, env, what string) {
	t.Helper()
	if os.Getenv(env) == "" {
		t.Skipf("%s: set %s=1 to run it", what, env)
	}
}
