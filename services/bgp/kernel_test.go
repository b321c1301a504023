package bgp

import (
	"net/netip"
	"testing"
)

func TestPkey(t *testing.T) {
	for _, s := range []string{"0.0.0.0/0", "10.0.1.0/24", "10.0.1.128/25", "198.18.255.255/32", "255.255.255.255/32", "128.0.0.0/1"} {
		p := netip.MustParsePrefix(s)
		if got := keyOf(p).prefix(); got != p {
			t.Errorf("keyOf(%v).prefix() = %v", p, got)
		}
	}
	if keyOf(netip.MustParsePrefix("10.0.1.0/24")) == keyOf(netip.MustParsePrefix("10.0.1.0/25")) {
		t.Error("a prefix and its half share a key")
	}
}

// TestHopSetsReleased: a next-hop set no prefix uses any more is
// forgotten, one still used is kept, and interning it again gives a
// fresh set.
func TestHopSetsReleased(t *testing.T) {
	k := &kernel{sets: map[string]*hopSet{}, single: map[nexthop]*hopSet{}}
	a := nexthop{Gw: netip.MustParseAddr("169.254.10.1"), Dev: "t1", AWS: true}
	b := nexthop{Gw: netip.MustParseAddr("169.254.11.1"), Dev: "t2", AWS: true}
	one, ecmp := k.intern([]nexthop{a}), k.intern([]nexthop{b, a})
	if k.intern([]nexthop{a, b}) != ecmp || k.intern([]nexthop{a}) != one {
		t.Fatal("interning the same hops twice gave two sets")
	}
	one.refs, ecmp.refs = 2, 1
	k.release(one)
	k.release(ecmp)
	if len(k.single) != 1 || len(k.sets) != 0 {
		t.Fatalf("after releasing the ECMP set's only user: %d single, %d ECMP sets; want 1 and 0", len(k.single), len(k.sets))
	}
	k.release(one)
	if len(k.single) != 0 {
		t.Fatalf("a set nobody uses is kept")
	}
	if k.intern([]nexthop{a}) == one {
		t.Error("a released set came back")
	}
}
