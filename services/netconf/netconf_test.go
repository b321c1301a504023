package netconf

import (
	"context"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tidegate/tidegate/internal/netnstest"
	"github.com/vishvananda/netlink"
)

func TestDHCPConfiguresAddressAndDefaultRoute(t *testing.T) {
	l := netnstest.NewLab(t, "netconf")
	client, server := l.Netns("client"), l.Netns("server")
	l.Wire(client, "eth0", "", server, "srv0", "192.0.2.1/24")
	l.Run("ip", "-n", client, "link", "set", "eth0", "down") // DHCP sets it up
	dir := t.TempDir()
	dnsmasq := netnstest.Command(server, "dnsmasq", "--keep-in-foreground",
		"--conf-file=/dev/null", "--port=0", "--user=root", "--group=root", "--interface=srv0", "--bind-interfaces",
		"--dhcp-range=192.0.2.100,192.0.2.100,255.255.255.0,2m", "--dhcp-option=option:router,192.0.2.1",
		"--dhcp-leasefile="+filepath.Join(dir, "leases"), "--pid-file="+filepath.Join(dir, "pid"))
	netnstest.Start(t, dnsmasq, filepath.Join(dir, "dnsmasq.log"))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	leases := make(chan Lease, 1)
	dhcp := make(chan error, 1)
	// DHCP keeps its thread, in the client's namespace, until ctx ends.
	go func() {
		dhcp <- netnstest.In(client, func() error {
			DHCP(ctx, "eth0", slog.New(slog.NewTextHandler(os.Stderr, nil)), leases)
			return nil
		})
	}()
	var lease Lease
	select {
	case lease = <-leases:
	case err := <-dhcp:
		t.Fatalf("DHCP returned before a lease: %v", err)
	case <-ctx.Done():
		t.Fatal("no lease within 30 s")
	}
	if want := netip.MustParsePrefix("192.0.2.100/24"); lease.Address != want {
		t.Errorf("lease address %v, want %v", lease.Address, want)
	}
	if lease.Router != netip.MustParseAddr("192.0.2.1") || lease.Duration != 2*time.Minute {
		t.Errorf("lease router %v time %v, want 192.0.2.1 and 2m", lease.Router, lease.Duration)
	}
	// Between requests and renewals no packet socket is left on the
	// uplink: one would copy every packet the gateway receives (all of
	// the ESP traffic) into the gateway process.
	var sockets []byte
	if err := netnstest.In(client, func() (err error) {
		sockets, err = os.ReadFile("/proc/net/packet")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(string(sockets)), "\n"); len(lines) > 1 {
		t.Errorf("packet sockets left open in the client's namespace after the lease:\n%s", sockets)
	}
	var routes []netlink.Route
	if err := netnstest.In(client, func() error {
		link, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		routes, err = netlink.RouteList(link, netlink.FAMILY_V4)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var def bool
	for _, r := range routes {
		if (r.Dst == nil || r.Dst.String() == "0.0.0.0/0") && r.Gw.String() == "192.0.2.1" {
			def = true
		}
	}
	if !def {
		t.Errorf("no default route via 192.0.2.1 on eth0: %v", routes)
	}
}

func TestSetAddressMovesTheAddress(t *testing.T) {
	l := netnstest.NewLab(t, "netconf")
	ns := l.Netns("addr")
	l.Run("ip", "-n", ns, "link", "add", "eth1", "type", "veth", "peer", "name", "peer1")
	var got []string
	if err := netnstest.In(ns, func() error {
		if err := SetAddress("eth1", netip.MustParsePrefix("10.0.1.3/24")); err != nil {
			return err
		}
		link, err := netlink.LinkByName("eth1")
		if err != nil {
			return err
		}
		if err := netlink.AddrAdd(link, &netlink.Addr{IPNet: prefixIPNet(netip.MustParsePrefix("10.0.1.200/24"))}); err != nil {
			return err
		}
		if err := SetAddress("eth1", netip.MustParsePrefix("10.0.1.2/24"), netip.MustParseAddr("10.0.1.200")); err != nil {
			return err
		}
		addrs, err := netlink.AddrList(link, netlink.FAMILY_V4)
		for _, a := range addrs {
			got = append(got, a.IPNet.String())
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	if strings.Join(got, " ") != "10.0.1.2/24 10.0.1.200/24" {
		t.Errorf("eth1 has %v, want the new address and the kept VIP only", got)
	}
}
