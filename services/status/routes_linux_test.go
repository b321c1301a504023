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

// TestKernelRoutes installs routes as services/bgp does (protocol bgp) and
// one it does not in a namespace, and reads them back.
func TestKernelRoutes(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace")
	}
	ns := fmt.Sprintf("tgstatus-%d-routes", os.Getpid())
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", append([]string{"-n", ns}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	ip("link", "add", "xfrm1", "type", "veth", "peer", "name", "xfrm1p")
	ip("link", "add", "eth1", "type", "veth", "peer", "name", "eth1p")
	ip("addr", "add", "169.254.80.146/30", "dev", "xfrm1")
	ip("addr", "add", "10.0.1.2/24", "dev", "eth1")
	for _, l := range []string{"xfrm1", "xfrm1p", "eth1", "eth1p"} {
		ip("link", "set", l, "up")
	}
	ip("route", "add", "10.0.0.0/24", "proto", "bgp", "metric", "20",
		"nexthop", "via", "169.254.80.145", "dev", "xfrm1", "weight", "1",
		"nexthop", "via", "10.0.1.3", "dev", "eth1", "weight", "3")
	ip("route", "add", "10.0.2.0/24", "via", "169.254.80.145", "proto", "bgp", "metric", "20")
	ip("route", "add", "192.0.2.0/24", "via", "10.0.1.9") // static: not ours

	var (
		got []Route
		err error
	)
	done := make(chan struct{})
	go func() {
		// This goroutine's thread enters the namespace and is thrown
		// away afterwards (never unlocked).
		defer close(done)
		runtime.LockOSThread()
		h, herr := netns.GetFromName(ns)
		if herr != nil {
			err = herr
			return
		}
		defer h.Close()
		if err = netns.Set(h); err != nil {
			return
		}
		got, err = KernelRoutes()
	}()
	<-done
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
