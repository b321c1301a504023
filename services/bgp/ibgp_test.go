package bgp

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tidegate/tidegate/internal/testlog"
	"github.com/tidegate/tidegate/services/internal/frrtest"
)

func TestSetIBGPPeer(t *testing.T) {
	ranged := rangedConfig()
	tests := []struct {
		name string
		c    Config
		addr string
		want string // in the error; "" for none
	}{
		{"in the range", ranged, "10.0.1.3", ""},
		{"configured peer", validConfig(), "10.0.1.3", "configured already"},
		{"outside", ranged, "10.0.2.3", "outside the iBGP range"},
		{"ourselves", ranged, "10.0.1.2", "our own router ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.c)
			if err != nil {
				t.Fatal(err)
			}
			err = s.SetIBGPPeer(netip.MustParseAddr(tt.addr))
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("SetIBGPPeer(%s) = %v, want %q", tt.addr, err, tt.want)
			}
		})
	}
	noRange := validConfig()
	noRange.IBGPPeer = netip.Addr{}
	s, err := New(noRange)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetIBGPPeer(netip.MustParseAddr("10.0.1.3")); err == nil || !strings.Contains(err.Error(), "no iBGP range") {
		t.Errorf("without a range: %v", err)
	}
}

// ibgpRow returns the speaker's "ibgp" peer row.
func ibgpRow(st Status) (PeerStatus, error) {
	for _, p := range st.Peers {
		if p.Name == "ibgp" {
			return p, nil
		}
	}
	return PeerStatus{}, fmt.Errorf("no ibgp row in %+v", st.Peers)
}

// ibgpUp waits until the speaker's iBGP session to addr is established.
func ibgpUp(t *testing.T, sp *speakerProc, addr string, timeout time.Duration) PeerStatus {
	t.Helper()
	var row PeerStatus
	frrtest.Eventually(t, timeout, "iBGP established with "+addr, func() error {
		var err error
		if row, err = ibgpRow(sp.Status()); err != nil {
			return err
		}
		if row.Address != addr || row.State != "established" {
			return fmt.Errorf("ibgp %+v", row)
		}
		return nil
	})
	return row
}

// TestRangeWithFRR: the peer is FRR configured exactly as the seed's
// gw-2, and our speaker does not know its address, only the VLAN prefix.
// FRR connects; everything iBGP does works on that session as on a
// configured one.
func TestRangeWithFRR(t *testing.T) {
	t.Parallel()
	tp := newTopoNamed(t, "rg")
	spec := gwSpec()
	spec.IBGPPeer, spec.IBGPRange = netip.Addr{}, netip.MustParsePrefix(vlan)
	sp := startSpeaker(t, tp.gw, spec)
	sp.established(40*time.Second, "t1", "t2")
	ibgpUp(t, sp, "10.0.1.3", 40*time.Second)
	tp.routeVia(t, vpc, "169.254.10.1@t1", 10*time.Second) // our tunnels beat the peer's path (LOCAL_PREF)

	// Next-hop-self toward FRR.
	tp.peerSeesVPCViaUs(t)
	// The halves stay away from the peer.
	sp.send("hold on")
	held := want(map[string]frrtest.Path{"169.254.10.2": path("65000", 100), "169.254.11.2": path("65000", 200)})
	for _, h := range halves {
		awsPathsFor(t, tp.awsFRR, h, 5*time.Second, "held", held)
		awsPathsFor(t, tp.peerFRR, h, time.Second, "not at the iBGP peer", want(nil))
	}
	sp.send("hold off")

	// FRR's own routes and next-hop-self toward us, over the VLAN device;
	// its half of our VLAN is rejected.
	doc := tp.peerOriginates(t)
	tp.routeVia(t, doc, "10.0.1.3@vlan", 10*time.Second)
	tp.routeVia(t, "10.0.1.128/25", "", time.Second)
	sp.send("down t1")
	sp.send("down t2")
	tp.routeVia(t, vpc, "10.0.1.3@vlan", 5*time.Second) // FRR's next-hop-self
	sp.send("up t1")
	sp.send("up t2")
	tp.routeVia(t, vpc, "169.254.10.1@t1", 20*time.Second)
	if st := sp.Status(); st.PeerAWSPaths != 1 {
		t.Errorf("peer AWS paths %d, want 1", st.PeerAWSPaths)
	}

	t.Run("peer gone and back", func(t *testing.T) {
		sp.send("gone on")
		tp.routeVia(t, doc, "", time.Second)
		if _, err := tp.peerFRR.Vtysh("configure terminal", "router bgp 65000", "address-family ipv4 unicast", "network 203.0.113.0/24"); err != nil {
			t.Fatal(err)
		}
		frrtest.Eventually(t, 5*time.Second, "peer back", func() error {
			if st := sp.Status(); !st.PeerBack {
				return fmt.Errorf("not back: %+v", st.Peers)
			}
			return nil
		})
		tp.routeVia(t, "203.0.113.0/24", "", time.Second)
		sp.send("gone off")
		tp.routeVia(t, doc, "10.0.1.3@vlan", time.Second)
		tp.routeVia(t, "203.0.113.0/24", "10.0.1.3@vlan", time.Second)
	})

	t.Run("the peer reconnects", func(t *testing.T) {
		// A closed session removes GoBGP's dynamic neighbour; the peer's
		// next connection is accepted as the first was.
		tp.peerFRR.Shutdown(t, 65000, "10.0.1.2", true)
		tp.routeVia(t, doc, "", 5*time.Second)
		tp.peerFRR.Shutdown(t, 65000, "10.0.1.2", false)
		ibgpUp(t, sp, "10.0.1.3", 20*time.Second)
		tp.routeVia(t, doc, "10.0.1.3@vlan", 10*time.Second)
	})
}

// TestLearnedPeer: two tidegate speakers on a VLAN, neither configured
// with the other's address. Nothing comes up until one learns the other's
// address (SetIBGPPeer), and then the session does, routes both ways.
func TestLearnedPeer(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	a, b := l.Netns("lpa"), l.Netns("lpb")
	l.Wire(a, "vlan", "10.0.1.2/24", b, "vlan", "10.0.1.3/24")
	spec := func(id, adv string) speakerSpec {
		return speakerSpec{Config: Config{
			RouterID:     netip.MustParseAddr(id),
			ASN:          65000,
			Advertise:    []netip.Prefix{netip.MustParsePrefix(adv)},
			IBGPRange:    netip.MustParsePrefix(vlan),
			VLANDevice:   "vlan",
			StartupGrace: 2 * time.Second,
		}}
	}
	specA, specB := spec("10.0.1.2", "192.0.2.0/24"), spec("10.0.1.3", "203.0.113.0/24")
	spA, spB := startSpeaker(t, a, specA), startSpeaker(t, b, specB)
	routeVia := func(ns, prefix, want string) {
		t.Helper()
		frrtest.Eventually(t, 10*time.Second, fmt.Sprintf("%s: route %s via %q", ns, prefix, want), func() error {
			for _, r := range l.routes(ns) {
				if r.Dst == prefix && r.via() == want {
					return nil
				}
			}
			return fmt.Errorf("routes %+v", l.routes(ns))
		})
	}

	time.Sleep(2 * time.Second)
	for _, sp := range []*speakerProc{spA, spB} {
		if row, err := ibgpRow(sp.Status()); err != nil || row.State != "active" || row.Address != vlan {
			t.Errorf("before anything is learned: %+v %v, want waiting on %s", row, err, vlan)
		}
	}

	start := time.Now()
	spB.send("peer 10.0.1.2")
	ibgpUp(t, spB, "10.0.1.2", 15*time.Second)
	rowA := ibgpUp(t, spA, "10.0.1.3", 5*time.Second)
	t.Logf("iBGP established %v after SetIBGPPeer", time.Since(start).Round(time.Millisecond))
	routeVia(a, "203.0.113.0/24", "10.0.1.3@vlan")
	routeVia(b, "192.0.2.0/24", "10.0.1.2@vlan")

	// A learns B while B's session to A is up: it keeps that session
	// (no flap) ...
	spA.send("peer 10.0.1.3")
	time.Sleep(2 * time.Second)
	if row := ibgpUp(t, spA, "10.0.1.3", time.Second); row.Uptime < rowA.Uptime {
		t.Errorf("A's session was reset: uptime %v, before %v", row.Uptime, rowA.Uptime)
	}
	// ... and connects itself once that session ends: B restarted
	// without knowing A is reached again.
	spB.stop()
	spB = startSpeaker(t, b, specB)
	ibgpUp(t, spA, "10.0.1.3", 20*time.Second)
	ibgpUp(t, spB, "10.0.1.2", 5*time.Second)
	routeVia(b, "192.0.2.0/24", "10.0.1.2@vlan")
	if log, _ := os.ReadFile(spA.log.Name()); !strings.Contains(string(log), "bgp iBGP peer configured") {
		t.Errorf("A did not configure the learned peer:\n%s", testlog.Tail(log, 30))
	}

	// Both configured with the other: B crashes, restarts and learns A
	// again at once. A's neighbour, idle after the lost session, must not
	// refuse B until the two lock in step (see tendIBGPPeer).
	spB.kill()
	spB = startSpeaker(t, b, specB)
	spB.send("peer 10.0.1.2")
	start = time.Now()
	// Within GoBGP's 5 s idle time: A renewed its neighbour at once.
	ibgpUp(t, spB, "10.0.1.2", 5*time.Second)
	ibgpUp(t, spA, "10.0.1.3", 5*time.Second)
	t.Logf("both configured: iBGP back %v after B's restart", time.Since(start).Round(time.Millisecond))
}
