package netnstest_test

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tidegate/tidegate/internal/netnstest"
	"github.com/vishvananda/netns"
)

// TestLab: two namespaces joined by a veth pair reach each other, the
// test process stays in its own namespace, and both are gone when the
// lab's test ends.
func TestLab(t *testing.T) {
	var a, b string
	t.Run("lab", func(t *testing.T) {
		l := netnstest.NewLab(t, "netnstest")
		a, b = l.Netns("a"), l.Netns("b")
		if !strings.HasPrefix(a, "tgnetnstest-") || a == b {
			t.Errorf("namespace names %q, %q", a, b)
		}
		l.Wire(a, "veth0", "192.0.2.1/24", b, "veth0", "192.0.2.2/24")
		netnstest.ListenTCP(t, b, "192.0.2.2:7000", true)
		if !netnstest.TCPReaches(a, netip.MustParseAddr("192.0.2.1"), "192.0.2.2:7000") {
			t.Error("no TCP connection from a to b over the veth pair")
		}
		if netnstest.TCPReaches(a, netip.Addr{}, "192.0.2.2:7001") {
			t.Error("a connection to a port nobody listens on was accepted")
		}
		if !netnstest.UDPReaches(t, a, netip.Addr{}, b, "192.0.2.2:7002") {
			t.Error("no UDP datagram from a to b over the veth pair")
		}
		if out := l.Exec(a, "ip", "-o", "addr", "show", "dev", "veth0"); !strings.Contains(out, "192.0.2.1/24") {
			t.Errorf("ip netns exec in a shows:\n%s", out)
		}
		// This process's namespace has neither.
		if _, err := net.InterfaceByName("veth0"); err == nil {
			t.Error("veth0 is in the test process's namespace")
		}
	})
	if t.Skipped() {
		return
	}
	out := netnstest.Run(t, "ip", "netns", "list")
	for _, ns := range []string{a, b} {
		if strings.Contains(out, ns) {
			t.Errorf("namespace %s still exists after its test:\n%s", ns, out)
		}
	}
}

// TestIn: fn runs inside the namespace, its thread and the caller's stay
// outside afterwards, and fn's errors (and a namespace that does not
// exist) come back.
func TestIn(t *testing.T) {
	l := netnstest.NewLab(t, "netnstest")
	ns := l.Netns("in")
	own, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	var inside netns.NsHandle
	if err := netnstest.In(ns, func() (err error) { inside, err = netns.Get(); return err }); err != nil {
		t.Fatal(err)
	}
	defer inside.Close()
	if inside.Equal(own) {
		t.Error("fn ran in the caller's namespace")
	}
	// Every thread the runtime has may have run In's goroutine: none of
	// them may be left inside.
	for range 4 * runtime.GOMAXPROCS(0) {
		done := make(chan bool)
		go func() {
			h, err := netns.Get()
			if err == nil {
				defer h.Close()
			}
			done <- err == nil && h.Equal(own)
		}()
		if !<-done {
			t.Fatal("a thread was left inside the namespace")
		}
	}

	want := errors.New("from fn")
	if err := netnstest.In(ns, func() error { return want }); err != want {
		t.Errorf("In returned %v, want fn's error", err)
	}
	if err := netnstest.In(ns, func() error { runtime.Goexit(); return nil }); err == nil {
		t.Error("In returned nil for a fn that never returned")
	}
	if err := netnstest.In("tgnetnstest-no-such-namespace", func() error { return nil }); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("In on a missing namespace: %v, want not exist", err)
	}
}

// TestMSS: the MSS helpers see what a veth pair's MTU allows.
func TestMSS(t *testing.T) {
	l := netnstest.NewLab(t, "netnstest")
	a, b := l.Netns("a"), l.Netns("b")
	l.Wire(a, "veth0", "192.0.2.1/24", b, "veth0", "192.0.2.2/24")
	l.Run("ip", "-n", b, "link", "set", "veth0", "mtu", "1400")
	ln := netnstest.ListenTCP(t, b, "192.0.2.2:7000", false)
	// b's SYN-ACK advertises 1400-40; a's SYN 1500-40, which b's
	// smaller MTU caps for what b sends.
	if got := netnstest.PeerMSS(t, a, "192.0.2.2:7000", ln); got > 1360 || got < 1300 {
		t.Errorf("accepted side's MSS %d, want at most 1360", got)
	}
}

// TestProcess: a started process runs inside its namespace with its output
// in the file, Signal reaches it, Stop kills one that ignores SIGTERM, and
// the test's end kills whatever still runs.
func TestProcess(t *testing.T) {
	var left *netnstest.Process
	t.Run("lab", func(t *testing.T) {
		l := netnstest.NewLab(t, "netnstest")
		ns := l.Netns("a")
		dir := t.TempDir()
		echo := netnstest.Start(t, netnstest.Command(ns, "sh", "-c", "ip -o link show; echo to stderr >&2"), filepath.Join(dir, "echo.log"))
		<-echo.Done()
		if out := string(echo.Output()); echo.Err() != nil || !strings.Contains(out, "1: lo:") || strings.Contains(out, "veth") || !strings.Contains(out, "to stderr") {
			t.Errorf("in %s: %v, output:\n%s", ns, echo.Err(), out)
		}

		polite := netnstest.Start(t, netnstest.Command(ns, "sleep", "60"), filepath.Join(dir, "polite.log"))
		polite.Signal(syscall.SIGTERM)
		select {
		case <-polite.Done():
			if polite.Err() == nil {
				t.Error("sleep ended without error after SIGTERM")
			}
		case <-time.After(5 * time.Second):
			t.Error("sleep did not end 5 s after SIGTERM")
		}

		// The trap is set before "ready" is printed, so SIGTERM is ignored from then on.
		stubborn := netnstest.Start(t, netnstest.Command(ns, "sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.1; done"), filepath.Join(dir, "stubborn.log"))
		for !strings.Contains(string(stubborn.Output()), "ready") {
			time.Sleep(10 * time.Millisecond)
		}
		stubborn.Signal(syscall.SIGTERM)
		stubborn.Stop() // returns once it has been waited for
		if stubborn.Err() == nil {
			t.Error("a process Stop killed ended without error")
		}

		left = netnstest.Start(t, netnstest.Command(ns, "sleep", "60"), filepath.Join(dir, "left.log"))
	})
	if t.Skipped() {
		return
	}
	select {
	case <-left.Done():
	default:
		t.Error("the process still ran after its test's cleanup")
	}
	if err := syscall.Kill(left.Pid(), 0); err == nil {
		t.Errorf("pid %d still exists after its test", left.Pid())
	}
}
