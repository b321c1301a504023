package awspeer

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"

	"github.com/tidegate/tidegate/qemu/guest"
)

// Modules are the kernel modules the guest loads, in order: an IPsec
// guest's, and dummy for the VPC host's address.
var Modules = append(append([]string(nil), guest.IPsecModules...), "dummy")

// AWS's tunnel options (EC2 API VpnTunnelOptionsSpecification): the
// algorithms a new VPN connection accepts, as strongSwan keywords.
// Diffie-Hellman groups 2 and 14-24 in phase 1; phase 2 adds group 5.
var (
	awsCiphers     = []string{"aes128", "aes256"}
	awsAEADs       = []string{"aes128gcm16", "aes256gcm16"}
	awsIntegrity   = []string{"sha1", "sha256", "sha384", "sha512"}
	awsPRFs        = []string{"prfsha1", "prfsha256", "prfsha384", "prfsha512"}
	awsPhase1DH    = []string{"modp1024", "modp2048", "modp3072", "modp4096", "modp6144", "modp8192", "ecp256", "ecp384", "ecp521", "modp1024s160", "modp2048s224", "modp2048s256"}
	awsPhase2DH    = append([]string{"modp1536"}, awsPhase1DH...)
	join           = func(parts ...[]string) string { return strings.Join(concat(parts...), "-") }
	ikeProposals   = []string{join(awsCiphers, awsIntegrity, awsPhase1DH), join(awsAEADs, awsPRFs, awsPhase1DH)}
	childProposals = []string{join(awsCiphers, awsIntegrity, awsPhase2DH), join(awsAEADs, awsPhase2DH)}
)

func concat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// AWS's lifetimes: phase 1 28800 s, phase 2 3600 s, rekeyed in a margin of
// 270 s before them with 100% fuzz (AWS's defaults).
const (
	phase1Lifetime = 28800
	phase2Lifetime = 3600
	rekeyMargin    = 270
)

// IPerf3Ports are the ports of the VPC host's iperf3 servers.
var IPerf3Ports = []int{5201, 5202}

// MTU is the peer's XFRM interfaces' MTU: the most AWS documents a tunnel
// carries (1446, "Best practices for your customer gateway device"), so
// that the customer gateway's own MTU is what limits a path, as with AWS.
const MTU = 1446

// Interface returns the name and if_id of the guest's XFRM interface for
// the i-th tunnel.
func Interface(i int) (name string, ifID int) { return guest.XFRMInterface(i) }

var strongswanConf = guest.StrongswanConf(`# AWS's VPN endpoint: charon as responder, route based.
`, `	# The XFRM interfaces carry the traffic: no routes or virtual IPs.
	install_routes = no
	install_virtual_ip = no
	# Select by the initiator's order of preference, as AWS does, so that
	# the customer gateway's first proposal is the one tested.
	prefer_configured_proposals = no
	# A peer that stops answering DPD (every 10 s) is declared dead after
	# five retransmissions, 2 s * 1.5^n: about 30 s, AWS's DPD timeout.
	retransmit_tries = 4
	retransmit_timeout = 2.0
	retransmit_base = 1.5
`)

// AWS's side of each tunnel in swanctl.conf: its settings, the same on
// every tunnel.
var (
	ikeSettings = []string{
		"dpd_delay = 10s",
		fmt.Sprintf("rekey_time = %ds", phase1Lifetime-rekeyMargin),
		fmt.Sprintf("over_time = %ds", rekeyMargin),
		fmt.Sprintf("rand_time = %ds", rekeyMargin),
		"unique = replace",
	}
	childSettings = []string{
		fmt.Sprintf("rekey_time = %ds", phase2Lifetime-rekeyMargin),
		fmt.Sprintf("life_time = %ds", phase2Lifetime),
		fmt.Sprintf("rand_time = %ds", rekeyMargin),
		"replay_window = 1024",
		"start_action = none",
		"dpd_action = clear",
		"close_action = none",
	}
)

var bgpdTmpl = template.Must(template.New("bgpd.conf").Parse(`frr defaults traditional
hostname {{.Hostname}}
log file /var/log/frr/bgpd.log informational
!
router bgp {{.ASN}}
 bgp router-id {{.RouterID}}
 no bgp ebgp-requires-policy
 timers bgp 10 30
{{- range .Tunnels}}
 neighbor {{.Neighbor}} remote-as {{.ASN}}
 neighbor {{.Neighbor}} description {{.Name}}
 neighbor {{.Neighbor}} timers 10 30
 neighbor {{.Neighbor}} timers connect 5
{{- end}}
 address-family ipv4 unicast
  network {{.VPC}}
{{- if .ECMP}}
  ! A transit gateway with VPN ECMP support spreads flows over every
  ! tunnel with an equal path (the kernel hashes each flow's addresses
  ! and ports: fib_multipath_hash_policy 1).
  maximum-paths {{len .Tunnels}}
{{- else}}
  ! A virtual private gateway sends on one preferred path: no ECMP, even
  ! between equal paths (FRR's default would spread over up to 64).
  maximum-paths 1
{{- end}}
 exit-address-family
!
`))

// Render returns the guest's configuration files for c: strongSwan's
// strongswan.conf and swanctl.conf, FRR's zebra.conf, bgpd.conf and
// vtysh.conf, and the network setup and module list the init script runs.
func Render(c Config) ([]File, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c = c.withDefaults()

	sw := guest.SwanctlConf{
		Header: `# AWS's side of each tunnel: IKEv2, PSK, responder only (AWS's default
# startup action "add"), DPD timeout action "clear".
`,
		Self: "aws", Peer: "cgw",
	}
	type bgpNeighbor struct {
		Name, Neighbor string
		ASN            uint32
	}
	bgp := struct {
		Hostname, RouterID, VPC string
		ASN                     uint32
		Tunnels                 []bgpNeighbor
		ECMP                    bool
	}{Hostname: c.Hostname, RouterID: c.Tunnels[0].AWSInside().String(), VPC: c.VPC.Masked().String(), ASN: c.ASN, ECMP: c.TransitGateway}

	var net bytes.Buffer
	net.WriteString("# Generated by awspeer.Render: AWS's outside addresses, the VPC host, one XFRM interface per tunnel.\n")
	fmt.Fprintf(&net, "hostname %s\n", c.Hostname)
	net.WriteString("sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0\n")
	if c.TransitGateway {
		net.WriteString("sysctl -qw net.ipv4.fib_multipath_hash_policy=1\n")
	}
	net.WriteString("ip link set lo up\nip link set eth0 up\n")
	seen := map[string]bool{}
	for i, t := range c.Tunnels {
		if a := t.OutsideAWS.String(); !seen[a] {
			seen[a] = true
			fmt.Fprintf(&net, "ip addr add %s/%d dev eth0\n", a, c.OutsideBits)
		}
		_, id := guest.WriteXFRMInterface(&net, i, t.Name, fmt.Sprintf("%s/30", t.AWSInside()), MTU)

		conn := guest.SwanctlConn{
			Name: t.Name, Local: t.OutsideAWS.String(), Remote: "%any", IfID: id,
			Proposals: strings.Join(ikeProposals, ","), ESPProposals: strings.Join(childProposals, ","),
			IKE: ikeSettings, Child: childSettings, PSK: t.PSK,
		}
		if t.OutsideCustomer.IsValid() {
			conn.Remote = t.OutsideCustomer.String()
		}
		sw.Conns = append(sw.Conns, conn)
		bgp.Tunnels = append(bgp.Tunnels, bgpNeighbor{Name: t.Name, Neighbor: t.CustomerInside().String(), ASN: t.CustomerASN})
	}
	if c.Gateway.IsValid() {
		fmt.Fprintf(&net, "ip route add default via %s dev eth0\n", c.Gateway)
	}
	// The VPC: a host address on a dummy interface; its connected route is
	// what bgpd's "network" statement advertises.
	fmt.Fprintf(&net, "ip link add vpc0 type dummy\nip addr add %s/%d dev vpc0\nip link set vpc0 up\n", c.VPCHost, c.VPC.Bits())
	// The VPC host serves iperf3 for the data-plane tests, one server per
	// port (an iperf3 server runs one test at a time).
	for _, port := range IPerf3Ports {
		fmt.Fprintf(&net, "iperf3 -s -D -B %s -p %d --logfile /var/log/iperf3-%d.log || echo 'awspeer: iperf3 on port %d failed'\n", c.VPCHost, port, port, port)
	}

	swanctl, err := sw.Render()
	if err != nil {
		return nil, fmt.Errorf("awspeer: %w", err)
	}
	var bgpd bytes.Buffer
	if err := bgpdTmpl.Execute(&bgpd, bgp); err != nil {
		return nil, fmt.Errorf("awspeer: bgpd.conf: %w", err)
	}
	files := []File{
		{Path: "/etc/strongswan.conf", Mode: 0o644, Data: []byte(strongswanConf)},
		{Path: "/etc/swanctl/swanctl.conf", Mode: 0o600, Data: swanctl},
	}
	return append(append(files, guest.FRRConfigs(c.Hostname, bgpd.Bytes())...),
		File{Path: "/etc/awspeer/network.sh", Mode: 0o644, Data: net.Bytes()},
		File{Path: "/etc/awspeer/modules", Mode: 0o644, Data: []byte(strings.Join(Modules, "\n") + "\n")},
	), nil
}
