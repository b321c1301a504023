package gateway

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidegate/tidegate/services/firewall"
)

// TestFirewallFailsClosed: while the packet filter cannot be installed
// the gateway goes no further, and says why in its status; it goes on
// once the install succeeds.
func TestFirewallFailsClosed(t *testing.T) {
	defer func(d time.Duration) { firewallRetry = d }(firewallRetry)
	firewallRetry = 20 * time.Millisecond
	g := New(Options{Log: discard})
	var ok atomic.Bool
	var tries atomic.Int32
	g.installFW = func(firewall.Config) error {
		tries.Add(1)
		if ok.Load() {
			return nil
		}
		return errors.New("firewall: installing nftables table tidegate: operation not permitted")
	}
	done := make(chan error, 1)
	go func() { done <- g.installFirewall(context.Background(), bootFirewall(ApplianceOptions("")), "boot") }()

	deadline := time.Now().Add(5 * time.Second)
	for tries.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("installFirewall returned %v while the install fails", err)
	default:
	}
	st := g.Status()
	if st.Phase != PhaseFailed || !strings.Contains(st.Error, "operation not permitted") || !strings.Contains(st.Error, "no tunnel, BGP or TCP listener") {
		t.Errorf("status while failing: phase %q error %q", st.Phase, st.Error)
	}
	ok.Store(true)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("installFirewall did not return once the install succeeded")
	}
	if st := g.Status(); st.Phase != PhaseConfiguring || st.Error != "" {
		t.Errorf("status after the install: phase %q error %q", st.Phase, st.Error)
	}

	// A stop while it waits is a stop.
	ok.Store(false)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- g.installFirewall(ctx, bootFirewall(ApplianceOptions("")), "boot") }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestFirewallFollowsTheLearnedPeer: without the peer's vlan_address, BGP
// is open to the VLAN until the peer is learned, then to it alone.
func TestFirewallFollowsTheLearnedPeer(t *testing.T) {
	role := testRole(t, "vpn-gw-1", "    vlan_address: 10.0.1.3/24\n", "")
	o := Options{RunDir: t.TempDir(), Log: discard, Firewall: true}
	o.defaults()
	if fw := role.Configs(o).Firewall; fw == nil || fw.Peer.IsValid() || fw.VLANPrefix.String() != "10.0.1.0/24" {
		t.Fatalf("before learning: %+v", fw)
	}
	var got []firewall.Config
	svcs, err := newServices(o, role, discard, func(c firewall.Config) error { got = append(got, c); return nil })
	if err != nil {
		t.Fatal(err)
	}
	peer := netip.MustParseAddr("10.0.1.3")
	if err := svcs.w.learn.set(peer); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Peer != peer || len(got[0].Tunnels) != 2 || got[0].Uplink != "eth0" {
		t.Errorf("firewall after learning %v: %+v", peer, got)
	}
}
