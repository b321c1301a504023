package gateway

import (
	"log/slog"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidegate/tidegate/configs"
	"github.com/tidegate/tidegate/services/bgp"
	"github.com/tidegate/tidegate/services/ipsec"
	"github.com/tidegate/tidegate/services/vrrp"
)

var discard = slog.New(slog.DiscardHandler)

// testRole parses testdata/site.yaml with the replacements edits (old, new
// pairs) applied and returns the role of gateway name.
func testRole(t *testing.T, name string, edits ...string) *Role {
	t.Helper()
	b, err := os.ReadFile("testdata/site.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for i := 0; i+1 < len(edits); i += 2 {
		if !strings.Contains(text, edits[i]) {
			t.Fatalf("edit: %q not in the site", edits[i])
		}
		text = strings.Replace(text, edits[i], edits[i+1], 1)
	}
	site, err := configs.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	self, err := site.Gateway(name)
	if err != nil {
		t.Fatal(err)
	}
	return &Role{Site: site, Self: self, VLANAddress: self.VLANAddress}
}

const v2 = "  version: 3\n  advert_interval: 1s\n  preempt: true\n"

func TestVRRPConfig(t *testing.T) {
	tests := []struct {
		name, gateway string
		edits         []string
		version       int
		prio          uint8
		pass          string
		interval      time.Duration
		preempt       bool
		delay         time.Duration
	}{
		{name: "seed master", gateway: "vpn-gw-1", version: 3, prio: 100, interval: time.Second, preempt: true},
		{name: "seed backup", gateway: "vpn-gw-2", version: 3, prio: 99, interval: time.Second, preempt: true},
		{
			name: "keepalived v2", gateway: "vpn-gw-1",
			edits:   []string{v2, "  version: 2\n  advert_interval: 2\n  auth_pass: password\n  preempt: true\n  preempt_delay: 5s\n"},
			version: 2, prio: 100, pass: "password", interval: 2 * time.Second, preempt: true, delay: 5 * time.Second,
		},
		{
			name: "v3 fast, no preempt", gateway: "vpn-gw-2",
			edits:   []string{v2, "  version: 3\n  advert_interval: 100ms\n  preempt: false\n"},
			version: 3, prio: 99, interval: 100 * time.Millisecond,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := vrrpConfig(testRole(t, tt.gateway, tt.edits...), 0, discard)
			want := []netip.Prefix{netip.MustParsePrefix("10.0.1.200/24")}
			if c.Interface != "eth1" || c.VRID != 10 || c.Version != tt.version || c.Priority != tt.prio ||
				c.AuthPass != tt.pass || c.AdvertInterval != tt.interval || c.Preempt != tt.preempt ||
				c.PreemptDelay != tt.delay || !slices.Equal(c.VirtualIPs, want) {
				t.Errorf("got %+v (pass %q)", c, c.AuthPass)
			}
		})
	}
}

// TestActiveActiveConfigs: each gateway runs the router of its own
// virtual IP at the pair's higher priority and the peer's at the lower,
// each ignoring the other's VRID; BGP draws the gateway's half, or with
// ECMP none.
func TestActiveActiveConfigs(t *testing.T) {
	aa := []string{"virtual_ip: 10.0.1.200", "virtual_ips: [10.0.1.200, 10.0.1.201]"}
	p := netip.MustParsePrefix
	type router struct {
		vrid, sibling, prio uint8
		vip                 netip.Prefix
	}
	for _, tt := range []struct {
		gateway    string
		own, other router
		share      int
	}{
		{"vpn-gw-1", router{10, 11, 100, p("10.0.1.200/24")}, router{11, 10, 99, p("10.0.1.201/24")}, 1},
		{"vpn-gw-2", router{11, 10, 100, p("10.0.1.201/24")}, router{10, 11, 99, p("10.0.1.200/24")}, 2},
	} {
		t.Run(tt.gateway, func(t *testing.T) {
			c := testRole(t, tt.gateway, aa...).Configs(Options{})
			got := func(c vrrp.Config) router {
				if len(c.VirtualIPs) != 1 {
					t.Fatalf("virtual IPs %v", c.VirtualIPs)
				}
				return router{c.VRID, c.Sibling, c.Priority, c.VirtualIPs[0]}
			}
			if c.PeerVRRP == nil {
				t.Fatal("no router for the peer's virtual IP")
			}
			if g := got(c.VRRP); g != tt.own {
				t.Errorf("own router %+v, want %+v", g, tt.own)
			}
			if g := got(*c.PeerVRRP); g != tt.other {
				t.Errorf("peer's router %+v, want %+v", g, tt.other)
			}
			if c.BGP.Share != tt.share || c.BGP.ECMP {
				t.Errorf("bgp share %d ecmp %v, want %d false", c.BGP.Share, c.BGP.ECMP, tt.share)
			}
			if !slices.Contains(c.BGP.Import.Own, p("10.0.1.201/32")) {
				t.Errorf("import filter's own prefixes %v lack the second virtual IP", c.BGP.Import.Own)
			}
			ecmp := testRole(t, tt.gateway, append(aa, "  backup_prepend: 2\n", "  ecmp: true\n")...).Configs(Options{})
			if ecmp.BGP.Share != 0 || !ecmp.BGP.ECMP {
				t.Errorf("with ecmp: bgp share %d ecmp %v, want 0 true", ecmp.BGP.Share, ecmp.BGP.ECMP)
			}
		})
	}
	if c := testRole(t, "vpn-gw-1").Configs(Options{}); c.PeerVRRP != nil || c.BGP.Share != 0 || c.VRRP.Sibling != 0 {
		t.Errorf("active-standby: peer router %v share %d sibling %d", c.PeerVRRP, c.BGP.Share, c.VRRP.Sibling)
	}
}

func TestBGPConfig(t *testing.T) {
	a := netip.MustParseAddr
	seed1 := []bgp.Tunnel{
		{Name: "vpn-1a", Local: a("169.254.80.146"), Remote: a("169.254.80.145"), RemoteASN: 64512, MED: 0},
		{Name: "vpn-1b", Local: a("169.254.81.150"), Remote: a("169.254.81.149"), RemoteASN: 64512, MED: 100},
	}
	withDevices := func(ts []bgp.Tunnel, role *Role) []bgp.Tunnel {
		ts = slices.Clone(ts)
		for i := range ts {
			ts[i].Device, _ = ipsec.InterfaceFor(role.Self.Tunnels[i])
		}
		return ts
	}
	tests := []struct {
		name, gateway string
		edits         []string
		xfrm          bool
		routerID      netip.Addr
		ibgp          netip.Addr
		ibgpRange     netip.Prefix
		prepend       int
		tunnels       func(*Role) []bgp.Tunnel
		warning       string
	}{
		{
			name: "seed gw-1, standalone", gateway: "vpn-gw-1",
			routerID: a("10.0.1.2"), ibgp: a("10.0.1.3"), prepend: 2,
			tunnels: func(*Role) []bgp.Tunnel { return seed1 },
		},
		{
			name: "seed gw-1, appliance", gateway: "vpn-gw-1", xfrm: true,
			routerID: a("10.0.1.2"), ibgp: a("10.0.1.3"), prepend: 2,
			tunnels: func(r *Role) []bgp.Tunnel { return withDevices(seed1, r) },
		},
		{
			name: "seed gw-2", gateway: "vpn-gw-2",
			routerID: a("10.0.1.3"), ibgp: a("10.0.1.2"), prepend: 2,
			tunnels: func(*Role) []bgp.Tunnel {
				return []bgp.Tunnel{
					{Name: "vpn-2a", Local: a("169.254.82.154"), Remote: a("169.254.82.153"), RemoteASN: 64512, MED: 0},
					{Name: "vpn-2b", Local: a("169.254.83.158"), Remote: a("169.254.83.157"), RemoteASN: 64512, MED: 100},
				}
			},
		},
		{
			name: "no prepend, explicit MEDs and ASN", gateway: "vpn-gw-1",
			edits: []string{
				"backup_prepend: 2", "backup_prepend: 0",
				"psk: EXAMPLE.psk.for.vpn_1a\n        remote_asn: 64512", "psk: EXAMPLE.psk.for.vpn_1a\n        remote_asn: 65100\n        med: 50",
			},
			routerID: a("10.0.1.2"), ibgp: a("10.0.1.3"), prepend: 0,
			tunnels: func(*Role) []bgp.Tunnel {
				ts := slices.Clone(seed1)
				ts[0].RemoteASN, ts[0].MED = 65100, 50
				return ts
			},
		},
		{
			// The peer's address comes from its own Metadata Service: iBGP
			// is accepted from the VLAN, the address learned from VRRP.
			name: "peer without vlan_address", gateway: "vpn-gw-1",
			edits:    []string{"    vlan_address: 10.0.1.3/24\n", ""},
			routerID: a("10.0.1.2"), ibgpRange: netip.MustParsePrefix("10.0.1.0/24"), prepend: 2,
			tunnels: func(*Role) []bgp.Tunnel { return seed1 },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			role := testRole(t, tt.gateway, tt.edits...)
			c, warning := bgpConfig(Options{XFRMInterfaces: tt.xfrm}, role, discard)
			if c.RouterID != tt.routerID || c.IBGPPeer != tt.ibgp || c.IBGPRange != tt.ibgpRange || c.ASN != 65000 || c.BackupPrepend != tt.prepend ||
				c.VLANDevice != "eth1" || !slices.Equal(c.Advertise, []netip.Prefix{netip.MustParsePrefix("10.0.1.0/24")}) {
				t.Errorf("got %+v", c)
			}
			if want := tt.tunnels(role); !slices.Equal(c.Tunnels, want) {
				t.Errorf("tunnels:\n got %+v\nwant %+v", c.Tunnels, want)
			}
			if !strings.HasPrefix(warning, tt.warning) || (tt.warning == "") != (warning == "") {
				t.Errorf("warning %q, want %q", warning, tt.warning)
			}
			if _, err := bgp.New(c); err != nil {
				t.Errorf("bgp.New: %v", err)
			}
		})
	}
}

func TestIPsecConfig(t *testing.T) {
	role := testRole(t, "vpn-gw-1")
	role.PublicAddress = netip.MustParseAddr("192.0.2.10")
	for _, on := range []bool{false, true} {
		o := Options{RunDir: "/run/tg", Charon: "/c", PublicInterface: "eth0", XFRMInterfaces: on, Firewall: on, Sysctls: on}
		c := ipsecConfig(o, role, discard)
		if c.RunDir != "/run/tg/ipsec" || c.Charon != "/c" || c.Uplink != "eth0" || c.LocalAddress != role.PublicAddress ||
			c.XFRMInterfaces != on || c.Sysctls != on || len(c.Tunnels) != 2 || c.NetNS != "" {
			t.Errorf("%v: got %+v", on, c)
		}
		if _, err := ipsec.New(c); err != nil {
			t.Errorf("ipsec.New: %v", err)
		}
	}
}

// TestRoleConfigs: the exported mapping (what newServices builds the
// services from and tidegate render prints) is the per-service mapping
// above, with the appliance's options filled in.
func TestRoleConfigs(t *testing.T) {
	site, err := configs.Load("testdata/site.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewRole(site, "nope"); err == nil {
		t.Error("NewRole of an unknown gateway: no error")
	}
	role, err := NewRole(site, "vpn-gw-2")
	if err != nil {
		t.Fatal(err)
	}
	if role.Self.Name != "vpn-gw-2" || role.VLANAddress != netip.MustParsePrefix("10.0.1.3/24") || role.PublicAddress.IsValid() {
		t.Errorf("role: %+v", role)
	}
	o := ApplianceOptions("")
	c := role.Configs(o)
	o.defaults()
	bc, _ := bgpConfig(o, role, discard)
	vc := vrrpConfig(role, 0, discard)
	ic := ipsecConfig(o, role, discard)
	if !slices.Equal(c.BGP.Tunnels, bc.Tunnels) || c.BGP.IBGPPeer != bc.IBGPPeer || c.BGP.BackupPrepend != bc.BackupPrepend ||
		c.BGP.RouterID != bc.RouterID || c.BGP.Logger == nil || c.BGP.OnAWSPaths != nil {
		t.Errorf("BGP: %+v, want %+v", c.BGP, bc)
	}
	if c.VRRP.Priority != vc.Priority || c.VRRP.AuthPass != vc.AuthPass || !slices.Equal(c.VRRP.VirtualIPs, vc.VirtualIPs) || c.VRRP.Logger == nil {
		t.Errorf("VRRP: %+v, want %+v", c.VRRP, vc)
	}
	if c.IPsec.RunDir != "/run/tidegate/ipsec" || c.IPsec.Charon != "/usr/lib/ipsec/charon" || c.IPsec.Uplink != "eth0" ||
		!c.IPsec.XFRMInterfaces || !c.IPsec.Sysctls || len(c.IPsec.Tunnels) != len(ic.Tunnels) {
		t.Errorf("IPsec: %+v", c.IPsec)
	}
	// The packet filter: the peer's configured address alone may speak
	// BGP on the VLAN, each tunnel's AWS address on its interface.
	if fw := c.Firewall; fw == nil || fw.Uplink != "eth0" || fw.VLAN != "eth1" || fw.Peer != netip.MustParseAddr("10.0.1.2") ||
		len(fw.Tunnels) != len(ic.Tunnels) || fw.Tunnels[0].Device != c.BGP.Tunnels[0].Device || fw.Tunnels[0].Remote != c.BGP.Tunnels[0].Remote {
		t.Errorf("firewall: %+v", c.Firewall)
	}
	// The import filter keeps clear of the VLAN, the VIP and every
	// tunnel endpoint of the site.
	if f := c.BGP.Import; len(f.Own) != 2 || len(f.Endpoints) != 4 || c.BGP.MaxPrefixes != configs.DefaultMaxPrefixes || !c.BGP.IBGPTTLSecurity {
		t.Errorf("BGP import %+v, max prefixes %d, GTSM %v", f, c.BGP.MaxPrefixes, c.BGP.IBGPTTLSecurity)
	}
	if c.VRRP.Peer != netip.MustParseAddr("10.0.1.2") || c.VRRP.Prefix != site.VLAN.Prefix {
		t.Errorf("VRRP peer %v prefix %v", c.VRRP.Peer, c.VRRP.Prefix)
	}
	if standalone := role.Configs(Options{}); standalone.Firewall != nil {
		t.Errorf("standalone mode has a firewall: %+v", standalone.Firewall)
	}
	if c.BGP.Tunnels[0].Device == "" {
		t.Errorf("appliance BGP tunnels have no XFRM device: %+v", c.BGP.Tunnels)
	}
	if c.AWSTrackWeight != awsWeight(site) || len(c.Warnings) != 0 {
		t.Errorf("weight %d warnings %q", c.AWSTrackWeight, c.Warnings)
	}

	if len(c.Notes) != 0 {
		t.Errorf("notes %q", c.Notes)
	}

	// The peer's address unknown: no warning, a note on how iBGP comes up.
	role = testRole(t, "vpn-gw-1", "    vlan_address: 10.0.1.3/24\n", "")
	c = role.Configs(Options{Log: discard})
	want := "iBGP: accepted from 10.0.1.0/24, the peer's address learned from its VRRP adverts"
	if c.BGP.IBGPPeer.IsValid() || c.BGP.IBGPRange != netip.MustParsePrefix("10.0.1.0/24") || len(c.Warnings) != 0 || !slices.Equal(c.Notes, []string{want}) {
		t.Errorf("no peer address: iBGP %v range %v warnings %q notes %q", c.BGP.IBGPPeer, c.BGP.IBGPRange, c.Warnings, c.Notes)
	}
}
