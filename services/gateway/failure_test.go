package gateway

import (
	"errors"
	"net"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"github.com/vishvananda/netns"
)

// listenIn opens a TCP listener inside namespace ns. The socket stays in
// that namespace after the thread switches back.
func listenIn(t *testing.T, ns, addr string) net.Listener {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	h, err := netns.GetFromName(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := netns.Set(h); err != nil {
		t.Fatal(err)
	}
	l, lerr := net.Listen("tcp4", addr)
	if err := netns.Set(orig); err != nil {
		// This thread is in the wrong namespace: let it die with the
		// locked goroutine rather than serve other tests.
		runtime.Goexit()
	}
	if lerr != nil {
		t.Fatal(lerr)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// A service that fails stops the gateway with an error (and exit status 1,
// for PID 1's supervisor to restart it), instead of leaving the others
// running without it. Here BGP cannot listen: its port is taken.
func TestServiceFailureStopsTheGateway(t *testing.T) {
	l := newLab(t)
	bin := l.buildTidegate()
	vlan, gw := l.Netns("vlan"), l.Netns("gw1")
	l.bridge(vlan, "eth1", gw)
	listenIn(t, gw, "0.0.0.0:179")

	start := time.Now()
	p := l.startGateway(bin, gw, "testdata/site.yaml", "vpn-gw-1")
	err := p.exited(20 * time.Second)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit: %v, want status 1", err)
	}
	t.Logf("gateway exited with status 1 %v after start", time.Since(start).Round(time.Millisecond))
	p.waitLog(time.Second, `msg="service failed"`, "service=bgp")
	p.waitLog(time.Second, `msg="gateway failed"`, "bgp:")
	// The others were stopped, not abandoned.
	p.waitLog(time.Second, `msg="service stopped"`, "service=ipsec")
	p.waitLog(time.Second, `msg="service stopped"`, "service=vrrp")
}
