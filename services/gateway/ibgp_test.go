package gateway

import (
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/tidegate/tidegate/services/vrrp"
)

// TestPeerLearner: BGP is told the VRRP master's address while this
// gateway is backup, once per new address of the VLAN other than ours.
func TestPeerLearner(t *testing.T) {
	a := netip.MustParseAddr
	type step struct {
		backup bool
		master string // VRRP's master address; "" none
		event  *vrrp.StateChange
		after  time.Duration // since the previous step
	}
	tests := []struct {
		name  string
		steps []step
		want  []string // SetIBGPPeer calls
	}{
		{"backup hears the master", []step{{backup: true, master: "10.0.1.3"}, {backup: true, master: "10.0.1.3", after: 2 * time.Second}}, []string{"10.0.1.3"}},
		{"master learns nothing", []step{{master: "10.0.1.2"}, {master: "10.0.1.2"}}, nil},
		{"not yet heard", []step{{backup: true}}, nil},
		{"ourselves", []step{{backup: true, master: "10.0.1.2"}}, nil},
		{"outside the VLAN", []step{{backup: true, master: "192.0.2.7"}}, nil},
		{"outranked master", []step{{master: "10.0.1.2", event: &vrrp.StateChange{State: vrrp.StateBackup, Peer: a("10.0.1.3")}}}, []string{"10.0.1.3"}},
		{"peer rebuilt with another address", []step{
			{backup: true, master: "10.0.1.3"},
			{backup: true, master: "10.0.1.9", after: 100 * time.Millisecond}, // not polled yet
			{backup: true, master: "10.0.1.9", after: time.Second},
		}, []string{"10.0.1.3", "10.0.1.9"}},
		{"refused, retried", []step{{backup: true, master: "10.0.1.66"}, {backup: true, master: "10.0.1.66"}}, []string{"10.0.1.66", "10.0.1.66"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cur step
			var got []string
			l := &peerLearner{
				log: discard, vlan: netip.MustParsePrefix("10.0.1.0/24"), self: a("10.0.1.2"),
				master: func() (bool, netip.Addr) {
					if cur.master == "" {
						return cur.backup, netip.Addr{}
					}
					return cur.backup, a(cur.master)
				},
				set: func(addr netip.Addr) error {
					got = append(got, addr.String())
					if addr == a("10.0.1.66") {
						return errors.New("refused")
					}
					return nil
				},
			}
			now := time.Now()
			for _, s := range tt.steps {
				cur = s
				now = now.Add(s.after)
				if s.event != nil {
					l.vrrpChange(*s.event)
				}
				l.tick(now)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("SetIBGPPeer calls %q, want %q", got, tt.want)
			}
		})
	}
}
