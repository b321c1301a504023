package lab

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestMixedPair is scenario 7: gw-2 runs the seed article's own stack
// (Keepalived with the article's keepalived.conf, FRR with its iBGP,
// strongSwan) next to a tidegate gw-1, both from the same site YAML
// (configs/examples/seed-keepalived-v2.yaml: VRRP version 2 with PASS
// authentication, as keepalived has it). The pair must work and fail over
// both ways.
func TestMixedPair(t *testing.T) {
	site, err := LabSiteFrom("seed-keepalived-v2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	l, ctx := startLab(t, Options{SiteYAML: site, SeedStack: []string{"vpn-gw-2"}}, 10*time.Minute)
	gw1, gw2 := l.Gateway("vpn-gw-1"), l.Gateway("vpn-gw-2")
	seedShell := func(cmd string) string {
		t.Helper()
		c, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		out, err := gw2.Seed.ShellOK(c, cmd)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	t.Run("7 ready", func(t *testing.T) {
		s, err := l.WaitReady(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s.ChildSAs != 4 || s.BGPUp != 4 {
			t.Errorf("AWS has %d CHILD_SAs and %d BGP sessions, want 4 and 4", s.ChildSAs, s.BGPUp)
		}
		s = waitFor(ctx, t, l, "VIP and first hop on vpn-gw-1 (tidegate, priority 100)", func(s State) bool {
			return s.VIPOwner == "vpn-gw-1" && s.FirstHop == "vpn-gw-1" && s.VPCReach
		})
		t.Logf("mixed pair ready %.1f s after the lab started\n%s", time.Since(l.Started).Seconds(), s.Table())
		// Keepalived agrees that it is backup: the VIP is not on its eth1.
		if out := seedShell("ip -4 addr show dev eth1"); strings.Contains(out, l.Site.VLAN.VirtualIP.String()+"/") {
			t.Errorf("the seed stack holds the VIP while tidegate is master:\n%s", out)
		}
		// iBGP between tidegate and the article's FRR, seen from both ends.
		waitUntil(ctx, t, "iBGP established on the seed stack's FRR", func() bool {
			return strings.Contains(seedShell("vtysh -c 'show bgp neighbors "+gw1.VLAN.Addr().String()+" json'"), `"bgpState":"Established"`)
		})
		d, _, err := l.GatewayStatus(ctx, gw1)
		if err != nil {
			t.Fatal(err)
		}
		ibgp := false
		for _, p := range d.BGP.Peers {
			if p.Address == gw2.VLAN.Addr().String() && p.State == "established" && p.Received > 0 {
				ibgp = true
			}
		}
		if !ibgp {
			t.Errorf("tidegate's iBGP session to the seed stack is not established with routes: %+v", d.BGP.Peers)
		}
	})
	if t.Failed() {
		return
	}

	t.Run("7 tidegate hands over to Keepalived and takes the VIP back", func(t *testing.T) {
		p := pinging(ctx, t, l, 100)
		start := time.Now()
		if err := l.ShutDown(ctx, gw1, 40*time.Second); err != nil {
			t.Fatal(err)
		}
		waitFor(ctx, t, l, "VIP on vpn-gw-2 (Keepalived)", func(s State) bool { return s.VIPOwner == "vpn-gw-2" })
		gapDown := gapUntil(ctx, t, p, start, 100)
		lostDown := p.Lost(start)
		if out := seedShell("ip -4 addr show dev eth1"); !strings.Contains(out, l.Site.VLAN.VirtualIP.String()+"/") {
			t.Errorf("Keepalived does not hold the VIP after tidegate's handover:\n%s", out)
		}
		back := time.Now()
		if err := l.BootGateway(gw1); err != nil {
			t.Fatal(err)
		}
		waitFor(ctx, t, l, "VIP back on vpn-gw-1 (tidegate preempts Keepalived)", func(s State) bool {
			return s.VIPOwner == "vpn-gw-1" && s.ChildSAs == 4 && s.BGPUp == 4
		})
		time.Sleep(2 * time.Second)
		gapBack, _ := p.LongestGap(back)
		t.Logf("tidegate -> Keepalived (planned): %d lost at 100/s, longest gap %v; Keepalived -> tidegate (preempt): longest gap %v",
			lostDown, gapDown, gapBack)
		if gapDown > time.Second || gapBack > time.Second {
			t.Errorf("handovers between tidegate and Keepalived stopped traffic for %v and %v, want well under a second", gapDown, gapBack)
		}
	})
	if t.Failed() {
		return
	}

	t.Run("7 tidegate crashes, Keepalived takes over", func(t *testing.T) {
		p := pinging(ctx, t, l, 50)
		before := l.State(ctx)
		start := time.Now()
		gw1.VM.Kill()
		waitFor(ctx, t, l, "VIP on vpn-gw-2 (Keepalived)", func(s State) bool { return s.VIPOwner == "vpn-gw-2" })
		gap := gapUntil(ctx, t, p, start, 200)
		// The survivor is the seed's stack, which cannot draw AWS's return
		// path: when AWS was sending to gw-1, replies stop until AWS's hold
		// timer drops gw-1's routes (30 s).
		t.Logf("tidegate gw-1 killed (AWS was sending to %s): longest gap %.2f s", before.BestVia, gap.Seconds())
		if gap > 45*time.Second {
			t.Errorf("traffic gap %v after tidegate died with Keepalived as the survivor", gap)
		}
	})
}

// waitUntil polls ok every second until it holds or ctx ends.
func waitUntil(ctx context.Context, t *testing.T, what string, ok func() bool) {
	t.Helper()
	start := time.Now()
	for !ok() {
		if ctx.Err() != nil {
			t.Fatalf("%s: not reached", what)
		}
		time.Sleep(time.Second)
	}
	t.Logf("%s after %.1f s", what, time.Since(start).Seconds())
}
