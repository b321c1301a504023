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
