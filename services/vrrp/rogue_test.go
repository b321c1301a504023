package vrrp_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/tidegate/tidegate/internal/netnstest"
)

// A rogue router on the VLAN (the client's namespace, c) speaks for the
// pair's VRID with everything right (version, VIP, interval, and the v2
// password) at priority 254, once from its own address inside the VLAN
// prefix and once from outside it. The pair's master keeps the VIP, nobody
// changes state, each router counts every rogue advert under "peer" or
// "source", and the pair's peer stays the real twin.

const rogueAdverts = 20

// rogue sends rogueAdverts adverts from src through TestInjectHelper.
func (l *lab) rogue(src string, version int, interval time.Duration, pass string) {
	l.t.Helper()
	cmd := netnstest.Command(l.ns("c"), os.Args[0], "-test.run=^TestInjectHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TGVRRP_INJECT=rogue", "TGVRRP_ROGUE_SRC="+src,
		fmt.Sprintf("TGVRRP_ROGUE_VERSION=%d", version), "TGVRRP_ROGUE_INTERVAL="+interval.String(),
		"TGVRRP_ROGUE_PASS="+pass, fmt.Sprintf("TGVRRP_ROGUE_COUNT=%d", rogueAdverts))
	if out, err := cmd.CombinedOutput(); err != nil {
		l.t.Fatalf("rogue from %s: %v\n%s", src, err, out)
	}
}

// stateChanges returns the state events d printed from line index from on.
func (d *vrrpd) stateChanges(from int) []event {
	var evs []event
	for _, line := range d.snapshot()[from:] {
		if e, ok := parseEvent(line); ok && e.Event == "state" {
			evs = append(evs, e)
		}
	}
	return evs
}

// checkRogueRepelled checks the pair after the rogue: a master with the
// VIP, b backup under a, no state change since na and nb, every rogue
// advert counted, and each other's peer.
func checkRogueRepelled(t *testing.T, l *lab, a, b *vrrpd, na, nb int, learned bool) {
	t.Helper()
	for _, r := range []struct {
		d          *vrrpd
		n          int
		state, sib string
	}{{a, na, "master", "10.0.1.3"}, {b, nb, "backup", "10.0.1.2"}} {
		if evs := r.d.stateChanges(r.n); len(evs) != 0 {
			t.Errorf("%s changed state: %+v", r.d.name, evs)
		}
		s := r.d.status()
		if s.State != r.state || s.Master != "10.0.1.2" {
			t.Errorf("%s: %s under %q, want %s under 10.0.1.2", r.d.name, s.State, s.Master, r.state)
		}
		if s.Peer != r.sib || s.PeerLearned != learned {
			t.Errorf("%s: peer %q (learned %v), want %s (learned %v)", r.d.name, s.Peer, s.PeerLearned, r.sib, learned)
		}
		if s.Drops["peer"] != rogueAdverts || s.Drops["source"] != rogueAdverts || len(s.Drops) != 2 {
			t.Errorf("%s: drops %v, want %d under peer and under source", r.d.name, s.Drops, rogueAdverts)
		}
	}
	if err := l.vipOnlyOn("a"); err != nil {
		t.Error(err)
	}
}

// The site names each gateway's VLAN address: the seed's v2 pair with its
// password, each router given the other's address.
func TestRogueConfiguredPeer(t *testing.T) {
	l := newLab(t)
	pass := writePass(t)
	args := func(prio, peer string) []string {
		return []string{"-version", "2", "-interval", "1s", "-priority", prio, "-vip", vipAddr + "/24",
			"-auth-pass-file", pass, "-prefix", "10.0.1.0/24", "-peer", peer}
	}
	a := startVRRPD(t, l, "a", args("100", "10.0.1.3")...)
	b := startVRRPD(t, l, "b", args("99", "10.0.1.2")...)
	a.waitState(0, "master", 10*time.Second)
	b.waitState(0, "backup", 10*time.Second)
	time.Sleep(1500 * time.Millisecond) // b hears a
	na, nb := a.count(), b.count()
	l.rogue("10.0.1.10", 2, time.Second, "password")
	l.rogue("192.168.7.7", 2, time.Second, "password")
	// Long enough for b to time a out if a had stepped down.
	time.Sleep(4 * time.Second)
	checkRogueRepelled(t, l, a, b, na, nb, false)
}

// No addresses in the site: each router learns the other from its adverts.
// b is master first and a preempts it, so that each has heard the other
// (a healthy backup is silent: a master that never was backup has nobody
// to learn).
func TestRogueLearnedPeer(t *testing.T) {
	l := newLab(t)
	prefix := []string{"-prefix", "10.0.1.0/24"}
	b := startVRRPD(t, l, "b", pairArgs("99", prefix...)...)
	b.waitState(0, "master", 5*time.Second)
	a := startVRRPD(t, l, "a", pairArgs("100", prefix...)...)
	a.waitState(0, "master", 5*time.Second)
	b.waitState(0, "backup", 5*time.Second)
	time.Sleep(5 * pairInterval)
	na, nb := a.count(), b.count()
	l.rogue("10.0.1.10", 3, pairInterval, "")
	l.rogue("192.168.7.7", 3, pairInterval, "")
	time.Sleep(10 * pairInterval)
	checkRogueRepelled(t, l, a, b, na, nb, true)
}
