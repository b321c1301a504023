package awspeer

import (
	"fmt"
	"github.com/tidegate/tidegate/configs"
	"github.com/tidegate/tidegate/qemu/guest"
	"net/netip"
	"strings"
	"testing"
)

func testConfig() Config {
	return Config{Tunnels: []Tunnel{{
		Name:        "vpn-1a",
		OutsideAWS:  netip.MustParseAddr("192.0.2.10"),
		InsideCIDR:  netip.MustParsePrefix("169.254.80.144/30"),
		PSK:         "test.psk.vpn_1a",
		CustomerASN: 65000,
	}, {
		Name:            "vpn-1b",
		OutsideAWS:      netip.MustParseAddr("192.0.2.11"),
		OutsideCustomer: netip.MustParseAddr("192.0.2.100"),
		InsideCIDR:      netip.MustParsePrefix("169.254.81.148/30"),
		PSK:             "test.psk.vpn_1b",
		CustomerASN:     65000,
	}}}
}

func render(t *testing.T, c Config) map[string]string {
	t.Helper()
	files, err := Render(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.Contains(f.Path, "swanctl") && f.Mode&0o077 != 0 {
			t.Errorf("%s holds keys but has mode %o", f.Path, f.Mode)
		}
	}
	return guest.Contents(files)
}

func TestRender(t *testing.T) {
	m := render(t, testConfig())
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"/etc/swanctl/swanctl.conf", []string{
			"vpn-1a {\n\t\tversion = 2\n\t\tlocal_addrs = 192.0.2.10\n\t\tremote_addrs = %any",
			"remote_addrs = 192.0.2.100", "id-cgw = 192.0.2.100",
			"start_action = none", "dpd_action = clear", "dpd_delay = 10s",
			"if_id_in = 1", "if_id_out = 2",
			"life_time = 3600s", `secret = "test.psk.vpn_1b"`,
			"proposals = aes128-aes256-sha1-sha256-sha384-sha512-modp1024-modp2048-",
			"aes128gcm16-aes256gcm16-prfsha1-prfsha256-prfsha384-prfsha512-modp1024",
			"esp_proposals = aes128-aes256-sha1-sha256-sha384-sha512-modp1536-modp1024",
		}},
		{"/etc/frr/bgpd.conf", []string{
			"router bgp 64512", "bgp router-id 169.254.80.145",
			"neighbor 169.254.80.146 remote-as 65000", "neighbor 169.254.81.150 remote-as 65000",
			"neighbor 169.254.80.146 timers 10 30", "network 10.0.0.0/24",
		}},
		{"/etc/awspeer/network.sh", []string{
			"ip addr add 192.0.2.10/24 dev eth0", "ip addr add 192.0.2.11/24 dev eth0",
			"ip link add xfrm1 type xfrm dev eth0 if_id 1", "ip link set xfrm2 alias vpn-1b mtu 1446 up",
			"ip addr add 169.254.81.149/30 dev xfrm2", "ip addr add 10.0.0.24/24 dev vpc0",
		}},
		{"/etc/strongswan.conf", []string{"retransmit_tries = 4", "install_routes = no"}},
	} {
		for _, w := range tc.want {
			if !strings.Contains(m[tc.file], w) {
				t.Errorf("%s lacks %q:\n%s", tc.file, w, m[tc.file])
			}
		}
	}
	if strings.Contains(m["/etc/frr/bgpd.conf"]+m["/etc/awspeer/network.sh"], "psk") {
		t.Error("a pre-shared key outside swanctl.conf")
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no tunnels", func(c *Config) { c.Tunnels = nil }, "no tunnels"},
		{"short psk", func(c *Config) { c.Tunnels[0].PSK = "short" }, "pre-shared key"},
		{"psk starting with 0", func(c *Config) { c.Tunnels[0].PSK = "0abcdefghij" }, "pre-shared key"},
		{"inside not /30", func(c *Config) { c.Tunnels[0].InsideCIDR = netip.MustParsePrefix("169.254.80.144/29") }, "inside CIDR"},
		{"inside not link-local", func(c *Config) { c.Tunnels[0].InsideCIDR = netip.MustParsePrefix("10.1.2.0/30") }, "inside CIDR"},
		{"inside twice", func(c *Config) { c.Tunnels[1].InsideCIDR = c.Tunnels[0].InsideCIDR }, "already used"},
		{"name twice", func(c *Config) { c.Tunnels[1].Name = c.Tunnels[0].Name }, "name used twice"},
		{"bad name", func(c *Config) { c.Tunnels[0].Name = "a b" }, "name"},
		{"no outside", func(c *Config) { c.Tunnels[0].OutsideAWS = netip.Addr{} }, "AWS outside address"},
		{"customer ASN", func(c *Config) { c.Tunnels[0].CustomerASN = 64512 }, "customer ASN"},
		{"VPC host", func(c *Config) { c.VPCHost = netip.MustParseAddr("10.9.9.9") }, "VPC host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testConfig()
			tc.change(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error about %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "test.psk") {
				t.Errorf("the error shows a key: %v", err)
			}
		})
	}
	if err := testConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestFromSite(t *testing.T) {
	s, err := configs.Load("../../configs/examples/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := FromSite(s, "vpn-gw-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Tunnels) != 2 || c.Tunnels[0].Name != "vpn-1a" || c.Tunnels[1].OutsideAWS.String() != "198.51.100.10" ||
		c.Tunnels[0].CustomerASN != 65000 || c.ASN != 64512 || c.Tunnels[0].PSK != "EXAMPLE.psk.for.vpn_1a" {
		t.Errorf("FromSite(seed, vpn-gw-1) = %+v", c)
	}
	all, err := FromSite(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Tunnels) != 4 {
		t.Errorf("FromSite(seed) has %d tunnels, want 4", len(all.Tunnels))
	}
	if _, err := FromSite(s, "nope"); err == nil {
		t.Error("FromSite with an unknown gateway: no error")
	}
}

// TestRenderNoECMP: a virtual private gateway sends on one path; FRR's
// default would spread over equal paths of both gateways.
func TestRenderNoECMP(t *testing.T) {
	files, err := Render(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.Path == "/etc/frr/bgpd.conf" && !strings.Contains(string(f.Data), "\n  maximum-paths 1\n") {
			t.Errorf("bgpd.conf allows ECMP:\n%s", f.Data)
		}
	}
}

// TestRenderTransitGateway: a transit gateway with VPN ECMP spreads flows
// over every tunnel, hashed per flow on addresses and ports.
func TestRenderTransitGateway(t *testing.T) {
	c := testConfig()
	c.TransitGateway = true
	files, err := Render(c)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"/etc/frr/bgpd.conf":      fmt.Sprintf("\n  maximum-paths %d\n", len(c.Tunnels)),
		"/etc/awspeer/network.sh": "sysctl -qw net.ipv4.fib_multipath_hash_policy=1\n",
	}
	for _, f := range files {
		if w, ok := want[f.Path]; ok {
			if !strings.Contains(string(f.Data), w) {
				t.Errorf("%s lacks %q:\n%s", f.Path, w, f.Data)
			}
			delete(want, f.Path)
		}
	}
	if len(want) > 0 {
		t.Errorf("files missing: %v", want)
	}
}
