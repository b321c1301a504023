package pid1

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidegate/tidegate/internal/netnstest"
	"github.com/tidegate/tidegate/internal/testchild"
	"github.com/tidegate/tidegate/internal/testlog"
	"github.com/tidegate/tidegate/services/lifeline"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// The test binary, started as a child (testchild), is a supervised child
// instead: the modes are in testChild.
func TestMain(m *testing.M) {
	testchild.Main(m, testChild)
}

// testChild is a supervised child. It records its pid in PID1_TEST_RUNS,
// then waits for SIGUSR1 and exits 3. Before that,
//
//   - claim: claims PID1_TEST_CLAIMS (iface=prefix,...), then adds
//     PID1_TEST_ADD (iface=prefix) in network namespace PID1_TEST_NETNS,
//     as the gateway does with its virtual IPs.
//   - hang: beats for 200 ms, then stops, as a deadlocked
//     main loop would.
//   - silent: never beats, like the shell or an older gateway.
func testChild(mode string) int {
	lf := lifeline.FromEnv()
	if !lf.Enabled() {
		fmt.Fprintln(os.Stderr, "test child without a lifeline:", lf.Err())
		return 1
	}
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, unix.SIGUSR1)
	switch mode {
	case "claim":
		if err := claimAndAdd(lf); err != nil {
			fmt.Fprintln(os.Stderr, "test child:", err)
			return 1
		}
	case "hang":
		for range 10 {
			lf.Beat()
			time.Sleep(20 * time.Millisecond)
		}
	}
	f, err := os.OpenFile(os.Getenv("PID1_TEST_RUNS"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, "test child:", err)
		return 1
	}
	fmt.Fprintln(f, os.Getpid())
	f.Close()
	<-usr1
	return 3
}

func claimAndAdd(lf *lifeline.Lifeline) error {
	// Claim first: a claim that reached the pipe outlives us.
	for _, kv := range strings.Split(os.Getenv("PID1_TEST_CLAIMS"), ",") {
		iface, p, _ := strings.Cut(kv, "=")
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			return err
		}
		if err := lf.Claim(iface, prefix); err != nil {
			return err
		}
	}
	ns, err := netns.GetFromName(os.Getenv("PID1_TEST_NETNS"))
	if err != nil {
		return err
	}
	defer ns.Close()
	nl, err := netlink.NewHandleAt(ns)
	if err != nil {
		return err
	}
	defer nl.Close()
	iface, p, _ := strings.Cut(os.Getenv("PID1_TEST_ADD"), "=")
	prefix, err := netip.ParsePrefix(p)
	if err != nil {
		return err
	}
	link, err := nl.LinkByName(iface)
	if err != nil {
		return err
	}
	if err := nl.AddrAdd(link, &netlink.Addr{IPNet: ipNet(prefix)}); err != nil {
		return fmt.Errorf("add %v: %w", prefix, err)
	}
	return nil
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// lifelineSupervisor supervises the test binary as a child in the given
// mode, with a lifeline, and stops it when the test ends. env adds
// variables for the child.
func lifelineSupervisor(t *testing.T, mode string, env ...string) (s *supervisor, runs string, log *testlog.Buffer) {
	t.Helper()
	runs = filepath.Join(t.TempDir(), "runs")
	argv := append([]string{"/usr/bin/env", testchild.Env(mode), "PID1_TEST_RUNS=" + runs}, env...)
	argv = append(argv, testchild.Argv()...)
	log = &testlog.Buffer{}
	s = newSupervisor("test", argv, slog.New(slog.NewTextHandler(log, nil)), processReaper())
	s.lifeline = true
	s.minBackoff, s.maxBackoff = 10*time.Millisecond, 40*time.Millisecond
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Stop(ctx, 100*time.Millisecond)
		if t.Failed() {
			t.Logf("supervisor log:\n%s", log)
		}
	})
	return s, runs, log
}

// pids returns the pids the child recorded, one per run.
func pids(path string) []int {
	b, _ := os.ReadFile(path)
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out
}

func waitPids(t *testing.T, path string, n int) []int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(pids(path)) < n {
		if time.Now().After(deadline) {
			t.Fatalf("child recorded %d runs, want at least %d", len(pids(path)), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return pids(path)
}

// command runs a command through the test process's reaper, which owns
// wait4(-1) once a supervisor test has run: exec.Cmd.Wait would lose the
// race for the exit status.
func command(args ...string) error {
	out, err := os.CreateTemp("", "pid1-test-cmd")
	if err != nil {
		return err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	exited, err := processReaper().start(cmd)
	if err != nil {
		return err
	}
	ws := <-exited
	_ = cmd.Process.Release()
	if !ws.Exited() || ws.ExitStatus() != 0 {
		b, _ := os.ReadFile(out.Name())
		return fmt.Errorf("%s: %s\n%s", strings.Join(args, " "), describe(ws), b)
	}
	return nil
}

var nsSeq atomic.Int32

// testNetNS makes a throwaway network namespace with an interface eth1,
// up, holding own (its address, which no child claims), and returns its
// name and a netlink handle in it.
func testNetNS(t *testing.T, own netip.Prefix) (string, *netlink.Handle) {
	t.Helper()
	netnstest.NeedRoot(t)
	name := fmt.Sprintf("tgpid1-%d-%d", os.Getpid(), nsSeq.Add(1))
	if err := command("ip", "netns", "add", name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := command("ip", "netns", "del", name); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	for _, args := range [][]string{
		// A veth pair: the test kernel may have no dummy interfaces.
		{"link", "add", "eth1", "type", "veth", "peer", "name", "eth1-peer"},
		{"link", "set", "eth1", "up"},
		{"link", "set", "eth1-peer", "up"},
		{"addr", "add", own.String(), "dev", "eth1"},
	} {
		if err := command(append([]string{"ip", "-n", name}, args...)...); err != nil {
			t.Fatal(err)
		}
	}
	ns, err := netns.GetFromName(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	nl, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nl.Close)
	return name, nl
}

func hasAddr(t *testing.T, nl *netlink.Handle, iface string, p netip.Prefix) bool {
	t.Helper()
	link, err := nl.LinkByName(iface)
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := nl.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		ones, _ := a.Mask.Size()
		if ip, ok := netip.AddrFromSlice(a.IP); ok && netip.PrefixFrom(ip.Unmap(), ones) == p {
			return true
		}
	}
	return false
}

// TestClaimedAddressRemovedOnExit: a child claims a virtual IP and adds
// it, then dies (exits, or is SIGKILLed, as a crash or the OOM killer
// would); PID 1 must take the address off within a second, and leave the
// interface's own address alone.
func TestClaimedAddressRemovedOnExit(t *testing.T) {
	own := netip.MustParsePrefix("192.0.2.2/24")
	vip := netip.MustParsePrefix("192.0.2.10/24")
	for _, tc := range []struct {
		name string
		sig  unix.Signal
	}{
		{"exit", unix.SIGUSR1}, // the child exits 3
		{"SIGKILL", unix.SIGKILL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns, nl := testNetNS(t, own)
			s, runs, log := lifelineSupervisor(t, "claim",
				"PID1_TEST_NETNS="+ns, "PID1_TEST_ADD=eth1="+vip.String(),
				// Also claimed: an address never added, and one on an
				// interface that does not exist: neither is an error.
				"PID1_TEST_CLAIMS=eth1="+vip.String()+",eth1=192.0.2.11/24,nosuch0=192.0.2.99/24")
			s.nl = nl
			s.minBackoff, s.maxBackoff = time.Minute, time.Minute // no second run to add it again
			go s.run()
			pid := waitPids(t, runs, 1)[0]
			if !hasAddr(t, nl, "eth1", vip) {
				t.Fatalf("the child did not add %v", vip)
			}
			if err := unix.Kill(pid, tc.sig); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			for hasAddr(t, nl, "eth1", vip) {
				if time.Since(start) > 3*time.Second {
					t.Fatalf("%v still on eth1 3s after the child died", vip)
				}
				time.Sleep(5 * time.Millisecond)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("%v removed %v after the child died, want within 1s", vip, d)
			}
			if !hasAddr(t, nl, "eth1", own) {
				t.Errorf("the interface's own address %v was removed too", own)
			}
			out := log.String()
			if !strings.Contains(out, "removed an address the child claimed") || strings.Contains(out, "cannot remove") {
				t.Errorf("log:\n%s", out)
			}
		})
	}
}

// TestWatchdogKillsHungChild: a child that beat and then went silent is
// killed and started again.
func TestWatchdogKillsHungChild(t *testing.T) {
	s, runs, log := lifelineSupervisor(t, "hang")
	s.watchdog = 300 * time.Millisecond
	go s.run()
	first := waitPids(t, runs, 2)[0]
	if err := unix.Kill(first, 0); !errors.Is(err, unix.ESRCH) {
		t.Errorf("the hung child (pid %d) is still there: %v", first, err)
	}
	out := log.String()
	for _, want := range []string{"watchdog: no beat; killing the child as hung", "status=\"signal killed\"", "watchdog=true"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

// TestWatchdogSparesChildThatNeverBeats: without a first beat there is no
// watchdog (the shell, a gateway that predates the lifeline).
func TestWatchdogSparesChildThatNeverBeats(t *testing.T) {
	s, runs, log := lifelineSupervisor(t, "silent")
	s.watchdog = 50 * time.Millisecond
	go s.run()
	pid := waitPids(t, runs, 1)[0]
	time.Sleep(time.Second)
	if n := len(pids(runs)); n != 1 {
		t.Errorf("child started %d times, want once", n)
	}
	if err := unix.Kill(pid, 0); err != nil {
		t.Errorf("the silent child (pid %d) is gone: %v", pid, err)
	}
	if strings.Contains(log.String(), "watchdog") && strings.Contains(log.String(), "killing") {
		t.Errorf("watchdog fired:\n%s", log)
	}
}
