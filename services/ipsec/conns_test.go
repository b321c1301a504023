package ipsec

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/strongswan/govici/vici"
	"github.com/tidegate/tidegate/configs"
)

func defaultTunnel() configs.Tunnel {
	return NewTestTunnel("vpn-1a", "203.0.113.10", "169.254.80.144/30", "EXAMPLE.psk.for.vpn_1a")
}

func TestConnFor(t *testing.T) {
	ikev1 := defaultTunnel()
	ikev1.IKEVersion, ikev1.Proposals = 1, configs.DefaultProposals(1)
	short := defaultTunnel()
	short.DPDDelay, short.IKELifetime, short.ChildLifetime = 5*time.Second, time.Hour, 900*time.Second

	tests := []struct {
		name  string
		tun   configs.Tunnel
		local netip.Addr
		want  map[string]string // flattened key -> value
	}{
		{"AWS defaults", defaultTunnel(), netip.MustParseAddr("192.0.2.1"), map[string]string{
			"version": "2", "local_addrs": "[192.0.2.1]", "remote_addrs": "[203.0.113.10]",
			"proposals": "[aes256gcm16-prfsha384-ecp384 aes256-sha256-modp2048]",
			"mobike":    "no", "dpd_delay": "10s", "dpd_timeout": "",
			// 28800 s: rekey at 90% +- 5%, hard limit at exactly AWS's lifetime
			"rekey_time": "25920s", "over_time": "2880s", "rand_time": "1440s",
			"keyingtries": "0", "unique": "replace", "if_id_in": "5157", "if_id_out": "5157",
			"local.auth": "psk", "local.id": "192.0.2.1", "remote.auth": "psk", "remote.id": "203.0.113.10",
			"children.vpn-1a.local_ts": "[0.0.0.0/0]", "children.vpn-1a.remote_ts": "[0.0.0.0/0]",
			"children.vpn-1a.esp_proposals": "[aes256gcm16-ecp384 aes256-sha256-modp2048]",
			"children.vpn-1a.rekey_time":    "3240s", "children.vpn-1a.life_time": "3600s", "children.vpn-1a.rand_time": "180s",
			"children.vpn-1a.mode": "tunnel", "children.vpn-1a.start_action": "start",
			"children.vpn-1a.dpd_action": "restart", "children.vpn-1a.close_action": "start",
			"children.vpn-1a.if_id_in": "5157", "children.vpn-1a.if_id_out": "5157",
		}},
		{"no local address: charon picks", defaultTunnel(), netip.Addr{}, map[string]string{
			"local_addrs": "", "local.id": "",
		}},
		{"IKEv1 has a DPD timeout", ikev1, netip.Addr{}, map[string]string{
			"version": "1", "dpd_timeout": "30s", "proposals": "[aes256-sha256-modp2048]",
		}},
		{"overrides", short, netip.Addr{}, map[string]string{
			"dpd_delay": "5s", "rekey_time": "3240s", "over_time": "360s",
			"children.vpn-1a.rekey_time": "810s", "children.vpn-1a.life_time": "900s",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := connFor(tt.tun, tt.local)
			if err != nil {
				t.Fatal(err)
			}
			if keys := m.Keys(); len(keys) != 1 || keys[0] != tt.tun.Name {
				t.Fatalf("top-level keys %q, want the tunnel's name", keys)
			}
			got := map[string]string{}
			flatten("", m.Get(tt.tun.Name).(*vici.Message), got)
			for k, want := range tt.want {
				if got[k] != want {
					t.Errorf("%s = %q, want %q", k, got[k], want)
				}
			}
		})
	}
}

func flatten(prefix string, m *vici.Message, out map[string]string) {
	for _, k := range m.Keys() {
		switch v := m.Get(k).(type) {
		case *vici.Message:
			flatten(prefix+k+".", v, out)
		case []string:
			out[prefix+k] = "[" + strings.Join(v, " ") + "]"
		case string:
			out[prefix+k] = v
		}
	}
}

func TestSharedFor(t *testing.T) {
	m, err := sharedFor(defaultTunnel())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	flatten("", m, got)
	want := map[string]string{"id": "vpn-1a", "type": "IKE", "data": "EXAMPLE.psk.for.vpn_1a", "owners": "[203.0.113.10]"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("load-shared message (-want +got):\n%s", diff)
	}
}

func TestIfID(t *testing.T) {
	for _, tt := range []struct {
		cidr string
		id   uint32
		name string
	}{
		{"169.254.0.0/30", 1, "xfrm1"},
		{"169.254.0.4/30", 2, "xfrm2"},
		{"169.254.80.144/30", 5157, "xfrm5157"},
		{"169.254.255.252/30", 16384, "xfrm16384"},
	} {
		tun := defaultTunnel()
		tun.InsideCIDR = netip.MustParsePrefix(tt.cidr)
		if name, id := InterfaceFor(tun); name != tt.name || id != tt.id {
			t.Errorf("%s: %s/%d, want %s/%d", tt.cidr, name, id, tt.name, tt.id)
		}
	}
}

// TestCheckTunnels: the service refuses tunnels it cannot run (a duplicate
// name or if_id, an inside CIDR that is no /30, an unknown IKE version),
// and no error quotes a tunnel's key.
func TestCheckTunnels(t *testing.T) {
	good := defaultTunnel()
	dup := good
	sameIfID := defaultTunnel()
	sameIfID.Name = "other"
	bad := defaultTunnel()
	bad.Name, bad.InsideCIDR, bad.IKEVersion = "bad", netip.MustParsePrefix("169.254.9.0/29"), 3
	tests := []struct {
		name string
		ts   []configs.Tunnel
		want []string // substrings of the error; none: no error
	}{
		{"ok", []configs.Tunnel{good}, nil},
		{"empty", nil, nil},
		{"duplicate", []configs.Tunnel{good, dup}, []string{"duplicate name"}},
		{"same if_id", []configs.Tunnel{good, sameIfID}, []string{"same if_id"}},
		{"bad", []configs.Tunnel{bad}, []string{"not an IPv4 /30", "IKE version 3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkTunnels(tt.ts)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), good.PSK.Reveal()) {
				t.Errorf("error quotes the PSK: %v", err)
			}
		})
	}
}
