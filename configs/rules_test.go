package configs

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// t2a inserts extra keys into gateways[1].tunnels[0] (vpn-2a).
func t2a(extra ...string) []string {
	return []string{"psk: EXAMPLE.psk.2a", "psk: EXAMPLE.psk.2a\n        " + strings.Join(extra, "\n        ")}
}

// vrrp inserts extra keys into vrrp.
func vrrp(extra ...string) []string {
	return []string{"  vrid: 10\n", "  vrid: 10\n  " + strings.Join(extra, "\n  ") + "\n"}
}

// bgp inserts extra keys into bgp.
func bgp(extra ...string) []string {
	return []string{"  asn: 65000\n", "  asn: 65000\n  " + strings.Join(extra, "\n  ") + "\n"}
}

// syslog adds a syslog section with the given keys.
func syslog(keys ...string) []string {
	return []string{"gateways:", "syslog:\n  " + strings.Join(keys, "\n  ") + "\ngateways:"}
}

func prefixes(n int) string {
	var p []string
	for i := range n {
		p = append(p, fmt.Sprintf("192.0.2.%d/32", i))
	}
	return "[" + strings.Join(p, ", ") + "]"
}

func prefixes24(n int) string {
	var p []string
	for i := range n {
		p = append(p, fmt.Sprintf("10.%d.%d.0/24", 100+i/256, i%256))
	}
	return "[" + strings.Join(p, ", ") + "]"
}

const tunnel3 = `
      - name: vpn-1c
        outside_address: 203.0.113.11
        inside_cidr: 169.254.84.0/30
        psk: EXAMPLE.psk.1c
      - name: vpn-1d
        outside_address: 203.0.113.12
        inside_cidr: 169.254.84.4/30
        psk: EXAMPLE.psk.1d
      - name: vpn-1e
        outside_address: 203.0.113.13
        inside_cidr: 169.254.84.8/30
        psk: EXAMPLE.psk.1e
  - name: vpn-gw-2`

const gw3 = `
  - name: vpn-gw-3
    priority: 98
    tunnels:
      - name: vpn-3a
        outside_address: 203.0.113.30
        inside_cidr: 169.254.85.0/30
        psk: EXAMPLE.psk.3a
`

// TestRules has one failing case per rule. Each names the path the error
// must carry, a fragment of its message, and the text whose line the error
// must point at ("" when the key is absent: then the line is the enclosing
// key's, or 0 at top level, and is not checked).
func TestRules(t *testing.T) {
	const tp = "gateways[1].tunnels[0]"
	cases := []struct {
		name  string
		edits []string
		path  string
		msg   string
		line  string
	}{
		// Structure and types.
		{"unknown top key", []string{"site: lab", "site: lab\nsight: lab"}, "sight", "unknown key; expected one of: version, site, vlan", "sight:"},
		{"unknown nested key", vrrp("vird: 3"), "vrrp.vird", "unknown key; did you mean vrid?", "vird"},
		{"misspelt key", vrrp("advert_intervl: 1s"), "vrrp.advert_intervl", "did you mean advert_interval?", "advert_intervl"},
		{"dashed key", []string{"virtual_ip:", "virtual-ip:"}, "vlan.virtual-ip", "did you mean virtual_ip?", "virtual-ip"},
		{"far key", vrrp("bananas: 1"), "vrrp.bananas", "unknown key; expected one of: vrid, version,", "bananas"},
		{"unknown tunnel key", t2a("pks: x"), tp + ".pks", "unknown key", "pks"},
		{"duplicate key", vrrp("vrid: 11"), "vrrp.vrid", "duplicate key (first set at line 7)", "vrid: 11"},
		{"merge key", []string{"vrrp:\n  vrid: 10", "vrrp:\n  <<: {vrid: 10}"}, "vrrp.<<", "merge keys", "<<"},
		{"mapping expected", []string{"vrrp:\n  vrid: 10", "vrrp: 10"}, "vrrp", "must be a mapping", "vrrp: 10"},
		{"list expected", []string{"    tunnels:\n      - name: vpn-2a", "    tunnels: vpn-2a\n    x:\n      - name: vpn-2a"}, "gateways[1].tunnels", "must be a list", "tunnels: vpn-2a"},
		{"scalar expected", []string{"site: lab", "site: [lab]"}, "site", "must be a single value", "site:"},
		{"quoted integer", []string{"vrid: 10", `vrid: "10"`}, "vrrp.vrid", `must be an integer, got a string "10"`, "vrid"},
		{"empty list item", bgp("advertise: [10.0.1.0/24, ~]"), "bgp.advertise[1]", "empty list item", "advertise"},
		{"custom tag", []string{"site: lab", "site: !secret lab"}, "site", "custom YAML tags", "site:"},

		// version, site
		{"version missing", []string{"version: 1\n", ""}, "version", "required; set version: 1", ""},
		{"version 2", []string{"version: 1", "version: 2"}, "version", "unsupported version 2", "version"},
		{"site missing", []string{"site: lab\n", ""}, "site", "required", ""},
		{"site empty", []string{"site: lab", `site: ""`}, "site", "lower-case letters", "site"},
		{"site chars", []string{"site: lab", "site: Linode_AWS"}, "site", `"Linode_AWS" may contain only lower-case letters, digits and '-'`, "site"},
		{"site long", []string{"site: lab", "site: " + strings.Repeat("a", 64)}, "site", "at most 63", "site"},

		// vlan
		{"interface", []string{"vlan:\n", "vlan:\n  interface: eth1/x\n"}, "vlan.interface", "not a valid Linux interface name", "interface"},
		{"interface long", []string{"vlan:\n", "vlan:\n  interface: abcdefghijklmnop\n"}, "vlan.interface", "1 to 15", "interface"},
		{"prefix missing", []string{"  prefix: 10.0.1.0/24\n", ""}, "vlan.prefix", "required", "vlan:"},
		{"prefix not a prefix", []string{"prefix: 10.0.1.0/24", "prefix: 10.0.1.0"}, "vlan.prefix", "the prefix length is missing", "prefix"},
		{"prefix IPv6", []string{"prefix: 10.0.1.0/24", "prefix: 2001:db8::/64"}, "vlan.prefix", "IPv6 is not supported", "prefix"},
		{"prefix host bits", []string{"prefix: 10.0.1.0/24", "prefix: 10.0.1.5/24"}, "vlan.prefix", "did you mean 10.0.1.0/24?", "prefix"},
		{"prefix too small", []string{"prefix: 10.0.1.0/24", "prefix: 10.0.1.0/30"}, "vlan.prefix", "no room", "prefix"},
		{"vip missing", []string{"  virtual_ip: 10.0.1.200\n", ""}, "vlan.virtual_ip", "required", "vlan:"},
		{"vip bad", []string{"virtual_ip: 10.0.1.200", "virtual_ip: 10.0.1.300"}, "vlan.virtual_ip", `must be an IPv4 address, got "10.0.1.300"`, "virtual_ip"},
		{"vip IPv6", []string{"virtual_ip: 10.0.1.200", "virtual_ip: 2001:db8::1"}, "vlan.virtual_ip", "IPv6", "virtual_ip"},
		{"vip outside", []string{"virtual_ip: 10.0.1.200", "virtual_ip: 10.0.2.200"}, "vlan.virtual_ip", "outside vlan.prefix 10.0.1.0/24", "virtual_ip"},
		{"vip network", []string{"virtual_ip: 10.0.1.200", "virtual_ip: 10.0.1.0"}, "vlan.virtual_ip", "network address", "virtual_ip"},
		{"vip broadcast", []string{"virtual_ip: 10.0.1.200", "virtual_ip: 10.0.1.255"}, "vlan.virtual_ip", "broadcast address", "virtual_ip"},
		{"vips and vip", []string{"virtual_ip: 10.0.1.200", "virtual_ip: 10.0.1.200\n  virtual_ips: [10.0.1.200, 10.0.1.201]"}, "vlan.virtual_ips", "either vlan.virtual_ip (active-standby) or vlan.virtual_ips", "virtual_ips"},
		{"vips one", []string{"virtual_ip: 10.0.1.200", "virtual_ips: [10.0.1.200]"}, "vlan.virtual_ips", "exactly two addresses", "virtual_ips"},
		{"vips three", []string{"virtual_ip: 10.0.1.200", "virtual_ips: [10.0.1.200, 10.0.1.201, 10.0.1.202]"}, "vlan.virtual_ips", "got 3", "virtual_ips"},
		{"vips equal", []string{"virtual_ip: 10.0.1.200", "virtual_ips: [10.0.1.200, 10.0.1.200]"}, "vlan.virtual_ips[1]", "the two virtual IPs must differ", "virtual_ips"},
		{"vips outside", []string{"virtual_ip: 10.0.1.200", "virtual_ips: [10.0.1.200, 10.0.2.201]"}, "vlan.virtual_ips[1]", "outside vlan.prefix", "virtual_ips"},
		{"vips bad", []string{"virtual_ip: 10.0.1.200", "virtual_ips: [10.0.1.200, 10.0.1.300]"}, "vlan.virtual_ips[1]", "must be an IPv4 address", "virtual_ips"},
		{"vips vrid 255", []string{"virtual_ip: 10.0.1.200", "virtual_ips: [10.0.1.200, 10.0.1.201]", "vrid: 10", "vrid: 255"}, "vrrp.vrid", "vrid and vrid+1", "vrid"},
		{"vips vlan_address", []string{"virtual_ip: 10.0.1.200", "virtual_ips: [10.0.1.200, 10.0.1.3]"}, "gateways[1].vlan_address", "is a virtual IP", "10.0.1.3/24"},
		{"vips advertise /31", []string{"virtual_ip: 10.0.1.200", "virtual_ips: [10.0.1.200, 10.0.1.201]", "  asn: 65000\n", "  asn: 65000\n  advertise: [10.0.1.0/24, 10.9.0.0/31]\n"}, "bgp.advertise[1]", "quarters, which need a /30", "advertise"},
		{"vips advertise count", []string{"virtual_ip: 10.0.1.200", "virtual_ips: [10.0.1.200, 10.0.1.201]", "  asn: 65000\n", "  asn: 65000\n  advertise: " + prefixes24(15) + "\n"}, "bgp.advertise", "at most 14 fit, because in active-active", "advertise"},
		{"ecmp backup_prepend", bgp("ecmp: true", "backup_prepend: 2"), "bgp.backup_prepend", "does not apply with bgp.ecmp", "backup_prepend"},
		{"ecmp med", append(bgp("ecmp: true"), t2a("med: 100")...), tp + ".med", "every tunnel needs the same MED", "med: 100"},

		// vrrp
		{"vrid missing", []string{"  vrid: 10\n", "  preempt: true\n"}, "vrrp.vrid", "required", "vrrp:"},
		{"vrid 0", []string{"vrid: 10", "vrid: 0"}, "vrrp.vrid", "between 1 and 255, got 0", "vrid"},
		{"vrid 256", []string{"vrid: 10", "vrid: 256"}, "vrrp.vrid", "between 1 and 255, got 256", "vrid"},
		{"vrrp version", vrrp("version: 4"), "vrrp.version", "between 2 and 3", "version: 4"},
		{"v2 fractional advert", vrrp("version: 2", "advert_interval: 1500ms"), "vrrp.advert_interval", "whole seconds from 1s to 255s", "advert_interval"},
		{"v2 advert too long", vrrp("version: 2", "advert_interval: 256"), "vrrp.advert_interval", "whole seconds", "advert_interval"},
		{"v3 advert too short", vrrp("advert_interval: 5ms"), "vrrp.advert_interval", "10ms steps", "advert_interval"},
		{"v3 advert step", vrrp("advert_interval: 15ms"), "vrrp.advert_interval", "10ms steps", "advert_interval"},
		{"v3 advert too long", vrrp("advert_interval: 41s"), "vrrp.advert_interval", "40.95s", "advert_interval"},
		{"advert garbage", vrrp("advert_interval: fast"), "vrrp.advert_interval", `got "fast"`, "advert_interval"},
		{"advert float", vrrp("advert_interval: 1.5"), "vrrp.advert_interval", "whole number of seconds", "advert_interval"},
		{"advert negative", vrrp("advert_interval: -1s"), "vrrp.advert_interval", "negative", "advert_interval"},
		{"auth_pass with v3", vrrp("auth_pass: password"), "vrrp.auth_pass", "VRRP version 2 only", "auth_pass"},
		{"auth_pass too long", vrrp("version: 2", "auth_pass: password1"), "vrrp.auth_pass", "at most 8 bytes", "auth_pass"},
		{"preempt not bool", vrrp("preempt: yes"), "vrrp.preempt", `must be true or false, got "yes"`, "preempt"},
		{"preempt delay without preempt", vrrp("preempt: false", "preempt_delay: 10s"), "vrrp.preempt_delay", "no effect with preempt: false", "preempt_delay"},
		{"preempt delay too long", vrrp("preempt_delay: 1001s"), "vrrp.preempt_delay", "at most 1000s", "preempt_delay"},

		// bgp
		{"asn missing", []string{"  asn: 65000\n", "  backup_prepend: 2\n"}, "bgp.asn", "required", "bgp:"},
		{"asn 64512", []string{"asn: 65000", "asn: 64512"}, "bgp.asn", "AWS's default ASN", "asn"},
		{"asn 0", []string{"asn: 65000", "asn: 0"}, "bgp.asn", "between 1 and 4294967294", "asn"},
		{"asn too big", []string{"asn: 65000", "asn: 4294967295"}, "bgp.asn", "between 1 and 4294967294", "asn"},
		{"asn AS_TRANS", []string{"asn: 65000", "asn: 23456"}, "bgp.asn", "AS_TRANS", "asn"},
		{"asn equals remote", t2a("remote_asn: 65000"), tp + ".remote_asn", "equals bgp.asn", "remote_asn"},
		{"advertise host bits", bgp("advertise: [10.0.1.1/24]"), "bgp.advertise[0]", "host bits are set in 10.0.1.1/24; write the prefix in canonical form, 10.0.1.0/24", "advertise"},
		{"advertise /32", bgp("advertise: [192.0.2.1/32]"), "bgp.advertise[0]", "split into its two halves", "advertise"},
		{"advertise duplicate", bgp("advertise:", "  - 10.0.1.0/24", "  - 192.0.2.0/24", "  - 10.0.1.0/24  # again"), "bgp.advertise[2]", "listed twice (also bgp.advertise[0])", "# again"},
		{"advertise IPv6", bgp("advertise: [2001:db8::/32]"), "bgp.advertise[0]", "IPv6", "advertise"},
		{"advertise empty", bgp("advertise: []"), "bgp.advertise", "lists no prefix", "advertise"},
		{"advertise not list", bgp("advertise: 10.0.1.0/24"), "bgp.advertise", "must be a list", "advertise"},
		{"advertise 34", bgp("advertise: " + prefixes24(34)), "bgp.advertise", "at most 33 fit, because on failover a gateway announces each prefix and its two halves", "advertise"},
		{"advertise 101", bgp("advertise: " + prefixes(101)), "bgp.advertise", "AWS accepts at most 100 routes per VPN connection", "advertise"},
		{"backup_prepend", bgp("backup_prepend: 11"), "bgp.backup_prepend", "between 0 and 10", "backup_prepend"},
		{"accept host bits", bgp("accept: [10.0.0.1/8]"), "bgp.accept[0]", "host bits are set in 10.0.0.1/8; write the prefix in canonical form, 10.0.0.0/8", "accept"},
		{"accept duplicate", bgp("accept: [10.0.0.0/8, 10.0.0.0/8]"), "bgp.accept[1]", "listed twice (also bgp.accept[0])", "accept"},
		{"accept not a prefix", bgp("accept: [10.0.0.0]"), "bgp.accept[0]", "", "accept"},
		{"max_prefixes 0", bgp("max_prefixes: 0"), "bgp.max_prefixes", "between 1 and 1000000", "max_prefixes"},
		{"ibgp_password space", bgp("ibgp_password: two words"), "bgp.ibgp_password", "printable ASCII characters without spaces", "ibgp_password"},
		{"ibgp_password long", bgp("ibgp_password: " + strings.Repeat("x", 81)), "bgp.ibgp_password", "1 to 80", "ibgp_password"},
		{"status allow host bits", []string{"gateways:", "status:\n  allow: [198.51.100.7/24]\ngateways:"}, "status.allow[0]", "host bits are set", "allow"},
		{"status unknown key", []string{"gateways:", "status:\n  listen: eth0\ngateways:"}, "status.listen", "unknown key", "listen"},

		// syslog
		{"syslog address missing", syslog("protocol: tcp"), "syslog.address", "required; the receiver's address on the VLAN", "syslog:"},
		{"syslog outside the VLAN", syslog("address: 192.0.2.50:514"), "syslog.address", "192.0.2.50 is outside vlan.prefix 10.0.1.0/24; the receiver must be a host on the VLAN, since syslog is clear text", "address"},
		{"syslog network", syslog("address: 10.0.1.0"), "syslog.address", "network address", "address"},
		{"syslog broadcast", syslog("address: 10.0.1.255:514"), "syslog.address", "broadcast address", "address"},
		{"syslog virtual IP", syslog("address: 10.0.1.200:514"), "syslog.address", "is a virtual IP of the pair", "address"},
		{"syslog a gateway", syslog("address: 10.0.1.3:514"), "syslog.address", "is gateways[1].vlan_address", "address"},
		{"syslog name", syslog("address: logs.example.com:514"), "syslog.address", `must be an IPv4 address with an optional port, such as 10.0.1.50:514, got "logs.example.com:514"`, "address"},
		{"syslog IPv6", syslog("address: '[2001:db8::1]:514'"), "syslog.address", "IPv6 is not supported", "address"},
		{"syslog port 0", syslog("address: 10.0.1.50:0"), "syslog.address", "port 0 is not a port; leave it out for 514", "address"},
		{"syslog port too big", syslog("address: 10.0.1.50:65536"), "syslog.address", "must be an IPv4 address with an optional port", "address"},
		{"syslog protocol", syslog("address: 10.0.1.50", "protocol: tls"), "syslog.protocol", `must be udp or tcp, got "tls"`, "protocol"},
		{"syslog unknown key", syslog("address: 10.0.1.50", "facility: local0"), "syslog.facility", "unknown key; expected one of: address, protocol", "facility"},
		{"syslog not a mapping", []string{"gateways:", "syslog: 10.0.1.50\ngateways:"}, "syslog", "must be a mapping", "syslog:"},

		// gateways
		{"gateways missing", []string{"gateways:", "gw:"}, "gateways", "required; list the two gateways", ""},
		{"one gateway", []string{base[strings.Index(base, "  - name: vpn-gw-2"):], ""}, "gateways", "exactly two gateways (the pair), got 1", "gateways:"},
		{"three gateways", []string{"EXAMPLE.psk.2b\n", "EXAMPLE.psk.2b\n" + gw3}, "gateways", "exactly two gateways (the pair), got 3; more than two is not supported yet (the repository's docs/design.md", "gateways:"},
		{"gateway name missing", []string{"  - name: vpn-gw-2\n", "  -\n"}, "gateways[1].name", "required", "    priority: 99"},
		{"gateway name label", []string{"name: vpn-gw-2", "name: vpn--gw"}, "gateways[1].name", "must be a Linode label", "vpn--gw"},
		{"gateway name short", []string{"name: vpn-gw-2", "name: gw"}, "gateways[1].name", "3 to 64", "name: gw"},
		{"gateway name end", []string{"name: vpn-gw-2", "name: vpn-gw-"}, "gateways[1].name", "Linode label", "vpn-gw-\n"},
		{"gateway names equal", []string{"name: vpn-gw-2", "name: vpn-gw-1"}, "gateways[1].name", `also the name of gateways[0]`, "name: vpn-gw-1\n    priority: 99"},
		{"priority missing", []string{"    priority: 99\n", ""}, "gateways[1].priority", "required", "name: vpn-gw-2"},
		{"priority equal", []string{"priority: 99", "priority: 100"}, "gateways[1].priority", "distinct priorities", "priority: 100\n    vlan_address: 10.0.1.3"},
		{"priority 255", []string{"priority: 99", "priority: 255"}, "gateways[1].priority", "between 1 and 254", "priority: 255"},
		{"priority 0", []string{"priority: 99", "priority: 0"}, "gateways[1].priority", "between 1 and 254", "priority: 0"},
		{"vlan_address outside", []string{"vlan_address: 10.0.1.3/24", "vlan_address: 10.0.2.3/24"}, "gateways[1].vlan_address", "outside vlan.prefix", "10.0.2.3"},
		{"vlan_address length", []string{"vlan_address: 10.0.1.3/24", "vlan_address: 10.0.1.3/25"}, "gateways[1].vlan_address", "prefix length /25 differs", "10.0.1.3/25"},
		{"vlan_address network", []string{"vlan_address: 10.0.1.3/24", "vlan_address: 10.0.1.0/24"}, "gateways[1].vlan_address", "network address", "10.0.1.0/24\n    tunnels"},
		{"vlan_address broadcast", []string{"vlan_address: 10.0.1.3/24", "vlan_address: 10.0.1.255/24"}, "gateways[1].vlan_address", "broadcast address", "10.0.1.255"},
		{"vlan_address vip", []string{"vlan_address: 10.0.1.3/24", "vlan_address: 10.0.1.200/24"}, "gateways[1].vlan_address", "is a virtual IP", "10.0.1.200/24"},
		{"vlan_address equal", []string{"vlan_address: 10.0.1.3/24", "vlan_address: 10.0.1.2/24"}, "gateways[1].vlan_address", "also the address of gateways[0]", "10.0.1.2/24\n    tunnels:\n      - name: vpn-2a"},
		{"vlan_address no length", []string{"vlan_address: 10.0.1.3/24", "vlan_address: 10.0.1.3"}, "gateways[1].vlan_address", "prefix length is missing", "10.0.1.3\n"},

		// tunnels
		{"tunnels missing", []string{"    tunnels:\n      - name: vpn-2a", "    x:\n      - name: vpn-2a"}, "gateways[1].x", "unknown key", "    x:"},
		{"tunnels empty", []string{"vlan_address: 10.0.1.3/24\n    tunnels:", "vlan_address: 10.0.1.3/24\n    tunnels: []\n    y:"}, "gateways[1].tunnels", "1 to 4 tunnels", "tunnels: []"},
		{"five tunnels", []string{"\n  - name: vpn-gw-2", tunnel3}, "gateways[0].tunnels", "1 to 4 tunnels (AWS gives two per VPN connection), got 5", "    tunnels:"},
		{"tunnel name missing", []string{"      - name: vpn-2a\n        outside", "      - outside"}, tp + ".name", "required", "      - outside"},
		{"tunnel name chars", []string{"name: vpn-2a", "name: vpn 2a"}, tp + ".name", "letters, digits", "vpn 2a"},
		{"tunnel name unique across site", []string{"name: vpn-2a", "name: vpn-1a"}, tp + ".name", "also the name of gateways[0].tunnels[0]; tunnel names must be unique across the site", "name: vpn-1a\n        outside_address: 203.0.113.20"},
		{"outside missing", []string{"        outside_address: 203.0.113.20\n", ""}, tp + ".outside_address", "required", "name: vpn-2a"},
		{"outside private", []string{"outside_address: 203.0.113.20", "outside_address: 10.9.9.9"}, tp + ".outside_address", "private", "10.9.9.9"},
		{"outside link-local", []string{"outside_address: 203.0.113.20", "outside_address: 169.254.1.1"}, tp + ".outside_address", "link-local", "169.254.1.1"},
		{"outside loopback", []string{"outside_address: 203.0.113.20", "outside_address: 127.0.0.1"}, tp + ".outside_address", "loopback", "127.0.0.1"},
		{"outside multicast", []string{"outside_address: 203.0.113.20", "outside_address: 224.0.0.5"}, tp + ".outside_address", "multicast", "224.0.0.5"},
		{"outside CGNAT", []string{"outside_address: 203.0.113.20", "outside_address: 100.64.1.1"}, tp + ".outside_address", "carrier-grade NAT", "100.64.1.1"},
		{"outside IPv6", []string{"outside_address: 203.0.113.20", "outside_address: 2001:db8::1"}, tp + ".outside_address", "IPv6", "2001:db8::1"},
		{"outside duplicate in gateway", []string{"outside_address: 198.51.100.20", "outside_address: 203.0.113.20"}, "gateways[1].tunnels[1].outside_address", "also the outside address of gateways[1].tunnels[0]", "outside_address: 203.0.113.20\n        inside_cidr: 169.254.83"},
		{"inside missing", []string{"        inside_cidr: 169.254.82.152/30\n", ""}, tp + ".inside_cidr", "required", "name: vpn-2a"},
		{"inside not /30", []string{"inside_cidr: 169.254.82.152/30", "inside_cidr: 169.254.82.152/29"}, tp + ".inside_cidr", "must be a /30", "/29"},
		{"inside host bits", []string{"inside_cidr: 169.254.82.152/30", "inside_cidr: 169.254.82.154/30"}, tp + ".inside_cidr", "write the /30 itself, 169.254.82.152/30", "154/30"},
		{"inside not link-local", []string{"inside_cidr: 169.254.82.152/30", "inside_cidr: 192.0.2.0/30"}, tp + ".inside_cidr", "outside 169.254.0.0/16", "192.0.2.0/30"},
		{"inside reserved 0", []string{"inside_cidr: 169.254.82.152/30", "inside_cidr: 169.254.0.0/30"}, tp + ".inside_cidr", "reserved by AWS", "169.254.0.0/30"},
		{"inside reserved 5", []string{"inside_cidr: 169.254.82.152/30", "inside_cidr: 169.254.5.0/30"}, tp + ".inside_cidr", "reserved by AWS", "169.254.5.0/30"},
		{"inside reserved 169", []string{"inside_cidr: 169.254.82.152/30", "inside_cidr: 169.254.169.252/30"}, tp + ".inside_cidr", "reserved by AWS", "169.254.169.252/30"},
		{"inside unique across site", []string{"inside_cidr: 169.254.82.152/30", "inside_cidr: 169.254.80.144/30"}, tp + ".inside_cidr", "also the inside CIDR of gateways[0].tunnels[0]", "169.254.80.144/30\n        psk: EXAMPLE.psk.2a"},
		{"psk missing", []string{"        psk: EXAMPLE.psk.2a\n", ""}, tp + ".psk", "required", "name: vpn-2a"},
		{"psk short", []string{"psk: EXAMPLE.psk.2a", "psk: Abc1234"}, tp + ".psk", "length is outside 8 to 64", "psk: Abc1234"},
		{"psk long", []string{"psk: EXAMPLE.psk.2a", "psk: " + strings.Repeat("a", 65)}, tp + ".psk", "length is outside 8 to 64", "psk: aaa"},
		{"psk chars", []string{"psk: EXAMPLE.psk.2a", "psk: EXAMPLE-psk-2a"}, tp + ".psk", "character outside A-Z a-z 0-9 . _", "EXAMPLE-psk-2a"},
		{"psk leading zero", []string{"psk: EXAMPLE.psk.2a", "psk: 0EXAMPLEpsk"}, tp + ".psk", "starts with 0", "0EXAMPLEpsk"},
		{"psk mapping", []string{"psk: EXAMPLE.psk.2a", "psk: {a: b}"}, tp + ".psk", "must be a single value", "psk: {a"},
		{"remote_asn 0", t2a("remote_asn: 0"), tp + ".remote_asn", "between 1 and 4294967294", "remote_asn"},
		{"ike_version 3", t2a("ike_version: 3"), tp + ".ike_version", "between 1 and 2", "ike_version"},
		{"dpd 0", t2a("dpd_delay: 0"), tp + ".dpd_delay", "between 1s and 1m", "dpd_delay"},
		{"dpd 61", t2a("dpd_delay: 61s"), tp + ".dpd_delay", "between 1s and 1m", "dpd_delay"},
		{"dpd fraction", t2a("dpd_delay: 1500ms"), tp + ".dpd_delay", "whole number of seconds", "dpd_delay"},
		{"ike lifetime short", t2a("ike_lifetime: 899"), tp + ".ike_lifetime", "between 15m and 8h (AWS's phase 1 range)", "ike_lifetime"},
		{"ike lifetime long", t2a("ike_lifetime: 9h"), tp + ".ike_lifetime", "between 15m and 8h", "ike_lifetime"},
		{"child lifetime long", t2a("child_lifetime: 3601"), tp + ".child_lifetime", "between 15m and 1h (AWS's phase 2 range)", "child_lifetime"},
		{"child lifetime short", t2a("child_lifetime: 10m"), tp + ".child_lifetime", "between 15m and 1h", "child_lifetime"},
		{"child not below ike", t2a("ike_lifetime: 15m", "child_lifetime: 900"), tp + ".child_lifetime", "less than ike_lifetime 15m", "child_lifetime"},
		{"med negative", t2a("med: -1"), tp + ".med", "between 0 and 4294967295", "med"},

		// proposals
		{"proposal unknown token", t2a("proposals: [aes192-sha256-modp2048]"), tp + ".proposals[0]", `unknown or unsupported token "aes192"`, "proposals"},
		{"proposal unknown tokens", t2a("proposals: [aes256-sha3-curve25519]"), tp + ".proposals[0]", `tokens "sha3", "curve25519" (AWS accepts encryption aes128`, "proposals"},
		{"proposal gcm without prf", t2a("proposals: [aes256gcm16-ecp384]"), tp + ".proposals[0]", "needs a PRF", "proposals"},
		{"proposal gcm with integrity", t2a("proposals: [aes256gcm16-sha256-prfsha256-ecp384]"), tp + ".proposals[0]", "GCM authenticates itself (use a PRF", "proposals"},
		{"proposal mixes aead", t2a("proposals: [aes256gcm16-aes256-sha256-prfsha256-ecp384]"), tp + ".proposals[0]", "mixes GCM (AEAD) and CBC", "proposals"},
		{"proposal no dh", t2a("proposals: [aes256-sha256]"), tp + ".proposals[0]", "no DH group", "proposals"},
		{"proposal no integrity", t2a("proposals: [aes256-modp2048]"), tp + ".proposals[0]", "needs an integrity algorithm", "proposals"},
		{"proposal no encryption", t2a("proposals: [sha256-modp2048]"), tp + ".proposals[0]", "no encryption algorithm", "proposals"},
		{"proposal modp1536 in ike", t2a("proposals: [aes256-sha256-modp1536]"), tp + ".proposals[0]", "ESP proposals only", "proposals"},
		{"proposal default", t2a("proposals: [default]"), tp + ".proposals[0]", `"default" would offer`, "proposals"},
		{"proposal empty token", t2a("proposals: [aes256--sha256-modp2048]"), tp + ".proposals[0]", "empty algorithm between dashes", "proposals"},
		{"proposal repeated token", t2a("proposals: [aes256-sha256-sha256-modp2048]"), tp + ".proposals[0]", "names sha256 twice", "proposals"},
		{"proposal upper case", t2a("proposals: [AES256-SHA256-MODP2048]"), tp + ".proposals[0]", `"AES256"`, "proposals"},
		{"proposals empty", t2a("proposals: []"), tp + ".proposals", "lists no proposal", "proposals"},
		{"proposals duplicate", t2a("proposals: [aes256-sha256-modp2048, aes256-sha256-modp2048]"), tp + ".proposals[1]", "listed twice", "proposals"},
		{"proposal second bad", t2a("proposals:", "  - aes256-sha256-modp2048", "  - aes128-md5-modp2048"), tp + ".proposals[1]", `"md5"`, "aes128-md5"},
		{"ikev1 gcm", t2a("ike_version: 1", "proposals: [aes256gcm16-prfsha384-ecp384]"), tp + ".proposals[0]", "IKEv1 cannot use a GCM cipher", "proposals"},
		{"ikev1 two ciphers", t2a("ike_version: 1", "proposals: [aes256-aes128-sha256-modp2048]"), tp + ".proposals[0]", "IKEv1 takes one algorithm of each kind", "proposals"},
		{"esp prf", t2a("esp_proposals: [aes256gcm16-prfsha256]"), tp + ".esp_proposals[0]", "PRF (prfsha256) belongs in IKE proposals only", "esp_proposals"},
		{"esp gcm integrity", t2a("esp_proposals: [aes256gcm16-sha256]"), tp + ".esp_proposals[0]", "GCM authenticates itself", "esp_proposals"},
		{"esp cbc no integrity", t2a("esp_proposals: [aes256-modp2048]"), tp + ".esp_proposals[0]", "needs an integrity algorithm", "esp_proposals"},
		{"esp esn", t2a("esp_proposals: [aes256gcm16-ecp384-esn]"), tp + ".esp_proposals[0]", `"esn"`, "esp_proposals"},
		{"esp not list", t2a("esp_proposals: aes256gcm16"), tp + ".esp_proposals", "must be a list", "esp_proposals"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := edit(t, base, c.edits...)
			_, err := Parse([]byte(doc))
			if err == nil {
				t.Fatalf("Parse succeeded, want error at %s:\n%s", c.path, doc)
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("error %T is not Errors: %v", err, err)
			}
			var found *Error
			for _, e := range es {
				if e.Path == c.path {
					found = e
					break
				}
			}
			if found == nil {
				t.Fatalf("no error at %s; got:\n%v", c.path, err)
			}
			if !strings.Contains(found.Msg, c.msg) {
				t.Errorf("error at %s = %q, want it to contain %q", c.path, found.Msg, c.msg)
			}
			if c.line != "" {
				if want := lineOf(t, doc, c.line); found.Line != want {
					t.Errorf("error at %s is on line %d, want %d:\n%v", c.path, found.Line, want, err)
				}
			}
			if !strings.Contains(found.Error(), c.path+": ") {
				t.Errorf("Error() = %q does not name the path", found.Error())
			}
		})
	}
}

func TestProposalsAccepted(t *testing.T) {
	for _, p := range []string{
		"aes128-sha1-modp1024",
		"aes256-sha512-prfsha512-modp8192",
		"aes128gcm16-prfsha256-ecp256",
		"aes256gcm16-aes128gcm16-prfsha384-prfsha256-ecp384-modp3072",
		"aes256-aes128-sha256-sha1-modp2048s256-modp2048s224-modp1024s160-ecp521-modp6144-modp4096",
	} {
		if msg := checkProposal(p, true, 2); msg != "" {
			t.Errorf("IKE %s: %s", p, msg)
		}
	}
	for _, p := range []string{"aes128gcm16", "aes256-sha256", "aes256gcm16-modp1536", "aes128-sha1-ecp256"} {
		if msg := checkProposal(p, false, 2); msg != "" {
			t.Errorf("ESP %s: %s", p, msg)
		}
	}
	for _, p := range DefaultProposals(2) {
		if msg := checkProposal(p, true, 2); msg != "" {
			t.Errorf("default IKE %s: %s", p, msg)
		}
	}
	for _, p := range DefaultProposals(1) {
		if msg := checkProposal(p, true, 1); msg != "" {
			t.Errorf("default IKEv1 %s: %s", p, msg)
		}
	}
	for _, p := range DefaultESPProposals() {
		for _, v := range []int{1, 2} {
			if msg := checkProposal(p, false, v); msg != "" {
				t.Errorf("default ESP %s (IKEv%d): %s", p, v, msg)
			}
		}
	}
}

func TestDocumentErrors(t *testing.T) {
	for _, c := range []struct {
		name, doc, msg string
		line           int
	}{
		{"syntax", "version: 1\nsite: [lab\nvlan: x\n", "YAML syntax", 0},
		{"tab indent", "version: 1\nvlan:\n\tprefix: 10.0.1.0/24\n", "YAML syntax", 3},
		{"two documents", base + "---\n" + base, "second YAML document", 0},
		{"base64", "dmVyc2lvbjogMQo=\n", "still base64-encoded", 1},
		{"list", "- a\n- b\n", "must be a YAML mapping", 1},
		{"invalid utf-8", "site: \xff\xfe\xfd\n", "YAML syntax", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.doc))
			var es Errors
			if !errors.As(err, &es) || len(es) != 1 {
				t.Fatalf("err = %v, want one Error", err)
			}
			if !strings.Contains(es[0].Msg, c.msg) {
				t.Errorf("msg = %q, want %q", es[0].Msg, c.msg)
			}
			if c.line != 0 && es[0].Line != c.line {
				t.Errorf("line = %d, want %d", es[0].Line, c.line)
			}
		})
	}
}

// TestAliases checks that anchors and aliases work where a value is expected
// and that keys are still checked through them.
func TestAliases(t *testing.T) {
	doc := edit(t, base,
		"psk: EXAMPLE.psk.1a", "psk: EXAMPLE.psk.1a\n        esp_proposals: &esp [aes128gcm16-ecp256]",
		"psk: EXAMPLE.psk.2a", "psk: EXAMPLE.psk.2a\n        esp_proposals: *esp",
	)
	s := mustParse(t, doc)
	if got := s.Gateways[1].Tunnels[0].ESPProposals; len(got) != 1 || got[0] != "aes128gcm16-ecp256" {
		t.Errorf("aliased esp_proposals = %v", got)
	}
}
