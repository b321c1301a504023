package bgp

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/tidegate/tidegate/internal/netnstest"
	"github.com/tidegate/tidegate/services/internal/frrtest"
)

// pfx parses prefixes, for the tables of the failover and sharing tests.
func pfx(ss ...string) []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range ss {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}

func TestReturnPathPrefixes(t *testing.T) {
	// n /24s from 10.1.0.0 on.
	many := func(n int) []netip.Prefix {
		var ps []netip.Prefix
		for i := range n {
			ps = append(ps, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 1, byte(i), 0}), 24))
		}
		return ps
	}
	tests := []struct {
		name          string
		advertise     []netip.Prefix
		halves, skips []netip.Prefix
		nHalves       int // when halves is not listed
	}{
		{name: "one /24", advertise: pfx("10.0.1.0/24"), halves: pfx("10.0.1.0/25", "10.0.1.128/25")},
		{name: "odd bit", advertise: pfx("10.0.0.0/15"), halves: pfx("10.0.0.0/16", "10.1.0.0/16")},
		{name: "/0", advertise: pfx("0.0.0.0/0"), halves: pfx("0.0.0.0/1", "128.0.0.0/1")},
		{name: "/31", advertise: pfx("192.0.2.4/31"), halves: pfx("192.0.2.4/32", "192.0.2.5/32")},
		{name: "a /32 has none", advertise: pfx("192.0.2.1/32", "10.0.1.0/24"), halves: pfx("10.0.1.0/25", "10.0.1.128/25"), skips: pfx("192.0.2.1/32")},
		{
			// The configured /25 is announced already; its own halves cover
			// it against the /25 of the dead peer.
			name:      "a half configured",
			advertise: pfx("10.0.1.0/24", "10.0.1.0/25"),
			halves:    pfx("10.0.1.128/25", "10.0.1.0/26", "10.0.1.64/26"),
		},
		{name: "33 prefixes fit", advertise: many(33), nHalves: 66},
		{name: "34 prefixes: the last gets none", advertise: many(34), nHalves: 66, skips: many(34)[33:]},
		{name: "50 prefixes", advertise: many(50), nHalves: 50, skips: many(50)[25:]},
		{name: "100 prefixes", advertise: many(100), skips: many(100)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			halves, skips := returnPathPrefixes(tt.advertise)
			if tt.halves != nil && !slices.Equal(halves, tt.halves) {
				t.Errorf("halves %v, want %v", halves, tt.halves)
			}
			if tt.halves == nil && len(halves) != tt.nHalves {
				t.Errorf("%d halves, want %d", len(halves), tt.nHalves)
			}
			if !slices.Equal(skips, tt.skips) {
				t.Errorf("skipped %v, want %v", skips, tt.skips)
			}
			if n := len(halves) + len(tt.advertise); n > MaxAdvertised {
				t.Errorf("%d prefixes in all, AWS accepts %d", n, MaxAdvertised)
			}
			for _, h := range halves {
				if h.Masked() != h {
					t.Errorf("half %v not masked", h)
				}
			}
		})
	}
}

// Every address of every configured prefix must have a covering half
// longer than the most specific configured prefix that covers it.
func TestReturnPathPrefixesCover(t *testing.T) {
	adv := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/22"),
		netip.MustParsePrefix("10.0.1.0/24"),
		netip.MustParsePrefix("10.0.1.128/25"),
		netip.MustParsePrefix("10.0.3.0/24"),
	}
	halves, _ := returnPathPrefixes(adv)
	longest := func(ps []netip.Prefix, a netip.Addr) int {
		best := -1
		for _, p := range ps {
			if p.Contains(a) && p.Bits() > best {
				best = p.Bits()
			}
		}
		return best
	}
	for i := range 4 * 256 {
		a := netip.AddrFrom4([4]byte{10, 0, byte(i / 256), byte(i)})
		if h, c := longest(halves, a), longest(adv, a); h <= c {
			t.Fatalf("%v: longest half /%d, longest configured /%d", a, h, c)
		}
	}
}

var halves = []string{"10.0.1.0/25", "10.0.1.128/25"}

// awsPathsFor waits until FRR's paths for prefix, keyed by neighbour,
// satisfy ok.
func awsPathsFor(t *testing.T, f *frrtest.FRR, prefix string, timeout time.Duration, what string, ok func(map[string]frrtest.Path) error) {
	t.Helper()
	frrtest.Eventually(t, timeout, fmt.Sprintf("%s: %s", prefix, what), func() error {
		paths, _, err := f.Paths(prefix)
		if err != nil {
			return err
		}
		return ok(paths)
	})
}

// want returns a check that the paths from the listed neighbours are
// exactly these (as-path, MED), and none from any other neighbour.
func want(exp map[string]frrtest.Path) func(map[string]frrtest.Path) error {
	return func(got map[string]frrtest.Path) error {
		for nbr, e := range exp {
			g, ok := got[nbr]
			if !ok {
				return fmt.Errorf("no path from %s (have %v)", nbr, slices.Collect(maps.Keys(got)))
			}
			if g.ASPath.String != e.ASPath.String || g.Med != e.Med {
				return fmt.Errorf("from %s: as-path %q med %d, want %q %d", nbr, g.ASPath.String, g.Med, e.ASPath.String, e.Med)
			}
		}
		for nbr := range got {
			if _, ok := exp[nbr]; !ok {
				return fmt.Errorf("unexpected path from %s", nbr)
			}
		}
		return nil
	}
}

func path(asPath string, med uint32) frrtest.Path {
	var p frrtest.Path
	p.ASPath.String, p.Med = asPath, med
	return p
}

// TestFailoverWithFRR: HoldReturnPath announces the halves to AWS only,
// never prepended, and PeerGone drops the iBGP peer's routes at once.
func TestFailoverWithFRR(t *testing.T) {
	t.Parallel()
	tp := newTopoNamed(t, "fo")
	sp := startSpeaker(t, tp.gw, gwSpec())
	sp.established(40*time.Second, "t1", "t2", "ibgp")
	const t1, t2 = "169.254.10.2", "169.254.11.2"
	backup24 := want(map[string]frrtest.Path{t1: path("65000 65000 65000", 100), t2: path("65000 65000 65000", 200)})
	master24 := want(map[string]frrtest.Path{t1: path("65000", 100), t2: path("65000", 200)})
	held := want(map[string]frrtest.Path{t1: path("65000", 100), t2: path("65000", 200)})
	none := want(nil)
	// The peer's own /24 is at AWS too (from 169.254.20.2), so vlan is
	// checked for our two sessions only.
	ours := func(check func(map[string]frrtest.Path) error) func(map[string]frrtest.Path) error {
		return func(m map[string]frrtest.Path) error {
			delete(m, "169.254.20.2")
			return check(m)
		}
	}
	awsPathsFor(t, tp.awsFRR, vlan, 15*time.Second, "backup", ours(backup24))
	// halvesAfter sends cmd and waits until AWS has both halves as check
	// wants, and logs how long that took.
	halvesAfter := func(t *testing.T, cmd, what string, check func(map[string]frrtest.Path) error) {
		t.Helper()
		start := time.Now()
		sp.send(cmd)
		for _, h := range halves {
			awsPathsFor(t, tp.awsFRR, h, 5*time.Second, what, check)
		}
		t.Logf("AWS had both halves %s %v after %q", what, time.Since(start).Round(time.Millisecond), cmd)
	}

	t.Run("hold the return path while backup", func(t *testing.T) {
		halvesAfter(t, "hold on", "held", held)
		// The /24 keeps the backup prepend; the halves reach neither
		// the iBGP peer (nor, through it, AWS) nor our kernel.
		awsPathsFor(t, tp.awsFRR, vlan, time.Second, "unchanged", ours(backup24))
		for _, h := range halves {
			awsPathsFor(t, tp.peerFRR, h, time.Second, "not at the iBGP peer", none)
			tp.routeVia(t, h, "", time.Second)
		}
		st := sp.Status()
		if !st.ReturnPathHeld || time.Since(st.ReturnPathSince) > time.Minute || len(st.ReturnPathPrefixes) != 2 {
			t.Errorf("status while held: held %v since %v prefixes %v", st.ReturnPathHeld, st.ReturnPathSince, st.ReturnPathPrefixes)
		}
		sp.send("hold on") // idempotent

		// A role change re-exports: the halves stay unprepended.
		sp.send("master")
		awsPathsFor(t, tp.awsFRR, vlan, 5*time.Second, "master", ours(master24))
		sp.send("backup")
		awsPathsFor(t, tp.awsFRR, vlan, 5*time.Second, "backup again", ours(backup24))
		for _, h := range halves {
			awsPathsFor(t, tp.awsFRR, h, time.Second, "held through role changes", held)
		}
	})

	t.Run("release the return path", func(t *testing.T) {
		halvesAfter(t, "hold off", "withdrawn", none)
		awsPathsFor(t, tp.awsFRR, vlan, time.Second, "unchanged", ours(backup24))
		st := sp.Status()
		if st.ReturnPathHeld || !st.ReturnPathSince.IsZero() || st.ReturnPathPrefixes != nil {
			t.Errorf("status after release: held %v since %v prefixes %v", st.ReturnPathHeld, st.ReturnPathSince, st.ReturnPathPrefixes)
		}
	})

	t.Run("peer gone", func(t *testing.T) {
		// The peer originates a prefix of its own, and a half of our VLAN
		// that we must never install.
		doc := tp.peerOriginates(t)
		tp.routeVia(t, doc, "10.0.1.3@vlan", 10*time.Second)
		tp.routeVia(t, "10.0.1.128/25", "", time.Second)
		st := sp.Status()
		if st.PeerGone || st.PeerBack || st.PeerAWSPaths != 1 {
			t.Errorf("before: gone %v back %v peer AWS paths %d, want false false 1", st.PeerGone, st.PeerBack, st.PeerAWSPaths)
		}

		start := time.Now()
		sp.send("gone on")
		tp.routeVia(t, doc, "", time.Second)
		t.Logf("the peer's route left the kernel %v after PeerGone(true)", time.Since(start).Round(time.Millisecond))
		tp.routeVia(t, vpc, "169.254.10.1@t1", time.Second) // our own paths untouched
		st = sp.Status()
		ib := st.Peers[len(st.Peers)-1]
		if !st.PeerGone || time.Since(st.PeerGoneSince) > time.Minute || ib.State != "established" || ib.Received < 3 {
			t.Errorf("while gone: gone %v since %v, ibgp %+v", st.PeerGone, st.PeerGoneSince, ib)
		}
		// Still counted before policy, but not heard from since: the
		// session has not received anything new yet (keepalives every 10 s).
		if st.PeerAWSPaths != 1 {
			t.Errorf("peer AWS paths while gone: %d, want 1", st.PeerAWSPaths)
		}
		// Anything from the peer now shows it alive.
		if _, err := tp.peerFRR.Vtysh("configure terminal", "router bgp 65000", "address-family ipv4 unicast", "network 203.0.113.0/24"); err != nil {
			t.Fatal(err)
		}
		frrtest.Eventually(t, 5*time.Second, "peer back", func() error {
			if st := sp.Status(); !st.PeerBack {
				return fmt.Errorf("not back: %+v", st.Peers[len(st.Peers)-1])
			}
			return nil
		})
		tp.routeVia(t, "203.0.113.0/24", "", time.Second)

		start = time.Now()
		sp.send("gone off")
		tp.routeVia(t, doc, "10.0.1.3@vlan", time.Second)
		tp.routeVia(t, "203.0.113.0/24", "10.0.1.3@vlan", time.Second)
		t.Logf("the peer's routes were back %v after PeerGone(false)", time.Since(start).Round(time.Millisecond))
		tp.routeVia(t, "10.0.1.128/25", "", time.Second)
		if st := sp.Status(); st.PeerGone || st.PeerBack || !st.PeerGoneSince.IsZero() {
			t.Errorf("after: gone %v back %v since %v", st.PeerGone, st.PeerBack, st.PeerGoneSince)
		}
	})
}

// TestSplitBrainWithFRR: two tidegate speakers, each with one tunnel to
// FRR playing AWS, their VLAN a bridge in a namespace of its own that the
// test cuts (a port taken off the bridge: carriers stay up, frames are
// lost, as when a VLAN attachment fails) and heals. It drives the
// speakers as the gateway does (services/gateway/failover.go) and checks
// what AWS is told at each step.
func TestSplitBrainWithFRR(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	a, b, aws, sw := l.Netns("sba"), l.Netns("sbb"), l.Netns("sbaws"), l.Netns("sbvlan")
	l.Wire(a, "t1", "169.254.10.2/30", aws, "t1", "169.254.10.1/30")
	l.Wire(b, "t3", "169.254.20.2/30", aws, "t3", "169.254.20.1/30")
	l.Run("ip", "-n", sw, "link", "add", "name", "br", "type", "bridge")
	l.Run("ip", "-n", sw, "link", "set", "dev", "br", "up")
	for _, end := range []struct{ ns, port, addr string }{{a, "pa", "10.0.1.2/24"}, {b, "pb", "10.0.1.3/24"}} {
		l.Run("ip", "link", "add", "name", "vlan", "netns", end.ns, "type", "veth", "peer", "name", end.port, "netns", sw)
		l.Run("ip", "-n", end.ns, "addr", "add", end.addr, "dev", "vlan")
		l.Run("ip", "-n", end.ns, "link", "set", "dev", "vlan", "up")
		l.Run("ip", "-n", sw, "link", "set", "dev", end.port, "master", "br", "up")
	}
	awsFRR := frrtest.Start(t, aws, "aws", awsConf)

	specA := speakerSpec{Config: Config{
		RouterID:  netip.MustParseAddr("10.0.1.2"),
		ASN:       65000,
		Advertise: []netip.Prefix{netip.MustParsePrefix(vlan)},
		Tunnels: []Tunnel{
			{Name: "t1", Local: netip.MustParseAddr("169.254.10.2"), Remote: netip.MustParseAddr("169.254.10.1"), Device: "t1", MED: 100},
		},
		BackupPrepend: 2,
		IBGPPeer:      netip.MustParseAddr("10.0.1.3"),
		VLANDevice:    "vlan",
		Master:        true,
	}}
	specB := specA
	specB.RouterID, specB.IBGPPeer, specB.Master = specA.IBGPPeer, specA.RouterID, false
	specB.Tunnels = []Tunnel{{Name: "t3", Local: netip.MustParseAddr("169.254.20.2"), Remote: netip.MustParseAddr("169.254.20.1"), Device: "t3", MED: 100}}
	spA, spB := startSpeaker(t, a, specA), startSpeaker(t, b, specB)
	spA.established(40*time.Second, "t1", "ibgp")
	spB.established(40*time.Second, "t3", "ibgp")

	const fromA, fromB = "169.254.10.2", "169.254.20.2"
	normal := want(map[string]frrtest.Path{fromA: path("65000", 100), fromB: path("65000 65000 65000", 100)})
	none := want(nil)
	awsPathsFor(t, awsFRR, vlan, 15*time.Second, "normal", normal)
	// best waits (briefly) for FRR to have chosen: it marks the best path
	// a moment after the paths arrive.
	best := func(prefix string) string {
		t.Helper()
		var bs []string
		frrtest.Eventually(t, 5*time.Second, prefix+": one best path", func() error {
			paths, _, err := awsFRR.Paths(prefix)
			if err != nil {
				return err
			}
			bs = bs[:0]
			for nbr, p := range paths {
				if p.Bestpath.Overall {
					bs = append(bs, nbr)
				}
			}
			if len(bs) != 1 {
				return fmt.Errorf("best paths %v, want one", bs)
			}
			return nil
		})
		return bs[0]
	}
	if got := best(vlan); got != fromA {
		t.Fatalf("AWS returns %s via %s, want the master %s", vlan, got, fromA)
	}
	for _, sp := range []*speakerProc{spA, spB} {
		frrtest.Eventually(t, 10*time.Second, "the peer's AWS route over iBGP", func() error {
			if n := sp.Status().PeerAWSPaths; n != 1 {
				return fmt.Errorf("peer AWS paths %d", n)
			}
			return nil
		})
	}

	// The cut: A keeps its role (it hears nothing, and a master hears no
	// adverts anyway); B's master-down timer fires, so B becomes master,
	// holds the return path and ignores A.
	l.Run("ip", "-n", sw, "link", "set", "dev", "pa", "nomaster")
	if out, err := netnstest.Command(a, "ping", "-c1", "-W1", "10.0.1.3").CombinedOutput(); err == nil {
		t.Fatalf("the VLAN is not cut:\n%s", out)
	}
	spB.send("master")
	spB.send("gone on")
	spB.send("hold on")
	bothMaster := want(map[string]frrtest.Path{fromA: path("65000", 100), fromB: path("65000", 100)})
	awsPathsFor(t, awsFRR, vlan, 5*time.Second, "both master", bothMaster)
	for _, h := range halves {
		awsPathsFor(t, awsFRR, h, 5*time.Second, "B holds", want(map[string]frrtest.Path{fromB: path("65000", 100)}))
		if got := best(h); got != fromB {
			t.Errorf("AWS returns %s via %s, want B %s", h, got, fromB)
		}
	}
	if st := spB.Status(); !st.PeerGone || st.PeerBack || !st.ReturnPathHeld {
		t.Errorf("B during the cut: gone %v back %v held %v", st.PeerGone, st.PeerBack, st.ReturnPathHeld)
	}

	// Had A's mastership also come from its master-down timer, both
	// hold: AWS has the halves from both, unprepended, and picks by its
	// own tie-breakers, as it does for two unprepended /24s.
	spA.send("gone on")
	spA.send("hold on")
	if st := spA.Status(); !st.PeerGone || st.PeerBack || st.PeerAWSPaths != 1 {
		t.Errorf("A during the cut: gone %v back %v peer AWS paths %d (the stale session's) %+v", st.PeerGone, st.PeerBack, st.PeerAWSPaths, st.Peers)
	}
	for _, h := range halves {
		awsPathsFor(t, awsFRR, h, 5*time.Second, "both hold", bothMaster)
		t.Logf("both holding: AWS returns %s via %s", h, best(h))
	}

	// The heal: B hears A's adverts again and, with A's higher priority,
	// goes back to backup, and a backup never holds. A hears nothing from
	// B over VRRP (a backup is silent) and releases once BGP says B is
	// back (PeerBack: B heard on the iBGP session, with AWS paths).
	l.Run("ip", "-n", sw, "link", "set", "dev", "pa", "master", "br")
	healed := time.Now()
	spB.send("backup")
	spB.send("hold off")
	spB.send("gone off")
	frrtest.Eventually(t, 15*time.Second, "A sees B back", func() error {
		if st := spA.Status(); !st.PeerBack {
			return fmt.Errorf("A: peer not back: AWS paths %d, %+v", st.PeerAWSPaths, st.Peers)
		}
		return nil
	})
	t.Logf("A saw B back %v after the heal", time.Since(healed).Round(time.Millisecond))
	spA.send("hold off")
	spA.send("gone off")
	awsPathsFor(t, awsFRR, vlan, 5*time.Second, "normal again", normal)
	for _, h := range halves {
		awsPathsFor(t, awsFRR, h, 5*time.Second, "released", none)
	}
	if got := best(vlan); got != fromA {
		t.Errorf("after the heal AWS returns %s via %s, want the master %s", vlan, got, fromA)
	}
	spA.established(5*time.Second, "ibgp")
	spB.established(5*time.Second, "ibgp")
	for _, sp := range []*speakerProc{spA, spB} {
		if st := sp.Status(); st.PeerGone || st.ReturnPathHeld {
			t.Errorf("after the heal: gone %v held %v", st.PeerGone, st.ReturnPathHeld)
		}
	}
}
