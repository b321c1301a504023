package netconf

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

func ip(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// enterNetns creates a namespace and moves the calling goroutine's thread
// into it for the rest of the test; the namespace is deleted at cleanup.
func newNetns(t *testing.T, name string) string {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("needs root for network namespaces")
	}
	ns := fmt.Sprintf("tgnetconf-%d-%s", os.Getpid(), name)
	ip(t, "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	return ns
}

func inNetns(t *testing.T, ns string, f func()) {
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
	defer netns.Set(orig)
	f()
}

func TestDHCPConfiguresAddressAndDefaultRoute(t *testing.T) {
	client := newNetns(t, "client")
	server := newNetns(t, "server")
	ip(t, "-n", client, "link", "add", "eth0", "type", "veth", "peer", "name", "srv0", "netns", server)
	ip(t, "-n", server, "addr", "add", "192.0.2.1/24", "dev", "srv0")
	ip(t, "-n", server, "link", "set", "srv0", "up")
	dir := t.TempDir()
	dnsmasq := exec.Command("ip", "netns", "exec", server, "dnsmasq", "--keep-in-foreground",
		"--conf-file=/dev/null", "--port=0", "--user=root", "--group=root", "--interface=srv0", "--bind-interfaces",
		"--dhcp-range=192.0.2.100,192.0.2.100,255.255.255.0,2m", "--dhcp-option=option:router,192.0.2.1",
		"--dhcp-leasefile="+filepath.Join(dir, "leases"), "--pid-file="+filepath.Join(dir, "pid"))
	dnsmasq.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := dnsmasq.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dnsmasq.Process.Kill(); dnsmasq.Wait() })

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	leases := make(chan Lease, 1)
	go func() {
		// DHCP runs on its own goroutine, which must enter the namespace
		// itself: a namespace belongs to a thread.
		runtime.LockOSThread()
		h, err := netns.GetFromName(client)
		if err != nil || netns.Set(h) != nil {
			return // the thread is not reused: LockOSThread without Unlock
		}
		DHCP(ctx, "eth0", slog.New(slog.NewTextHandler(os.Stderr, nil)), leases)
	}()
	inNetns(t, client, func() {
		var l Lease
		select {
		case l = <-leases:
		case <-ctx.Done():
			t.Fatal("no lease within 30 s")
		}
		if want := netip.MustParsePrefix("192.0.2.100/24"); l.Address != want {
			t.Errorf("lease address %v, want %v", l.Address, want)
		}
		if l.Router != netip.MustParseAddr("192.0.2.1") || l.Duration != 2*time.Minute {
			t.Errorf("lease router %v time %v, want 192.0.2.1 and 2m", l.Router, l.Duration)
		}
		link, err := netlink.LinkByName("eth0")
		if err != nil {
			t.Fatal(err)
		}
		routes, err := netlink.RouteList(link, netlink.FAMILY_V4)
		if err != nil {
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
	})
}

func TestSetAddressMovesTheAddress(t *testing.T) {
	ns := newNetns(t, "addr")
	ip(t, "-n", ns, "link", "add", "eth1", "type", "veth", "peer", "name", "peer1")
	inNetns(t, ns, func() {
		vip := netip.MustParseAddr("10.0.1.200")
		if err := SetAddress("eth1", netip.MustParsePrefix("10.0.1.3/24")); err != nil {
			t.Fatal(err)
		}
		link, _ := netlink.LinkByName("eth1")
		netlink.AddrAdd(link, &netlink.Addr{IPNet: prefixIPNet(netip.MustParsePrefix("10.0.1.200/24"))})
		if err := SetAddress("eth1", netip.MustParsePrefix("10.0.1.2/24"), vip); err != nil {
			t.Fatal(err)
		}
		addrs, _ := netlink.AddrList(link, netlink.FAMILY_V4)
		var got []string
		for _, a := range addrs {
			got = append(got, a.IPNet.String())
		}
		sort.Strings(got)
		if strings.Join(got, " ") != "10.0.1.2/24 10.0.1.200/24" {
			t.Errorf("eth1 has %v, want the new address and the kept VIP only", got)
		}
	})
}
