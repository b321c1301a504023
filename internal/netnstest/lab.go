package netnstest

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
)

// NeedRoot skips the test unless it runs as root, which network
// namespaces (and most of what tests do in them) need.
func NeedRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces")
	}
}

// Run runs a command and returns its output, failing the test on error
// with the command line and what it printed.
func Run(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// A Lab creates a test's network namespaces and joins them.
type Lab struct {
	t      testing.TB
	prefix string
}

// labs numbers the labs of this process, so that two in one test binary
// (subtests, or tests run in parallel) never share a namespace name.
var labs atomic.Int32

// NewLab returns a Lab for the test, whose namespaces are named
// tg<pkg>-<pid>-<n>-<name>; pkg says which package's test made them. It
// skips the test when not root.
func NewLab(t testing.TB, pkg string) *Lab {
	t.Helper()
	NeedRoot(t)
	return &Lab{t: t, prefix: fmt.Sprintf("tg%s-%d-%d-", pkg, os.Getpid(), labs.Add(1))}
}

// Run is Run for the lab's test.
func (l *Lab) Run(args ...string) string {
	l.t.Helper()
	return Run(l.t, args...)
}

// Exec runs a command inside ns and returns its output, failing the test
// on error.
func (l *Lab) Exec(ns string, args ...string) string {
	l.t.Helper()
	return l.Run(append([]string{"ip", "netns", "exec", ns}, args...)...)
}

// Netns creates a namespace with its loopback up and returns its name.
// When the test ends, whatever still runs in it is killed by pid, and it
// is deleted.
func (l *Lab) Netns(name string) string {
	l.t.Helper()
	ns := l.prefix + name
	l.Run("ip", "netns", "add", ns)
	l.t.Cleanup(func() {
		out, _ := exec.Command("ip", "netns", "pids", ns).Output()
		for _, f := range strings.Fields(string(out)) {
			// Never the test itself: `ip netns pids` goes by the main
			// thread's namespace, and code under test that leaves a
			// locked goroutine in a namespace leaves the main thread
			// there when that goroutine ran on it.
			if pid, err := strconv.Atoi(f); err == nil && pid != os.Getpid() {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		_ = exec.Command("ip", "netns", "del", ns).Run()
	})
	l.Run("ip", "-n", ns, "link", "set", "lo", "up")
	return ns
}

// Wire joins two namespaces with a veth pair, ifA in nsA and ifB in nsB,
// gives each end its address (CIDR notation; none when "") and sets both
// up. nsA and nsB may be the same namespace.
func (l *Lab) Wire(nsA, ifA, addrA, nsB, ifB, addrB string) {
	l.t.Helper()
	l.Run("ip", "link", "add", "name", ifA, "netns", nsA, "type", "veth", "peer", "name", ifB, "netns", nsB)
	for _, e := range []struct{ ns, ifname, addr string }{{nsA, ifA, addrA}, {nsB, ifB, addrB}} {
		if e.addr != "" {
			l.Run("ip", "-n", e.ns, "addr", "add", e.addr, "dev", e.ifname)
		}
		l.Run("ip", "-n", e.ns, "link", "set", e.ifname, "up")
	}
}
