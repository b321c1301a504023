package bgp

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/tidegate/tidegate/services/internal/frrtest"
)

func TestShareHalves(t *testing.T) {
	tests := []struct {
		name       string
		advertise  []netip.Prefix
		share      int
		own, other []netip.Prefix
	}{
		{"active-standby", pfx("10.0.1.0/24"), 0, nil, nil},
		{"first gateway draws the lower half", pfx("10.0.1.0/24"), 1, pfx("10.0.1.0/25"), pfx("10.0.1.128/25")},
		{"second gateway draws the upper half", pfx("10.0.1.0/24"), 2, pfx("10.0.1.128/25"), pfx("10.0.1.0/25")},
		{"two prefixes", pfx("10.0.1.0/24", "10.9.0.0/16"), 2, pfx("10.0.1.128/25", "10.9.128.0/17"), pfx("10.0.1.0/25", "10.9.0.0/17")},
		{"a configured half is announced as configured", pfx("10.0.1.0/24", "10.0.1.0/25"), 1, pfx("10.0.1.0/26"), pfx("10.0.1.128/25", "10.0.1.64/26")},
		{"a /32 has none", pfx("192.0.2.1/32"), 1, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			own, other := shareHalves(tt.advertise, tt.share)
			if !slices.Equal(own, tt.own) || !slices.Equal(other, tt.other) {
				t.Errorf("own %v other %v, want %v and %v", own, other, tt.own, tt.other)
			}
		})
	}
	// The hold goes a bit longer than the halves: quarters.
	own, other := shareHalves(pfx("10.0.1.0/24"), 1)
	hold, skipped := returnPathPrefixes(slices.Concat(pfx("10.0.1.0/24"), own, other))
	if want := pfx("10.0.1.0/26", "10.0.1.64/26", "10.0.1.128/26", "10.0.1.192/26"); !slices.Equal(hold, want) || skipped != nil {
		t.Errorf("hold %v (skipped %v), want the quarters %v", hold, skipped, want)
	}
}

// TestActiveActiveWithFRR: an active-active speaker facing a virtual
// private gateway (FRR as AWS) announces both halves; its own unprepended
// while master of its virtual IP, the peer's prepended until it is master
// of the peer's too; holding announces the quarters; none of it reaches
// the iBGP peer or the kernel.
func TestActiveActiveWithFRR(t *testing.T) {
	t.Parallel()
	tp := newTopoNamed(t, "aa")
	spec := gwSpec()
	spec.Share = 1
	spec.Master = true
	sp := startSpeaker(t, tp.gw, spec)
	sp.established(40*time.Second, "t1", "t2", "ibgp")
	const t1, t2 = "169.254.10.2", "169.254.11.2"
	plain := want(map[string]frrtest.Path{t1: path("65000", 100), t2: path("65000", 200)})
	prepended := want(map[string]frrtest.Path{t1: path("65000 65000 65000", 100), t2: path("65000 65000 65000", 200)})
	none := want(nil)
	lo, hi := "10.0.1.0/25", "10.0.1.128/25"
	quarters := []string{"10.0.1.0/26", "10.0.1.64/26", "10.0.1.128/26", "10.0.1.192/26"}

	awsPathsFor(t, tp.awsFRR, lo, 15*time.Second, "own half, master", plain)
	awsPathsFor(t, tp.awsFRR, hi, 5*time.Second, "peer's half, backup of its VIP", prepended)
	for _, h := range []string{lo, hi} {
		awsPathsFor(t, tp.peerFRR, h, time.Second, "not at the iBGP peer", none)
		tp.routeVia(t, h, "", time.Second)
	}

	sp.send("peervip on")
	awsPathsFor(t, tp.awsFRR, hi, 5*time.Second, "peer's half, master of its VIP", plain)
	sp.send("peervip off")
	awsPathsFor(t, tp.awsFRR, hi, 5*time.Second, "peer's half, its VIP handed back", prepended)

	sp.send("backup")
	awsPathsFor(t, tp.awsFRR, lo, 5*time.Second, "own half, backup of our VIP", prepended)
	sp.send("master")
	awsPathsFor(t, tp.awsFRR, lo, 5*time.Second, "own half, master again", plain)

	sp.send("hold on")
	for _, q := range quarters {
		awsPathsFor(t, tp.awsFRR, q, 5*time.Second, "held", plain)
		awsPathsFor(t, tp.peerFRR, q, time.Second, "held, not at the iBGP peer", none)
	}
	if st := sp.Status(); !st.ReturnPathHeld || len(st.ReturnPathPrefixes) != 4 {
		t.Errorf("status while held: held %v prefixes %v, want the four quarters", st.ReturnPathHeld, st.ReturnPathPrefixes)
	}
	sp.send("hold off")
	for _, q := range quarters {
		awsPathsFor(t, tp.awsFRR, q, 5*time.Second, "released", none)
	}
	awsPathsFor(t, tp.awsFRR, hi, time.Second, "peer's half unchanged", prepended)
}

// TestECMPWithFRR: facing a transit gateway with ECMP nothing is ever
// prepended, backup or not, and equal MEDs on the tunnels give one
// multipath kernel route toward AWS.
func TestECMPWithFRR(t *testing.T) {
	t.Parallel()
	tp := newTopoNamed(t, "ecmp")
	spec := gwSpec()
	spec.ECMP = true
	for i := range spec.Tunnels {
		spec.Tunnels[i].MED = 0
	}
	sp := startSpeaker(t, tp.gw, spec)
	sp.established(40*time.Second, "t1", "t2", "ibgp")
	const t1, t2 = "169.254.10.2", "169.254.11.2"
	equal := want(map[string]frrtest.Path{t1: path("65000", 0), t2: path("65000", 0)})
	ours := func(m map[string]frrtest.Path) error {
		delete(m, "169.254.20.2") // the peer's own /24
		return equal(m)
	}
	awsPathsFor(t, tp.awsFRR, vlan, 15*time.Second, "backup, not prepended", ours)
	sp.send("master")
	sp.send("backup")
	awsPathsFor(t, tp.awsFRR, vlan, 2*time.Second, "still not prepended", ours)
	// Both tunnels, hashed per flow by the kernel.
	tp.routeVia(t, vpc, "169.254.10.1@t1,169.254.11.1@t2", 10*time.Second)

	sp.send("hold on")
	for _, h := range halves {
		awsPathsFor(t, tp.awsFRR, h, 5*time.Second, "held", equal)
	}
}
