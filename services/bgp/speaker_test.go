package bgp

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/tidegate/tidegate/services/internal/frrtest"
)

// The reference topology, on documentation and link-local addresses:
//
//	gw (this speaker, AS 65000)  t1 169.254.10.2/30 --- .1  aws (FRR, AS 64512)
//	                             t2 169.254.11.2/30 --- .1
//	vlan 10.0.1.2/24 --- 10.0.1.3 peer (FRR with the seed's config, AS 65000)
//	                              169.254.20.2/30 --- .1  aws
//
// aws announces the "VPC" 198.51.100.0/24 on all three sessions; gw and
// peer both announce the VLAN 10.0.1.0/24.
const (
	vpc  = "198.51.100.0/24"
	vlan = "10.0.1.0/24"
)

const awsConf = `router bgp 64512
 bgp router-id 169.254.10.1
 no bgp ebgp-requires-policy
 no bgp network import-check
 timers bgp 10 30
 neighbor 169.254.10.2 remote-as 65000
 neighbor 169.254.11.2 remote-as 65000
 neighbor 169.254.20.2 remote-as 65000
 neighbor 169.254.10.2 timers connect 1
 neighbor 169.254.11.2 timers connect 1
 neighbor 169.254.20.2 timers connect 1
 address-family ipv4 unicast
  network 198.51.100.0/24
 exit-address-family
`

// peerConf is the seed's gw-2 (vpn-gw-2) configuration: its own AWS
// session and, verbatim, the seed's iBGP neighbour.
const peerConf = `router bgp 65000
 bgp router-id 10.0.1.3
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor 169.254.20.1 remote-as 64512
 neighbor 169.254.20.1 timers connect 1
 neighbor 10.0.1.2 remote-as 65000
 neighbor 10.0.1.2 timers connect 1
 !
 address-family ipv4 unicast
  network 10.0.1.0/24
  neighbor 10.0.1.2 soft-reconfiguration inbound
  neighbor 10.0.1.2 next-hop-self
 exit-address-family
`

type topo struct {
	*lab
	gw, aws, peer string
	awsFRR        *frrtest.FRR
	peerFRR       *frrtest.FRR
}

func newTopo(t *testing.T) *topo { return newTopoNamed(t, "") }

// newTopoNamed prefixes the namespace names with tag, so that tests using
// the topology can run in parallel.
func newTopoNamed(t *testing.T, tag string) *topo {
	l := newLab(t)
	tp := &topo{lab: l, gw: l.Netns(tag + "gw"), aws: l.Netns(tag + "aws"), peer: l.Netns(tag + "peer")}
	l.Wire(tp.gw, "t1", "169.254.10.2/30", tp.aws, "t1", "169.254.10.1/30")
	l.Wire(tp.gw, "t2", "169.254.11.2/30", tp.aws, "t2", "169.254.11.1/30")
	l.Wire(tp.peer, "t3", "169.254.20.2/30", tp.aws, "t3", "169.254.20.1/30")
	l.Wire(tp.gw, "vlan", "10.0.1.2/24", tp.peer, "vlan", "10.0.1.3/24")
	tp.awsFRR = frrtest.Start(t, tp.aws, "aws", awsConf)
	tp.peerFRR = frrtest.Start(t, tp.peer, "peer", peerConf)
	return tp
}

func gwSpec() speakerSpec {
	return speakerSpec{Config: Config{
		RouterID:  netip.MustParseAddr("10.0.1.2"),
		ASN:       65000,
		Advertise: []netip.Prefix{netip.MustParsePrefix(vlan)},
		Tunnels: []Tunnel{
			{Name: "t1", Local: netip.MustParseAddr("169.254.10.2"), Remote: netip.MustParseAddr("169.254.10.1"), Device: "t1", MED: 100},
			{Name: "t2", Local: netip.MustParseAddr("169.254.11.2"), Remote: netip.MustParseAddr("169.254.11.1"), MED: 200},
		},
		BackupPrepend:     2,
		IBGPPeer:          netip.MustParseAddr("10.0.1.3"),
		VLANDevice:        "vlan",
		StartupGrace:      2 * time.Second,
		ReconcileInterval: 2 * time.Second,
	}}
}

// routeVia waits until the gateway's kernel routes prefix exactly via
// want ("gw@dev,..."; "" = no route), and checks there is one such route.
func (tp *topo) routeVia(t *testing.T, prefix, want string, timeout time.Duration) {
	t.Helper()
	frrtest.Eventually(t, timeout, fmt.Sprintf("kernel route %s via %q", prefix, want), func() error {
		var got []string
		for _, r := range tp.routes(tp.gw) {
			if r.Dst == prefix {
				if r.Metric != defaultRouteMetric {
					return fmt.Errorf("metric %d", r.Metric)
				}
				got = append(got, r.via())
			}
		}
		if want == "" && len(got) == 0 {
			return nil
		}
		if len(got) == 1 && got[0] == want {
			return nil
		}
		return fmt.Errorf("have %q", got)
	})
}

// peerSeesVPCViaUs waits until the iBGP peer's FRR has AWS's VPC route from
// us (10.0.1.2) with us as its next hop: next-hop-self toward the peer.
func (tp *topo) peerSeesVPCViaUs(t *testing.T) {
	t.Helper()
	frrtest.Eventually(t, 15*time.Second, "peer sees VPC via us", func() error {
		paths, _, err := tp.peerFRR.Paths(vpc)
		if err != nil {
			return err
		}
		p, ok := paths["10.0.1.2"]
		if !ok || len(p.Nexthops) == 0 || p.Nexthops[0].IP != "10.0.1.2" {
			return fmt.Errorf("path from 10.0.1.2: %+v", p)
		}
		return nil
	})
}

// peerOriginates makes the iBGP peer's FRR announce a prefix of its own
// (192.0.2.0/24, returned) and a half of our VLAN, which we must never
// install.
func (tp *topo) peerOriginates(t *testing.T) string {
	t.Helper()
	if _, err := tp.peerFRR.Vtysh("configure terminal", "router bgp 65000", "address-family ipv4 unicast",
		"network 192.0.2.0/24", "network 10.0.1.128/25"); err != nil {
		t.Fatal(err)
	}
	return "192.0.2.0/24"
}

// awsSees waits until FRR "AWS" has our prefix from neighbour nbr with
// the given AS path and MED.
func (tp *topo) awsSees(t *testing.T, nbr, asPath string, med uint32) {
	t.Helper()
	frrtest.Eventually(t, 15*time.Second, fmt.Sprintf("AWS path from %s", nbr), func() error {
		paths, _, err := tp.awsFRR.Paths(vlan)
		if err != nil {
			return err
		}
		p, ok := paths[nbr]
		if !ok {
			return fmt.Errorf("no path from %s in %+v", nbr, paths)
		}
		if p.ASPath.String != asPath || p.Med != med {
			return fmt.Errorf("path from %s: as-path %q med %d", nbr, p.ASPath.String, p.Med)
		}
		return nil
	})
}

func TestSpeakerWithFRR(t *testing.T) {
	top := t
	tp := newTopo(t)
	sp := startSpeaker(t, tp.gw, gwSpec())

	// Slice 1: eBGP to AWS, the VPC in the kernel, our prefix at AWS.
	sp.established(40*time.Second, "t1", "t2", "ibgp")
	tp.routeVia(t, vpc, "169.254.10.1@t1", 10*time.Second) // MED: first tunnel preferred
	// Starting as backup: prepended twice, MED by tunnel order.
	tp.awsSees(t, "169.254.10.2", "65000 65000 65000", 100)
	tp.awsSees(t, "169.254.11.2", "65000 65000 65000", 200)
	if got := sp.lastAWS(); got != 1 {
		t.Errorf("AWS paths reported %d, want 1", got)
	}

	t.Run("master drops the prepend", func(t *testing.T) {
		sp.send("master")
		tp.awsSees(t, "169.254.10.2", "65000", 100)
		tp.awsSees(t, "169.254.11.2", "65000", 200)
		sp.send("backup")
		tp.awsSees(t, "169.254.10.2", "65000 65000 65000", 100)
		sp.send("master")
		tp.awsSees(t, "169.254.10.2", "65000", 100)
	})

	t.Run("iBGP next-hop-self both ways", func(t *testing.T) {
		// FRR (seed config) got AWS's route from us with our VLAN address
		// as next hop, not AWS's tunnel address.
		tp.peerSeesVPCViaUs(t)
		// Our iBGP path from FRR has FRR's VLAN address: seen once our
		// tunnels are down (below), and counted here.
		frrtest.Eventually(t, 10*time.Second, "iBGP prefixes counted", func() error {
			st := sp.Status()
			i := slices.IndexFunc(st.Peers, func(p PeerStatus) bool { return p.Name == "ibgp" })
			if i < 0 || st.Peers[i].Accepted < 1 || st.Peers[i].Advertised < 2 {
				return fmt.Errorf("iBGP peer status %+v, want accepted >= 1 and advertised >= 2", st.Peers)
			}
			return nil
		})
	})

	t.Run("tunnel down withdraws at once", func(t *testing.T) {
		start := time.Now()
		sp.send("down t1")
		tp.routeVia(t, vpc, "169.254.11.1@t2", 3*time.Second)
		t.Logf("switched to the second tunnel in %v", time.Since(start).Round(time.Millisecond))
		sp.send("down t2")
		// Only the peer's path is left: via FRR's VLAN address (its
		// next-hop-self), on the VLAN device.
		tp.routeVia(t, vpc, "10.0.1.3@vlan", 3*time.Second)
		frrtest.Eventually(t, 3*time.Second, "AWS paths 0", func() error {
			if n := sp.lastAWS(); n != 0 {
				return fmt.Errorf("AWS paths %d", n)
			}
			return nil
		})
		st := sp.Status()
		if !st.Peers[0].AdminDown || st.Peers[0].State == "established" {
			t.Errorf("t1 after TunnelDown: %+v", st.Peers[0])
		}
		start = time.Now()
		sp.send("up t1")
		sp.send("up t2")
		tp.routeVia(t, vpc, "169.254.10.1@t1", 20*time.Second)
		t.Logf("back on the first tunnel %v after TunnelUp", time.Since(start).Round(time.Millisecond))
	})

	t.Run("peer loss", func(t *testing.T) {
		// AWS closes tunnel 1's session (a NOTIFICATION): its route
		// leaves at once and the second tunnel takes over.
		tp.awsFRR.Shutdown(t, 64512, "169.254.10.2", true)
		tp.routeVia(t, vpc, "169.254.11.1@t2", 3*time.Second)
		tp.awsFRR.Shutdown(t, 64512, "169.254.10.2", false)
		tp.routeVia(t, vpc, "169.254.10.1@t1", 20*time.Second)
	})

	t.Run("restart reconciles", func(t *testing.T) {
		sp.kill() // a crash: our routes stay behind
		tp.routeVia(t, vpc, "169.254.10.1@t1", time.Second)
		// A route the dead process had installed that nobody announces
		// any more, and routes that are not ours.
		tp.Run("ip", "-n", tp.gw, "route", "add", "203.0.113.0/24", "via", "169.254.10.1", "proto", "bgp", "metric", "20")
		tp.Run("ip", "-n", tp.gw, "route", "add", "203.0.113.128/25", "via", "169.254.10.1", "proto", "bgp", "metric", "30")
		tp.Run("ip", "-n", tp.gw, "route", "add", "192.0.2.0/24", "via", "169.254.11.1", "proto", "static")

		// Restarted with equal MEDs: ECMP over both tunnels.
		spec := gwSpec()
		spec.Tunnels[0].MED, spec.Tunnels[1].MED = 100, 100
		sp = startSpeaker(top, tp.gw, spec) // outlives this subtest
		sp.established(40*time.Second, "t1", "t2")
		tp.routeVia(t, vpc, "169.254.10.1@t1,169.254.11.1@t2", 15*time.Second)
		tp.routeVia(t, "203.0.113.0/24", "", 10*time.Second)
		tp.routeVia(t, vlan, "", time.Second) // our own prefix is never routed by us
		out := tp.Run("ip", "-n", tp.gw, "route", "show", "203.0.113.128/25")
		out += tp.Run("ip", "-n", tp.gw, "route", "show", "192.0.2.0/24")
		if want := 2; len(slices.DeleteFunc(splitLines(out), func(s string) bool { return s == "" })) != want {
			t.Errorf("routes not ours were touched:\n%s", out)
		}

		// ECMP: losing one tunnel leaves the other.
		sp.send("down t2")
		tp.routeVia(t, vpc, "169.254.10.1@t1", 3*time.Second)
		sp.send("up t2")
	})

	t.Run("clean stop removes our routes", func(t *testing.T) {
		sp.stop()
		tp.routeVia(t, vpc, "", time.Second)
		for _, r := range tp.routes(tp.gw) {
			if r.Metric == defaultRouteMetric {
				t.Errorf("left behind: %+v", r)
			}
		}
	})
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := range len(s) {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
