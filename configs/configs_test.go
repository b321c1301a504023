package configs

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// base is a small valid site that the error cases mutate. It is kept here
// rather than read from examples/ so that editing an example cannot move the
// lines the cases expect.
const base = `version: 1
site: lab
vlan:
  prefix: 10.0.1.0/24
  virtual_ip: 10.0.1.200
vrrp:
  vrid: 10
bgp:
  asn: 65000
gateways:
  - name: vpn-gw-1
    priority: 100
    vlan_address: 10.0.1.2/24
    tunnels:
      - name: vpn-1a
        outside_address: 203.0.113.10
        inside_cidr: 169.254.80.144/30
        psk: EXAMPLE.psk.1a
      - name: vpn-1b
        outside_address: 198.51.100.10
        inside_cidr: 169.254.81.148/30
        psk: EXAMPLE.psk.1b
  - name: vpn-gw-2
    priority: 99
    vlan_address: 10.0.1.3/24
    tunnels:
      - name: vpn-2a
        outside_address: 203.0.113.20
        inside_cidr: 169.254.82.152/30
        psk: EXAMPLE.psk.2a
      - name: vpn-2b
        outside_address: 198.51.100.20
        inside_cidr: 169.254.83.156/30
        psk: EXAMPLE.psk.2b
`

// edit applies old->new replacements (first occurrence each) to base.
func edit(t testing.TB, doc string, pairs ...string) string {
	t.Helper()
	if len(pairs)%2 != 0 {
		t.Fatalf("odd edit pairs %q", pairs)
	}
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(doc, pairs[i]) {
			t.Fatalf("edit: %q not in document", pairs[i])
		}
		doc = strings.Replace(doc, pairs[i], pairs[i+1], 1)
	}
	return doc
}

// lineOf returns the 1-based line of the first occurrence of sub in doc.
func lineOf(t testing.TB, doc, sub string) int {
	t.Helper()
	i := strings.Index(doc, sub)
	if i < 0 {
		t.Fatalf("lineOf: %q not in document", sub)
	}
	return strings.Count(doc[:i], "\n") + 1
}

func mustParse(t testing.TB, doc string) *Site {
	t.Helper()
	s, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse: unexpected error:\n%v", err)
	}
	return s
}

func TestBaseIsValid(t *testing.T) { mustParse(t, base) }

func TestExamples(t *testing.T) {
	files, err := filepath.Glob("examples/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("found %d example files, want at least seed.yaml and seed-keepalived-v2.yaml", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			s, err := Load(f)
			if err != nil {
				t.Fatalf("Load:\n%v", err)
			}
			if _, err := s.Masked(); err != nil {
				t.Fatalf("Masked: %v", err)
			}
		})
	}
}

// TestSeed checks that examples/seed.yaml is the seed's reference scenario.
func TestSeed(t *testing.T) {
	s, err := Load("examples/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Version != 1 || s.VLAN.Interface != "eth1" || s.VLAN.Prefix != netip.MustParsePrefix("10.0.1.0/24") ||
		s.VLAN.VirtualIP != netip.MustParseAddr("10.0.1.200") {
		t.Errorf("vlan = %+v", s.VLAN)
	}
	if s.VRRP.VRID != 10 || s.VRRP.Version != 3 || s.VRRP.AdvertInterval != time.Second || !s.VRRP.Preempt {
		t.Errorf("vrrp = %+v", s.VRRP)
	}
	if s.BGP.ASN != 65000 || len(s.BGP.Advertise) != 1 || s.BGP.Advertise[0] != netip.MustParsePrefix("10.0.1.0/24") || s.BGP.BackupPrepend != 2 {
		t.Errorf("bgp = %+v", s.BGP)
	}
	want := []struct {
		name string
		prio uint8
		addr string
	}{{"vpn-gw-1", 100, "10.0.1.2/24"}, {"vpn-gw-2", 99, "10.0.1.3/24"}}
	if len(s.Gateways) != 2 {
		t.Fatalf("got %d gateways", len(s.Gateways))
	}
	for i, w := range want {
		g := s.Gateways[i]
		if g.Name != w.name || g.Priority != w.prio || g.VLANAddress != netip.MustParsePrefix(w.addr) {
			t.Errorf("gateway %d = %s/%d/%s, want %+v", i, g.Name, g.Priority, g.VLANAddress, w)
		}
		if len(g.Tunnels) != 2 {
			t.Errorf("gateway %s has %d tunnels, want 2", g.Name, len(g.Tunnels))
		}
		for _, tu := range g.Tunnels {
			if tu.RemoteASN != 64512 {
				t.Errorf("tunnel %s remote_asn %d", tu.Name, tu.RemoteASN)
			}
		}
	}
	t0 := s.Gateways[0].Tunnels[0]
	if t0.InsideCIDR != netip.MustParsePrefix("169.254.80.144/30") {
		t.Errorf("first tunnel inside = %s", t0.InsideCIDR)
	}

	v2, err := Load("examples/seed-keepalived-v2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if v2.VRRP.Version != 2 || v2.VRRP.AuthPass.Reveal() != "password" || v2.VRRP.VRID != 10 || v2.VRRP.AdvertInterval != time.Second {
		t.Errorf("keepalived example vrrp = %+v (auth %q)", v2.VRRP, v2.VRRP.AuthPass.Reveal())
	}
}

func TestInsideAddresses(t *testing.T) {
	tu := Tunnel{InsideCIDR: netip.MustParsePrefix("169.254.80.144/30")}
	if got, want := tu.RemoteInside(), netip.MustParseAddr("169.254.80.145"); got != want {
		t.Errorf("RemoteInside = %s, want %s", got, want)
	}
	if got, want := tu.LocalInside(), netip.MustParsePrefix("169.254.80.146/30"); got != want {
		t.Errorf("LocalInside = %s, want %s", got, want)
	}
	var zero Tunnel
	if zero.RemoteInside().IsValid() || zero.LocalInside().IsValid() {
		t.Error("zero tunnel has inside addresses")
	}
}

func TestDefaults(t *testing.T) {
	s := mustParse(t, base)
	if s.VLAN.Interface != "eth1" || s.VRRP.Version != 3 || s.VRRP.AdvertInterval != time.Second ||
		!s.VRRP.Preempt || s.VRRP.PreemptDelay != 0 || s.BGP.BackupPrepend != 2 {
		t.Errorf("defaults: vlan %+v vrrp %+v bgp %+v", s.VLAN, s.VRRP, s.BGP)
	}
	if len(s.BGP.Advertise) != 1 || s.BGP.Advertise[0] != s.VLAN.Prefix {
		t.Errorf("advertise = %v, want [vlan.prefix]", s.BGP.Advertise)
	}
	for _, g := range s.Gateways {
		for i, tu := range g.Tunnels {
			if tu.RemoteASN != 64512 || tu.IKEVersion != 2 || tu.DPDDelay != 10*time.Second ||
				tu.IKELifetime != 8*time.Hour || tu.ChildLifetime != time.Hour || tu.MED != uint32(i*100) {
				t.Errorf("tunnel %s defaults: %+v", tu.Name, tu)
			}
			if strings.Join(tu.Proposals, ",") != "aes256gcm16-prfsha384-ecp384,aes256-sha256-modp2048" ||
				strings.Join(tu.ESPProposals, ",") != "aes256gcm16-ecp384,aes256-sha256-modp2048" {
				t.Errorf("tunnel %s proposals %v / %v", tu.Name, tu.Proposals, tu.ESPProposals)
			}
		}
	}

	// Explicit values, including explicit zeros, win over defaults.
	s = mustParse(t, edit(t, base,
		"  vrid: 10\n", "  vrid: 10\n  preempt: false\n  version: 2\n  advert_interval: 3\n",
		"  asn: 65000\n", "  asn: 65000\n  backup_prepend: 0\n  advertise: [192.0.2.0/25, 10.0.1.0/24]\n",
		"psk: EXAMPLE.psk.1b", "psk: EXAMPLE.psk.1b\n        med: 0\n        ike_version: 1\n        dpd_delay: 20s\n        ike_lifetime: 3600\n        child_lifetime: 30m",
	))
	if s.VRRP.Preempt || s.VRRP.Version != 2 || s.VRRP.AdvertInterval != 3*time.Second || s.BGP.BackupPrepend != 0 {
		t.Errorf("explicit vrrp/bgp lost: %+v %+v", s.VRRP, s.BGP)
	}
	if got := fmt.Sprint(s.BGP.Advertise); got != "[192.0.2.0/25 10.0.1.0/24]" {
		t.Errorf("advertise = %s", got)
	}
	tu := s.Gateways[0].Tunnels[1]
	if tu.MED != 0 || tu.IKEVersion != 1 || tu.DPDDelay != 20*time.Second || tu.IKELifetime != time.Hour || tu.ChildLifetime != 30*time.Minute {
		t.Errorf("explicit tunnel values lost: %+v", tu)
	}
	if strings.Join(tu.Proposals, ",") != "aes256-sha256-modp2048" {
		t.Errorf("IKEv1 default proposals = %v", tu.Proposals)
	}
}

func TestDefaultDPDIsWhole(t *testing.T) {
	// dpd_delay 100ms above should have failed; check it separately so that
	// TestDefaults stays about defaults.
	_, err := Parse([]byte(edit(t, base, "psk: EXAMPLE.psk.1b", "psk: EXAMPLE.psk.1b\n        dpd_delay: 100ms")))
	if err == nil || !strings.Contains(err.Error(), "gateways[0].tunnels[1].dpd_delay") {
		t.Fatalf("err = %v", err)
	}
}

func TestGatewayAndPeer(t *testing.T) {
	s := mustParse(t, base)
	g, err := s.Gateway("vpn-gw-2")
	if err != nil || g.Name != "vpn-gw-2" || g != &s.Gateways[1] {
		t.Fatalf("Gateway(vpn-gw-2) = %v, %v", g, err)
	}
	p, err := s.Peer("vpn-gw-2")
	if err != nil || p.Name != "vpn-gw-1" {
		t.Fatalf("Peer(vpn-gw-2) = %v, %v", p, err)
	}
	p, err = s.Peer("vpn-gw-1")
	if err != nil || p.Name != "vpn-gw-2" {
		t.Fatalf("Peer(vpn-gw-1) = %v, %v", p, err)
	}
	for _, f := range []func(string) (*Gateway, error){s.Gateway, s.Peer} {
		_, err := f("localhost")
		if err == nil || !strings.Contains(err.Error(), `"localhost"`) ||
			!strings.Contains(err.Error(), `"vpn-gw-1", "vpn-gw-2"`) {
			t.Errorf("unknown name error = %v", err)
		}
	}
	tu, err := g.Tunnel("vpn-2b")
	if err != nil || tu.Name != "vpn-2b" {
		t.Errorf("Tunnel(vpn-2b) = %v, %v", tu, err)
	}
	if _, err := g.Tunnel("vpn-1a"); err == nil || !strings.Contains(err.Error(), `"vpn-2a", "vpn-2b"`) {
		t.Errorf("Tunnel(vpn-1a) on gw-2 err = %v", err)
	}
}

func TestCheckVLANAddress(t *testing.T) {
	s := mustParse(t, base)
	for addr, want := range map[string]string{
		"10.0.1.7/24":   "",
		"10.0.2.7/24":   "outside vlan.prefix",
		"10.0.1.7/25":   "prefix length /25",
		"10.0.1.0/24":   "network address",
		"10.0.1.255/24": "broadcast address",
		"10.0.1.200/24": "virtual_ip",
	} {
		err := s.CheckVLANAddress(netip.MustParsePrefix(addr))
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("CheckVLANAddress(%s) = %v, want %q", addr, err, want)
		}
	}
}

func TestLoadNamesFile(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "site.yaml")
	doc := edit(t, base, "vrid: 10", "vrid: 0")
	if err := os.WriteFile(f, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(f)
	want := fmt.Sprintf("%s:%d: vrrp.vrid: ", f, lineOf(t, doc, "vrid"))
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("Load error = %v, want prefix %q", err, want)
	}
	_, err = Load(filepath.Join(dir, "missing.yaml"))
	if err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Fatalf("Load(missing) = %v", err)
	}
}

func TestUserDataForms(t *testing.T) {
	crlf := strings.ReplaceAll(base, "\n", "\r\n")
	for name, doc := range map[string]string{
		"bom":        "\xef\xbb\xbf" + base,
		"crlf":       crlf,
		"bom+crlf":   "\xef\xbb\xbf" + crlf,
		"leading---": "---\n" + base,
	} {
		t.Run(name, func(t *testing.T) {
			s := mustParse(t, doc)
			if s.Gateways[1].Tunnels[1].PSK.Reveal() != "EXAMPLE.psk.2b" {
				t.Errorf("psk = %q (CR kept?)", s.Gateways[1].Tunnels[1].PSK.Reveal())
			}
		})
	}
	for name, doc := range map[string]string{
		"nil":      "",
		"spaces":   " \n\t\n",
		"bom only": "\xef\xbb\xbf",
		"comments": "# nothing here\n",
		"null":     "~\n",
		"dashes":   "---\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(doc))
			if err == nil || !strings.HasPrefix(err.Error(), "user data is empty: expected the site YAML") {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestErrorsType(t *testing.T) {
	_, err := Parse([]byte(edit(t, base, "vrid: 10", "vrid: 0", "asn: 65000", "asn: 64512")))
	var es Errors
	if !errors.As(err, &es) || len(es) != 2 {
		t.Fatalf("err = %#v, want Errors of 2", err)
	}
	var pes *Errors
	if !errors.As(err, &pes) || len(*pes) != 2 {
		t.Fatalf("errors.As(*Errors) = %v", pes)
	}
	var e *Error
	if !errors.As(err, &e) || e.Path != "vrrp.vrid" || e.Line != 7 {
		t.Fatalf("errors.As *Error = %+v", e)
	}
	if n := strings.Count(err.Error(), "\n"); n != 1 {
		t.Errorf("Error() has %d newlines, want one line per problem:\n%s", n, err)
	}
	if got := (&Error{Path: "a.b", Msg: "m"}).Error(); got != "a.b: m" {
		t.Errorf("no-line format = %q", got)
	}
	if got := (&Error{Line: 3, Msg: "m"}).Error(); got != "line 3: m" {
		t.Errorf("no-path format = %q", got)
	}
}

// TestManyErrors checks that one run reports every independent problem, in
// document order, without follow-on noise from values that did not decode.
func TestManyErrors(t *testing.T) {
	doc := edit(t, base,
		"site: lab", "site: Lab",
		"prefix: 10.0.1.0/24", "prefix: banana",
		"vrid: 10", "vrid: x",
		"priority: 99", "priority: 100",
		"psk: EXAMPLE.psk.2b", "psk: short",
	)
	_, err := Parse([]byte(doc))
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("err = %v", err)
	}
	var paths []string
	for _, e := range es {
		paths = append(paths, e.Path)
	}
	want := []string{"site", "vlan.prefix", "vrrp.vrid", "gateways[1].priority", "gateways[1].tunnels[1].psk"}
	if fmt.Sprint(paths) != fmt.Sprint(want) {
		t.Errorf("paths = %v, want %v\n%v", paths, want, err)
	}
}

// TestActiveActiveAndECMP checks the effective values of the two modes:
// which gateway owns which virtual IP, and the MEDs under bgp.ecmp.
func TestActiveActiveAndECMP(t *testing.T) {
	aa, err := Load("examples/seed-active-active.yaml")
	if err != nil {
		t.Fatal(err)
	}
	vips := []netip.Addr{netip.MustParseAddr("10.0.1.200"), netip.MustParseAddr("10.0.1.201")}
	if !aa.ActiveActive() || !slices.Equal(aa.VLAN.VirtualIPs, vips) || aa.VLAN.VirtualIP != vips[0] {
		t.Errorf("active-active vlan = %+v", aa.VLAN)
	}
	if g1, g2 := aa.Group("vpn-gw-1"), aa.Group("vpn-gw-2"); g1 != 0 || g2 != 1 {
		t.Errorf("groups = %d, %d; want 0, 1", g1, g2)
	}
	if m := aa.Gateways[0].Tunnels[1].MED; m != MEDStep {
		t.Errorf("without ecmp the second tunnel's MED = %d, want %d", m, MEDStep)
	}
	masked, err := aa.Masked()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(masked), "virtual_ips: [10.0.1.200, 10.0.1.201]") || strings.Contains(string(masked), "virtual_ip:") {
		t.Errorf("Masked does not show the two virtual IPs alone:\n%s", masked)
	}

	seed, err := Load("examples/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if seed.ActiveActive() || len(seed.VLAN.VirtualIPs) != 1 || seed.Group("vpn-gw-2") != 0 {
		t.Errorf("active-standby vlan = %+v, group of vpn-gw-2 = %d", seed.VLAN, seed.Group("vpn-gw-2"))
	}

	ecmp := mustParse(t, edit(t, base, "  asn: 65000\n", "  asn: 65000\n  ecmp: true\n"))
	for _, g := range ecmp.Gateways {
		for _, tu := range g.Tunnels {
			if tu.MED != 0 {
				t.Errorf("ecmp: tunnel %s MED = %d, want 0 on every tunnel", tu.Name, tu.MED)
			}
		}
	}
}

// TestSyslog checks the effective values of syslog: the default port and
// protocol, what Masked shows, and that a site without it sends nothing.
func TestSyslog(t *testing.T) {
	for _, tc := range []struct {
		keys, address, protocol string
	}{
		{"  address: 10.0.1.50\n", "10.0.1.50:514", "udp"},
		{"  address: 10.0.1.50:1514\n  protocol: tcp\n", "10.0.1.50:1514", "tcp"},
	} {
		s := mustParse(t, edit(t, base, "gateways:", "syslog:\n"+tc.keys+"gateways:"))
		if !s.Syslog.Enabled() || s.Syslog.Address.String() != tc.address || s.Syslog.Protocol != tc.protocol {
			t.Errorf("%q: syslog = %+v, want %s over %s", tc.keys, s.Syslog, tc.address, tc.protocol)
		}
		masked, err := s.Masked()
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("syslog:\n  address: %s\n  protocol: %s\n", tc.address, tc.protocol); !strings.Contains(string(masked), want) {
			t.Errorf("Masked lacks %q:\n%s", want, masked)
		}
	}
	s := mustParse(t, base)
	if masked, _ := s.Masked(); s.Syslog.Enabled() || strings.Contains(string(masked), "syslog") {
		t.Errorf("a site without syslog has %+v, Masked:\n%s", s.Syslog, masked)
	}
}
