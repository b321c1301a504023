package ipsec

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"

	"github.com/tidegate/tidegate/configs"
	"github.com/tidegate/tidegate/internal/netnstest"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

func testTunnel(name, inside string) configs.Tunnel {
	return NewTestTunnel(name, "203.0.113.10", inside, "not.used.here")
}

// TestInterfaces needs a kernel with XFRM interfaces (the Debian kernel of
// the image, in QEMU); it skips where creating one is not supported, as on
// the test host.
func TestInterfaces(t *testing.T) {
	ns := "/run/netns/" + netnstest.NewLab(t, "ipsec").Netns("xfrmi")
	err := inNetNS(ns, func() error {
		attrs := netlink.NewLinkAttrs()
		attrs.Name = "xfrmprobe"
		if err := netlink.LinkAdd(&netlink.Xfrmi{LinkAttrs: attrs, Ifid: 99}); err != nil {
			return err
		}
		l, err := netlink.LinkByName("xfrmprobe")
		if err != nil {
			return err
		}
		return netlink.LinkDel(l)
	})
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOTSUP) {
		t.Skipf("this kernel has no XFRM interfaces (%v)", err)
	}
	if err != nil {
		t.Fatalf("probing for XFRM interfaces: %v", err)
	}

	a := testTunnel("vpn-1a", "169.254.80.144/30")
	b := testTunnel("vpn-1b", "169.254.81.148/30")
	type link struct {
		Index, MTU int
		IfID       uint32
		Alias      string
		Up         bool
		Addrs      []string
	}
	links := func() map[string]link {
		t.Helper()
		out := map[string]link{}
		err := inNetNS(ns, func() error {
			ls, err := netlink.LinkList()
			if err != nil {
				return err
			}
			for _, l := range ls {
				x, ok := l.(*netlink.Xfrmi)
				if !ok {
					continue
				}
				as, err := netlink.AddrList(l, netlink.FAMILY_V4)
				if err != nil {
					return err
				}
				var addrs []string
				for _, a := range as {
					addrs = append(addrs, a.IPNet.String())
				}
				out[x.Name] = link{x.Index, x.MTU, x.Ifid, x.Alias, x.Flags&(1<<0) != 0, addrs}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	apply := func(ts ...configs.Tunnel) {
		t.Helper()
		if err := inNetNS(ns, func() error { return ensureInterfaces(ts, "eth0", true) }); err != nil {
			t.Fatal(err)
		}
	}
	check := func(ts ...configs.Tunnel) map[string]link {
		t.Helper()
		got := links()
		if len(got) != len(ts) {
			t.Errorf("%d XFRM interfaces, want %d: %+v", len(got), len(ts), got)
		}
		for _, tun := range ts {
			name, id := InterfaceFor(tun)
			l, ok := got[name]
			want := link{l.Index, tun.MTU(), id, tun.Name, true, []string{tun.LocalInside().String()}}
			if !ok || fmt.Sprint(l) != fmt.Sprint(want) {
				t.Errorf("%s: got %+v, want %+v", name, l, want)
			}
		}
		return got
	}

	apply(a, b)
	first := check(a, b)
	apply(a, b) // nothing to do: same interfaces, same indexes
	again := check(a, b)
	for n := range first {
		if first[n].Index != again[n].Index {
			t.Errorf("%s was recreated (index %d -> %d)", n, first[n].Index, again[n].Index)
		}
	}
	b.InsideCIDR = netip.MustParsePrefix("169.254.81.152/30") // new /30: new if_id, new interface
	apply(a, b)
	check(a, b)
	apply(a)
	check(a)
}
