package gateway

import (
	"encoding/json"
	"errors"
	"maps"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tidegate/tidegate/services/bgp"
	"github.com/tidegate/tidegate/services/firewall"
	"github.com/tidegate/tidegate/services/status"
	"github.com/tidegate/tidegate/services/vrrp"
)

// Status of a configured gateway whose services have not run: the shape of
// the JSON, and no secret in it (the site has a VRRP password and PSKs).
func TestStatusJSON(t *testing.T) {
	role := testRole(t, "vpn-gw-1", v2, "  version: 2\n  advert_interval: 1\n  auth_pass: password\n  preempt: true\n")
	o := Options{RunDir: t.TempDir(), Version: "v1.2.3", Log: discard, ConfigFile: "site.yaml", Name: "vpn-gw-1"}
	o.defaults()
	svcs, err := newServices(o, role, discard, firewall.Install)
	if err != nil {
		t.Fatal(err)
	}
	g := New(o)
	if st := g.Status(); st.Phase != PhaseStarting || st.Gateway != "" || st.IPsec != nil {
		t.Errorf("before Run: %+v", st)
	}
	g.role, g.svcs, g.phase = role, svcs, PhaseRunning
	svcs.w.start()

	b, err := json.Marshal(g.Status())
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, secret := range []string{"password", "EXAMPLE.psk"} {
		if strings.Contains(text, secret) {
			t.Errorf("status holds a secret (%s): %s", secret, text)
		}
	}
	var st struct {
		Version, Mode, Phase, Gateway, Site, Peer string
		VLANAddress                               string `json:"vlan_address"`
		Health                                    struct {
			Healthy    bool
			VRRPWeight int `json:"vrrp_weight"`
		}
		IPsec struct {
			Tunnels []struct{ Name, Remote, Interface string }
		}
		BGP struct {
			Master bool
			Peers  []struct{ Name, Address, State string }
		}
		VRRP struct {
			State             string
			Priority          int
			EffectivePriority int `json:"effective_priority"`
			Tracks            map[string]int
			VirtualIPs        []string `json:"virtual_ips"`
		}
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if st.Version != "v1.2.3" || st.Mode != "standalone" || st.Phase != "running" || st.Gateway != "vpn-gw-1" ||
		st.Site != "linode-to-aws" || st.Peer != "vpn-gw-2" || st.VLANAddress != "10.0.1.2/24" {
		t.Errorf("gateway: %s", text)
	}
	if st.Health.Healthy || st.Health.VRRPWeight != -10 {
		t.Errorf("health: %+v", st.Health)
	}
	if len(st.IPsec.Tunnels) != 2 || st.IPsec.Tunnels[0].Name != "vpn-1a" || st.IPsec.Tunnels[0].Remote != "203.0.113.10" {
		t.Errorf("ipsec: %+v", st.IPsec)
	}
	if st.VRRP.State != "initialize" || st.VRRP.Priority != 100 || st.VRRP.EffectivePriority != 90 ||
		st.VRRP.Tracks[TrackAWS] != -10 || len(st.VRRP.VirtualIPs) != 1 || st.VRRP.VirtualIPs[0] != "10.0.1.200/24" {
		t.Errorf("vrrp: %+v", st.VRRP)
	}
	t.Logf("%s", b)
}

// The refusals of the import filter, max-prefix, the VRRP peer check and
// the packet filter reach the status document, every reason and class
// named from the start.
func TestStatusRefusals(t *testing.T) {
	retry := time.Date(2026, 11, 25, 20, 2, 5, 0, time.UTC)
	b := bgpStatus(bgp.Status{
		Running: true, MaxPrefixes: 12000,
		Peers: []bgp.PeerStatus{
			{
				Name: "vpn-1a", Address: "169.254.80.145", State: "idle", AdminDown: true,
				Rejected:           map[bgp.Reason]int{bgp.RejectTooShort: 3, bgp.RejectOwn: 4},
				MaxPrefixTeardowns: 2, RetryAt: retry,
			},
			{Name: "ibgp", Address: "10.0.1.3", State: "established", Uptime: time.Hour, Established: retry.Add(-time.Hour)},
		},
	})
	if b.MaxPrefixes != 12000 {
		t.Errorf("max_prefixes = %d, want 12000", b.MaxPrefixes)
	}
	want := map[string]int{"too-short": 3, "reserved": 0, "endpoint": 0, "own-prefix": 4, "not-accepted": 0}
	if p := b.Peers[0]; !maps.Equal(p.Rejected, want) || p.MaxPrefixTeardowns != 2 || !p.RetryAt.Equal(retry) {
		t.Errorf("vpn-1a: rejected %v, teardowns %d, retry %v; want %v, 2, %v", p.Rejected, p.MaxPrefixTeardowns, p.RetryAt, want, retry)
	}
	// The metrics' established timestamp comes through as bgp has it.
	if p := b.Peers[1]; !p.Established.Equal(retry.Add(-time.Hour)) || p.UptimeSeconds != 3600 {
		t.Errorf("ibgp: established %v, uptime %v s; want %v, 3600", p.Established, p.UptimeSeconds, retry.Add(-time.Hour))
	}
	// Nothing rejected (bgp's nil map): every reason at 0, not no keys.
	if p := b.Peers[1]; len(p.Rejected) != len(bgp.Reasons) || p.Rejected["not-accepted"] != 0 || !p.RetryAt.IsZero() {
		t.Errorf("ibgp: rejected %v, retry %v; want every reason at 0, no retry", p.Rejected, p.RetryAt)
	}

	peer := netip.MustParseAddr("10.0.1.3")
	for _, tc := range []struct {
		name     string
		st       vrrp.Status
		addr     string
		learned  bool
		wantJSON string
	}{
		{"learned", vrrp.Status{Peer: peer, PeerLearned: true}, "10.0.1.3", true, `"peer_address":"10.0.1.3","peer_learned":true`},
		{"configured", vrrp.Status{Peer: peer}, "10.0.1.3", false, `"peer_address":"10.0.1.3","peer_learned":false`},
		{"not yet", vrrp.Status{}, "", false, `"peer_learned":false`},
	} {
		v := vrrpStatus(tc.st)
		js, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if v.PeerAddress != tc.addr || v.PeerLearned != tc.learned || !strings.Contains(string(js), tc.wantJSON) {
			t.Errorf("vrrp %s: %s, want %s", tc.name, js, tc.wantJSON)
		}
	}

	for _, tc := range []struct {
		name     string
		counters func() (map[string]uint64, error)
		want     *status.Firewall
	}{
		{
			name: "counted",
			counters: func() (map[string]uint64, error) {
				return map[string]uint64{"uplink": 12, "forward": 1, "accepted": 99}, nil
			},
			want: &status.Firewall{Dropped: map[string]uint64{"uplink": 12, "vlan": 0, "tunnel": 0, "other": 0, "forward": 1}},
		},
		{
			name: "no table",
			counters: func() (map[string]uint64, error) {
				return nil, errors.New("firewall: reading counters: no such file or directory")
			},
		},
	} {
		got := firewallStatus(tc.counters)
		if (got == nil) != (tc.want == nil) || got != nil && !maps.Equal(got.Dropped, tc.want.Dropped) {
			t.Errorf("firewall %s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// The firewall section is read only with Options.Firewall (the appliance):
// standalone, and in the tests, nothing reads nftables.
func TestStatusFirewall(t *testing.T) {
	defer func(f func() (map[string]uint64, error)) { firewallCounters = f }(firewallCounters)
	for _, on := range []bool{false, true} {
		reads := 0
		firewallCounters = func() (map[string]uint64, error) {
			reads++
			return map[string]uint64{"uplink": 5}, nil
		}
		o := Options{RunDir: t.TempDir(), Version: "v1.2.3", Log: discard, Firewall: on}
		o.defaults()
		st := New(o).Status()
		switch {
		case !on && (reads != 0 || st.Firewall != nil):
			t.Errorf("without a packet filter: %d reads, firewall %+v", reads, st.Firewall)
		case on && (reads != 1 || st.Firewall == nil || st.Firewall.Dropped["uplink"] != 5):
			t.Errorf("with a packet filter: %d reads, firewall %+v", reads, st.Firewall)
		}
	}
}
