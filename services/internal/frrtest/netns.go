package frrtest

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// Lab creates network namespaces named tg<pkg>-<pid>-<name> and joins them.
type Lab struct {
	t      *testing.T
	prefix string
}

// NewLab returns a Lab for the test. pkg names the calling package in the
// namespace names. It skips the test when not root: namespaces need it.
func NewLab(t *testing.T, pkg string) *Lab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces")
	}
	return &Lab{t: t, prefix: fmt.Sprintf("tg%s-%d-", pkg, os.Getpid())}
}

// Prefix is what every namespace name of the lab begins with.
func (l *Lab) Prefix() string { return l.prefix }

// Run runs a command and returns its output, failing the test on error.
func (l *Lab) Run(args ...string) string {
	l.t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		l.t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Netns creates a namespace with loopback up and returns its name. Cleanup
// kills by pid whatever is still running in it (only our processes can be:
// the namespace is ours) and deletes it.
func (l *Lab) Netns(name string) string {
	l.t.Helper()
	ns := l.prefix + name
	l.Run("ip", "netns", "add", ns)
	l.t.Cleanup(func() {
		out, _ := exec.Command("ip", "netns", "pids", ns).Output()
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		exec.Command("ip", "netns", "del", ns).Run()
	})
	l.Run("ip", "-n", ns, "link", "set", "lo", "up")
	return ns
}

// Wire joins two namespaces with a veth pair, gives each end its address
// (none when "") and sets both up.
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
