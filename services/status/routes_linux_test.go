package status

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tidegate/tidegate/internal/netnstest"
)

// TestKernelRoutes installs routes as services/bgp does (protocol bgp) and
// one it does not in a namespace, and reads them back.
func TestKernelRoutes(t *testing.T) {
	l := netnstest.NewLab(t, "status")
	ns := l.Netns("routes")
	l.Wire(ns, "xfrm1", "169.254.80.146/30", ns, "xfrm1p", "")
	l.Wire(ns, "eth1", "10.0.1.2/24", ns, "eth1p", "")
	l.Run("ip", "-n", ns, "route", "add", "10.0.0.0/24", "proto", "bgp", "metric", "20",
		"nexthop", "via", "169.254.80.145", "dev", "xfrm1", "weight", "1",
		"nexthop", "via", "10.0.1.3", "dev", "eth1", "weight", "3")
	l.Run("ip", "-n", ns, "route", "add", "10.0.2.0/24", "via", "169.254.80.145", "proto", "bgp", "metric", "20")
	l.Run("ip", "-n", ns, "route", "add", "192.0.2.0/24", "via", "10.0.1.9") // static: not ours

	var got []Route
	if err := netnstest.In(ns, func() (err error) { got, err = KernelRoutes(); return err }); err != nil {
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
	l := netnstest.NewLab(t, "status")
	ns := l.Netns("bounded")
	l.Wire(ns, "xfrm1", "169.254.80.146/30", ns, "xfrm1p", "")
	for _, p := range []string{"10.0.9.0/24", "10.0.2.0/24", "10.0.7.0/24", "10.0.1.0/24", "10.0.5.0/24"} {
		l.Run("ip", "-n", ns, "route", "add", p, "via", "169.254.80.145", "proto", "bgp")
	}
	var (
		got   []Route
		total int
	)
	if err := netnstest.In(ns, func() (err error) { got, total, err = kernelRoutes(2); return err }); err != nil {
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
