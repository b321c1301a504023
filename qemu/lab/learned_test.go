package lab

import (
	"net/netip"
	"regexp"
	"testing"
	"time"

	"github.com/tidegate/tidegate/services/status"
)

// TestLearnedPeer runs the pair from a site YAML without vlan_address:
// each gateway takes its own VLAN address from the Metadata Service
// (ipam_address) and cannot know its peer's, so it accepts iBGP from the
// VLAN prefix and learns the peer's address from its VRRP adverts. The
// pair must come up with iBGP on both sides, and a crash of the master
// must still fail over within VRRP's takeover + 0.5 s.
func TestLearnedPeer(t *testing.T) {
	site, err := LabSite()
	if err != nil {
		t.Fatal(err)
	}
	site = regexp.MustCompile(`(?m)^\s+vlan_address: .*\n`).ReplaceAll(site, nil)
	l, ctx := startLab(t, Options{SiteYAML: site}, 6*time.Minute)
	for _, g := range l.Site.Gateways {
		if g.VLANAddress.IsValid() {
			t.Fatalf("the site still gives %s a vlan_address", g.Name)
		}
	}

	if _, err := l.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, l, "VIP, first hop and AWS's best path on vpn-gw-1", func(s State) bool {
		return s.VIPOwner == "vpn-gw-1" && s.FirstHop == "vpn-gw-1" && s.BestVia == "vpn-gw-1"
	})
	// iBGP up on both, each with the other's (learned or accepted) address.
	waitUntil(ctx, t, "iBGP established on both gateways", func() bool {
		for i, g := range l.Gateways {
			peer := l.Gateways[1-i].VLAN.Addr()
			d, _, err := l.GatewayStatus(ctx, g)
			if err != nil || d.BGP == nil {
				return false
			}
			up := false
			for _, p := range d.BGP.Peers {
				if a, err := netip.ParseAddr(p.Address); err == nil && a == peer && p.State == "established" {
					up = true
				}
			}
			if !up {
				return false
			}
		}
		return true
	})
	// A master that came up by its master-down timer holds the return
	// path until it hears its peer back (failover.go); the crash below is
	// of a settled pair, so wait until neither holds.
	for _, g := range l.Gateways {
		waitStatus(ctx, t, l, g, "no return path held", func(d *status.Document) bool {
			return d.BGP != nil && d.BGP.ReturnPath == nil
		})
	}
	t.Logf("\n%s", l.GatewayTable(ctx))

	p := pinging(ctx, t, l, 50)
	start := time.Now()
	l.Gateway("vpn-gw-1").VM.Kill()
	if err := p.WaitReplies(ctx, 200); err != nil {
		t.Fatal(err)
	}
	gap, _ := p.LongestGap(start)
	s := waitFor(ctx, t, l, "VIP on vpn-gw-2 and AWS has its more-specifics", func(s State) bool {
		return s.VIPOwner == "vpn-gw-2" && s.MoreSpecifics >= 2
	})
	t.Logf("gw-1 killed, peers learned: longest gap %.2f s\n%s", gap.Seconds(), s.Table())
	if gap > 4500*time.Millisecond {
		t.Errorf("traffic gap %v after the master died, want under 4.5 s (VRRP takeover + 0.5 s)", gap)
	}
}
