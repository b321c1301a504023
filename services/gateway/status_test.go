package gateway

import (
	"encoding/json"
	"strings"
	"testing"
)

// Status of a configured gateway whose services have not run: the shape of
// the JSON, and no secret in it (the site has a VRRP password and PSKs).
func TestStatusJSON(t *testing.T) {
	role := testRole(t, "vpn-gw-1", v2, "  version: 2\n  advert_interval: 1\n  auth_pass: password\n  preempt: true\n")
	o := Options{RunDir: t.TempDir(), Version: "v1.2.3", Log: discard, ConfigFile: "site.yaml", Name: "vpn-gw-1"}
	o.defaults()
	svcs, err := newServices(o, role, discard)
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
