// Package testchild lets a test binary be, besides the tests, the child
// process those tests start: a supervised program, a speaker inside a
// network namespace, a process holding a descriptor. The tests start the
// binary again with Var set (Env, Argv, Command), and TestMain (Main) then
// runs the child's code instead of the tests.
//
// Only tests import it.
package testchild

import (
	"os"
	"os/exec"
	"testing"
)

// Var is the environment variable that makes a test binary a child; its
// value says which child, or carries the child's whole specification.
const Var = "TIDEGATE_TEST_CHILD"

// Main is a TestMain: with Var set (to anything but ""), the process is a
// child and exits with child's result for Var's value; otherwise it runs
// the tests.
func Main(m *testing.M, child func(value string) int) {
	if v := os.Getenv(Var); v != "" {
		os.Exit(child(v))
	}
	os.Exit(m.Run())
}

// Env is the "NAME=value" that sets Var to value, for a child's
// environment.
func Env(value string) string { return Var + "=" + value }

// Argv is the command line that starts this test binary again running no
// test, so that, with Var set, Main runs the child.
func Argv() []string {
	return []string{os.Args[0], "-test.run=^$"}
}

// Command starts this test binary again (Argv) as the child value, with
// the variables env ("NAME=value") added to the test's environment.
func Command(value string, env ...string) *exec.Cmd {
	argv := Argv()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(append(os.Environ(), Env(value)), env...)
	return cmd
}
