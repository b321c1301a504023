package bgp

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	api "github.com/osrg/gobgp/v3/api"
)

func validConfig() Config {
	return Config{
		RouterID:      netip.MustParseAddr("10.0.1.2"),
		ASN:           65000,
		Advertise:     []netip.Prefix{netip.MustParsePrefix("10.0.1.0/24")},
		BackupPrepend: 2,
		Tunnels: []Tunnel{
			{Name: "vpn-1a", Local: netip.MustParseAddr("169.254.80.146"), Remote: netip.MustParseAddr("169.254.80.145")},
			{Name: "vpn-1b", Local: netip.MustParseAddr("169.254.81.146"), Remote: netip.MustParseAddr("169.254.81.145"), MED: 50},
		},
		IBGPPeer: netip.MustParseAddr("10.0.1.3"),
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := validConfig().withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.Tunnels[0].RemoteASN != 64512 || c.Tunnels[1].RemoteASN != 64512 {
		t.Errorf("remote ASN defaults: %+v", c.Tunnels)
	}
	if c.Port != 179 || c.RouteMetric != 20 || c.ReconcileInterval != 60*time.Second ||
		c.StartupGrace != 30*time.Second || c.Logger == nil {
		t.Errorf("defaults: port %d metric %d reconcile %v grace %v", c.Port, c.RouteMetric, c.ReconcileInterval, c.StartupGrace)
	}
}

// TestConfigLiteral: MED and BackupPrepend are taken as given, zero
// included; their defaults belong to package configs (which gives the first
// tunnel MED 0, the next 100, and allows backup_prepend: 0 for none).
func TestConfigLiteral(t *testing.T) {
	tests := []struct {
		name    string
		meds    [2]uint32
		prepend int
	}{
		{"configs defaults", [2]uint32{0, 100}, 2},
		{"no prepend", [2]uint32{0, 100}, 0},
		{"equal MEDs", [2]uint32{0, 0}, 1},
		{"explicit", [2]uint32{50, 7}, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validConfig()
			in.BackupPrepend = tt.prepend
			in.Tunnels[0].MED, in.Tunnels[1].MED = tt.meds[0], tt.meds[1]
			c, err := in.withDefaults()
			if err != nil {
				t.Fatal(err)
			}
			if got := [2]uint32{c.Tunnels[0].MED, c.Tunnels[1].MED}; got != tt.meds || c.BackupPrepend != tt.prepend {
				t.Errorf("MEDs %v prepend %d, want %v and %d", got, c.BackupPrepend, tt.meds, tt.prepend)
			}
			// What AWS is told while backup: exactly these MEDs, and the
			// prepend only when asked for.
			for i, s := range exportStatements(c, policyState{}) {
				if s.Actions.Med == nil || s.Actions.Med.Value != int64(tt.meds[i]) {
					t.Errorf("tunnel %d export MED %v, want %d", i, s.Actions.Med, tt.meds[i])
				}
				switch p := s.Actions.AsPrepend; {
				case tt.prepend == 0 && p != nil:
					t.Errorf("tunnel %d prepends %dx while backup, want no prepend", i, p.Repeat)
				case tt.prepend > 0 && (p == nil || p.Repeat != uint32(tt.prepend) || p.Asn != 65000):
					t.Errorf("tunnel %d prepend %v, want 65000x%d", i, p, tt.prepend)
				}
			}
		})
	}
}

// exportStatements are the statements exporting the advertised prefixes
// to each tunnel, in tunnel order.
func exportStatements(c Config, st policyState) []*api.Statement {
	var out []*api.Statement
	for _, p := range policies(c, st).Policies {
		for _, s := range p.Statements {
			for i := range c.Tunnels {
				if s.Name == fmt.Sprintf("tg-tunnel-%d-out", i) {
					out = append(out, s)
				}
			}
		}
	}
	return out
}

func TestConfigErrors(t *testing.T) {
	many := make([]netip.Prefix, 101)
	for i := range many {
		many[i] = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i), 0, 0}), 16)
	}
	tests := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"no router ID", func(c *Config) { c.RouterID = netip.Addr{} }, "router ID"},
		{"no ASN", func(c *Config) { c.ASN = 0 }, "ASN"},
		{"101 prefixes", func(c *Config) { c.Advertise = many }, "at most 100"},
		{"host bits", func(c *Config) { c.Advertise = []netip.Prefix{netip.MustParsePrefix("10.0.1.1/24")} }, "host bits"},
		{"duplicate prefix", func(c *Config) { c.Advertise = append(c.Advertise, c.Advertise[0]) }, "twice"},
		{"IPv6 prefix", func(c *Config) { c.Advertise = []netip.Prefix{netip.MustParsePrefix("2001:db8::/32")} }, "IPv4"},
		{"no peers", func(c *Config) { c.Tunnels = nil; c.IBGPPeer = netip.Addr{} }, "no BGP peer"},
		{"unnamed tunnel", func(c *Config) { c.Tunnels[0].Name = "" }, "name must be set"},
		{"duplicate tunnel", func(c *Config) { c.Tunnels[1].Name = c.Tunnels[0].Name }, "used twice"},
		{"same remote", func(c *Config) { c.Tunnels[1].Remote = c.Tunnels[0].Remote }, "used by another peer"},
		{"iBGP ASN on tunnel", func(c *Config) { c.Tunnels[0].RemoteASN = 65000 }, "eBGP"},
		{"iBGP peer is us", func(c *Config) { c.IBGPPeer = c.RouterID }, "own router ID"},
		{"negative prepend", func(c *Config) { c.BackupPrepend = -1 }, "backup prepend -1"},
		{"range and peer", func(c *Config) { c.IBGPRange = netip.MustParsePrefix("10.0.1.0/24") }, "only without a configured iBGP peer"},
		{"range without us", func(c *Config) { c.IBGPPeer = netip.Addr{}; c.IBGPRange = netip.MustParsePrefix("10.0.2.0/24") }, "does not hold our router ID"},
		{"range host bits", func(c *Config) { c.IBGPPeer = netip.Addr{}; c.IBGPRange = netip.MustParsePrefix("10.0.1.2/24") }, "host bits"},
		{"range IPv6", func(c *Config) { c.IBGPPeer = netip.Addr{}; c.IBGPRange = netip.MustParsePrefix("2001:db8::/64") }, "IPv4 prefix"},
		{"tunnel in range", func(c *Config) { c.IBGPPeer = netip.Addr{}; c.IBGPRange = netip.MustParsePrefix("0.0.0.0/0") }, "inside the iBGP range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.mod(&c)
			_, err := New(c)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: %v, want an error with %q", err, tt.want)
			}
		})
	}
	// A range alone is an iBGP session, even without tunnels.
	c := validConfig()
	c.Tunnels, c.IBGPPeer, c.IBGPRange = nil, netip.Addr{}, netip.MustParsePrefix("10.0.1.0/24")
	if _, err := New(c); err != nil {
		t.Errorf("range only: %v", err)
	}
	// Exactly AWS's limit is fine.
	c = validConfig()
	c.Advertise = many[:100]
	if _, err := New(c); err != nil {
		t.Errorf("100 prefixes: %v", err)
	}
}

func TestPolicies(t *testing.T) {
	c, err := validConfig().withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	describe := func(st policyState) string {
		var out []string
		for _, p := range policies(c, st).Policies {
			for _, s := range p.Statements {
				a := s.Actions
				desc := fmt.Sprintf("%s:%v", s.Name, a.RouteAction)
				if a.AsPrepend != nil {
					desc += fmt.Sprintf(" prepend %dx%d", a.AsPrepend.Asn, a.AsPrepend.Repeat)
				}
				if a.Med != nil {
					desc += fmt.Sprintf(" med %d", a.Med.Value)
				}
				if a.Nexthop != nil && a.Nexthop.Self {
					desc += " nexthop-self"
				}
				if a.LocalPref != nil {
					desc += fmt.Sprintf(" local-pref %d", a.LocalPref.Value)
				}
				out = append(out, desc)
			}
		}
		return strings.Join(out, "; ")
	}
	// The return-path halves go to the tunnels with their MED and never
	// prepended, and never to or from the iBGP peer.
	const out = "tg-ibgp-out-halves:REJECT; tg-ibgp-out:ACCEPT nexthop-self; "
	// The import filter comes before the per-neighbour statements; the
	// peer's own announcement of the site's prefix passes it.
	const filter = "tg-reject-too-short:REJECT; tg-reject-reserved:REJECT; tg-ibgp-in-site:ACCEPT local-pref 50; tg-reject-own-prefix:REJECT; "
	tests := []struct {
		st   policyState
		want string
	}{
		{policyState{}, filter + "tg-ibgp-in:ACCEPT local-pref 50; tg-tunnel-0-in:ACCEPT med 0; tg-tunnel-1-in:ACCEPT med 50; " +
			out + "tg-tunnel-0-out:ACCEPT prepend 65000x2 med 0; tg-tunnel-0-out-halves:ACCEPT med 0; " +
			"tg-tunnel-1-out:ACCEPT prepend 65000x2 med 50; tg-tunnel-1-out-halves:ACCEPT med 50; tg-aws-reject:REJECT"},
		{policyState{Master: true}, filter + "tg-ibgp-in:ACCEPT local-pref 50; tg-tunnel-0-in:ACCEPT med 0; tg-tunnel-1-in:ACCEPT med 50; " +
			out + "tg-tunnel-0-out:ACCEPT med 0; tg-tunnel-0-out-halves:ACCEPT med 0; " +
			"tg-tunnel-1-out:ACCEPT med 50; tg-tunnel-1-out-halves:ACCEPT med 50; tg-aws-reject:REJECT"},
		{policyState{Master: true, PeerGone: true}, "tg-ibgp-gone:REJECT; " + filter + "tg-ibgp-in:ACCEPT local-pref 50; tg-tunnel-0-in:ACCEPT med 0; tg-tunnel-1-in:ACCEPT med 50; " +
			out + "tg-tunnel-0-out:ACCEPT med 0; tg-tunnel-0-out-halves:ACCEPT med 0; " +
			"tg-tunnel-1-out:ACCEPT med 50; tg-tunnel-1-out-halves:ACCEPT med 50; tg-aws-reject:REJECT"},
	}
	for _, tt := range tests {
		if got := describe(tt.st); got != tt.want {
			t.Errorf("%+v:\n got %s\nwant %s", tt.st, got, tt.want)
		}
	}
}

// rangedConfig is validConfig with the iBGP peer's address to be learned
// within the VLAN's prefix.
func rangedConfig() Config {
	c := validConfig()
	c.IBGPPeer, c.IBGPRange = netip.Addr{}, netip.MustParsePrefix("10.0.1.0/24")
	return c
}

// TestIBGPNeighbours: the iBGP statements match the configured peer, or
// the whole range when the peer's address is learned.
func TestIBGPNeighbours(t *testing.T) {
	ranged := rangedConfig()
	tests := []struct {
		name string
		c    Config
		want string
	}{
		{"configured peer", validConfig(), "10.0.1.3/32"},
		{"range", ranged, "10.0.1.0/24"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.c.withDefaults()
			if err != nil {
				t.Fatal(err)
			}
			req := policies(c, policyState{})
			i := slices.IndexFunc(req.DefinedSets, func(d *api.DefinedSet) bool { return d.Name == setIBGP })
			if i < 0 || !slices.Equal(req.DefinedSets[i].List, []string{tt.want}) {
				t.Fatalf("iBGP neighbour set %v, want [%s]", req.DefinedSets, tt.want)
			}
			for _, a := range []string{"10.0.1.3", "10.0.1.200"} {
				if got, want := c.isIBGP(netip.MustParseAddr(a)), tt.want == "10.0.1.0/24" || a == "10.0.1.3"; got != want {
					t.Errorf("isIBGP(%s) = %v, want %v", a, got, want)
				}
			}
			if c.isIBGP(c.Tunnels[0].Remote) {
				t.Errorf("tunnel remote %v taken for iBGP", c.Tunnels[0].Remote)
			}
		})
	}
}
