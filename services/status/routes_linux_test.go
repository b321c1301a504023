package status

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vishvananda/netns"
)

// routesNS is a network namespace for a test's routes.
type routesNS struct {
	t    *testing.T
	name string
}

func newRoutesNS(t *testing.T, what string) *routesNS {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace")
	}
	name := fmt.Sprintf("tgstatus-%d-%s", os.Getpid(), what)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	return &routesNS{t: t, name: name}
}

func (ns *routesNS) ip(args ...string) {
	ns.t.Helper()
	if out, err := exec.Command("ip", append([]string{"-n", ns.name}, args...)...).CombinedOutput(); err != nil {
		ns.t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// do runs f on a thread inside the namespace.
func (ns *routesNS) do(f func()) {
	ns.t.Helper()
	var err error
	done := make(chan struct{})
	go func() {
		// This goroutine's thread enters the namespace and is thrown
		// away afterwards (never unlocked).
		defer close(done)
		runtime.LockOSThread()
		h, herr := netns.GetFromName(ns.name)
		if herr != nil {
			err = herr
			return
		}
		defer h.Close()
		if err = netns.Set(h); err != nil {
			return
		}
		f()
	}()
	<-done
	if err != nil {
		ns.t.Fatal(err)
	}
}

// TestKernelRoutes installs routes as services/bgp does (protocol bgp) and
// one it does not in a namespace, and reads them back.
func TestKernelRoutes(t *testing.T) {
	ns := newRoutesNS(t, "routes")
	ns.ip("link", "add", "xfrm1", "type", "veth", "peer", "name", "xfrm1p")
	ns.ip("link", "add", "eth1", "type", "veth", "peer", "name", "eth1p")
	ns.ip("addr", "add", "169.254.80.146/30", "dev", "xfrm1")
	ns.ip("addr", "add", "10.0.1.2/24", "dev", "eth1")
	for _, l := range []string{"xfrm1", "xfrm1p", "eth1", "eth1p"} {
		ns.ip("link", "set", l, "up")
	}
	ns.ip("route", "add", "10.0.0.0/24", "proto", "bgp", "metric", "20",
		"nexthop", "via", "169.254.80.145", "dev", "xfrm1", "weight", "1",
		"nexthop", "via", "10.0.1.3", "dev", "eth1", "weight", "3")
	ns.ip("route", "add", "10.0.2.0/24", "via", "169.254.80.145", "proto", "bgp", "metric", "20")
	ns.ip("route", "add", "192.0.2.0/24", "via", "10.0.1.9") // static: not ours

	var (
		got []Route
		err error
	)
	ns.do(func() { got, err = KernelRoutes() })
	if err != nil {
		t.Fatal(err)
	}
	want := []Route{
		{Prefix: "10.0.0.0/24", Metric: 20, NextHops: []NextHop{
			{Gateway: "169.254.80.145", Interface: "xfrm1"},
			{Gateway: "10.0.1.3", Interface: "eth1", Weight: 3},
		}},
		{Prefix: "10.0.2.0/24", Metric: 20, NextHops: []NextHop{{Gateway: "169.254.80.145", Interface: "xfrm1"}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("KernelRoutes (-want +got):\n%s", diff)
	}
}

// TestKernelRoutesBounded reads a table larger than the limit: the first
// routes by prefix, whatever order the kernel lists them in, and the count
// of all.
func TestKernelRoutesBounded(t *testing.T) {
	ns := newRoutesNS(t, "bounded")
	ns.ip("link", "add", "xfrm1", "type", "veth", "peer", "name", "xfrm1p")
	ns.ip("addr", "add", "169.254.80.146/30", "dev", "xfrm1")
	ns.ip("link", "set", "xfrm1", "up")
	ns.ip("link", "set", "xfrm1p", "up")
	for _, p := range []string{"10.0.9.0/24", "10.0.2.0/24", "10.0.7.0/24", "10.0.1.0/24", "10.0.5.0/24"} {
		ns.ip("route", "add", p, "via", "169.254.80.145", "proto", "bgp")
	}
	var (
		got   []Route
		total int
		err   error
	)
	ns.do(func() { got, total, err = kernelRoutes(2) })
	if err != nil {
		t.Fatal(err)
	}
	var prefixes []string
	for _, r := range got {
		prefixes = append(prefixes, r.Prefix)
	}
	if want := []string{"10.0.1.0/24", "10.0.2.0/24"}; total != 5 || !cmp.Equal(prefixes, want) {
		t.Errorf("kernelRoutes(2) = %q of %d; want %q of 5", prefixes, total, want)
	}
}
