package configs

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"
)

// A Site is the whole configuration of a gateway pair: the same document goes
// into both Linodes' user data, and each gateway finds its own section with
// Gateway and its partner with Peer. Parse fills every default, so callers
// read the fields as they are.
type Site struct {
	Version  int    // schema version; always 1
	Site     string // the site's name, [a-z0-9-]
	VLAN     VLAN
	VRRP     VRRP
	BGP      BGP
	Status   Status
	Syslog   Syslog    // the zero Syslog: no remote syslog
	Gateways []Gateway // exactly two: the pair
}

// VLAN is the Linode VLAN that the pair and the hosts behind it share.
type VLAN struct {
	Interface string       // [eth1]
	Prefix    netip.Prefix // the VLAN's IPv4 subnet, host bits zero
	VirtualIP netip.Addr   // the VRRP address hosts route through; VirtualIPs[0]
	// VirtualIPs are the virtual IPs of the pair: one (active-standby,
	// vlan.virtual_ip) or two (active-active, vlan.virtual_ips), where
	// gateways[i] is the master of VirtualIPs[i] and the backup of the
	// other (see ActiveActive).
	VirtualIPs []netip.Addr
}

// VRRP configures the virtual router that holds VLAN.VirtualIP (and, in
// active-active, the second one: VRID+1 holds VLAN.VirtualIPs[1]).
type VRRP struct {
	VRID    uint8 // 1..255
	Version int   // [3]; 2 speaks to keepalived's default and carries AuthPass
	// AdvertInterval is [1s]. Version 2 counts whole seconds (1..255);
	// version 3 counts centiseconds (10ms..40.95s in 10ms steps).
	AdvertInterval time.Duration
	AuthPass       Secret        // version 2 only: PASS authentication, 1..8 bytes
	Preempt        bool          // [true]
	PreemptDelay   time.Duration // [0], 0..1000s like keepalived; needs Preempt
}

// BGP configures this site's BGP speaker.
type BGP struct {
	ASN uint32 // this site's AS (iBGP between the pair, eBGP to AWS)
	// Advertise lists the prefixes announced to AWS; [VLAN.Prefix].
	Advertise []netip.Prefix
	// BackupPrepend is how many times the VRRP backup prepends its AS toward
	// AWS so that AWS returns traffic through the master; [2], 0..10.
	BackupPrepend int
	// Accept, when not empty, is the allow list of routes imported from
	// AWS and the peer: only routes equal to or inside an entry. An entry
	// shorter than /8 is also what allows routes that short.
	Accept []netip.Prefix
	// MaxPrefixes is how many prefixes one BGP neighbour may send before
	// its session is torn down (and retried after a back-off);
	// [DefaultMaxPrefixes].
	MaxPrefixes int
	// IBGPPassword is the TCP-MD5 password of the iBGP session between the
	// pair (FRR's "neighbor X password"); empty for none.
	IBGPPassword Secret
	// IBGPTTLSecurity turns GTSM (RFC 5082, TTL 255 one hop) on for the
	// iBGP session; [true]. A peer configured as the seed article shows
	// (FRR without "neighbor X ttl-security hops 1") needs it off.
	IBGPTTLSecurity bool
	// ECMP says AWS's side is a transit gateway with VPN ECMP support: it
	// spreads flows over every tunnel whose path is as good as the best,
	// so nothing is prepended (BackupPrepend does not apply), every tunnel
	// carries the same MED, and each gateway spreads its own flows to AWS
	// over its tunnels. [false]: a virtual private gateway, which sends
	// on one preferred path.
	ECMP bool
}

// Status configures the status API.
type Status struct {
	// Allow lists the management networks that may reach /healthz and
	// /metrics on the public interface (eth0); empty: nobody. The full API
	// is served on the VLAN address regardless.
	Allow []netip.Prefix
}

// Syslog is the remote syslog receiver that both gateways send their log
// lines to (RFC 5424), a host on the VLAN.
type Syslog struct {
	// Address is the receiver's VLAN address and port ([DefaultSyslogPort]);
	// the zero AddrPort means no remote syslog.
	Address netip.AddrPort
	// Protocol is "udp" (one message per datagram, RFC 5426) or "tcp"
	// (octet-counted, RFC 6587); [udp].
	Protocol string
}

// Enabled reports whether the site configures a remote syslog receiver.
func (l Syslog) Enabled() bool { return l.Address.IsValid() }

// A Gateway is one Linode of the pair.
type Gateway struct {
	Name     string // the Linode label of the instance
	Priority uint8  // VRRP priority, 1..254; the higher one is master
	// VLANAddress is the gateway's address on the VLAN with the VLAN's prefix
	// length. The zero Prefix means: use the ipam_address the Metadata Service
	// reports for the VLAN interface (check it with Site.CheckVLANAddress).
	VLANAddress netip.Prefix
	Tunnels     []Tunnel // 1..4; AWS gives two per VPN connection
}

// A Tunnel is one IPsec tunnel to AWS with its eBGP session.
type Tunnel struct {
	Name           string       // unique across the site
	OutsideAddress netip.Addr   // AWS's public tunnel endpoint
	InsideCIDR     netip.Prefix // the /30 inside 169.254.0.0/16 AWS assigned
	PSK            Secret       // AWS rules: 8..64 of [A-Za-z0-9._], not starting with 0
	RemoteASN      uint32       // [64512], the AWS side's ASN
	IKEVersion     int          // [2]
	Proposals      []string     // IKE proposals in strongSwan syntax
	ESPProposals   []string     // ESP proposals in strongSwan syntax
	DPDDelay       time.Duration
	IKELifetime    time.Duration // AWS phase 1 lifetime
	ChildLifetime  time.Duration // AWS phase 2 lifetime
	// MED is sent with the routes announced over this tunnel; lower is
	// preferred. [index in the gateway's list × 100].
	MED uint32
}

// ActiveActive reports whether the pair runs two virtual IPs, each
// gateway the master of one (vlan.virtual_ips).
func (s *Site) ActiveActive() bool { return s.VLAN.activeActive() }

func (v *VLAN) activeActive() bool { return len(v.VirtualIPs) == 2 }

// Group is the index in VLAN.VirtualIPs of the virtual IP that gateway
// name is the master of in active-active: its index in Gateways. It is 0
// for any gateway in active-standby.
func (s *Site) Group(name string) int {
	if !s.ActiveActive() {
		return 0
	}
	for i, g := range s.Gateways {
		if g.Name == name {
			return i
		}
	}
	return 0
}

// RemoteInside returns AWS's inside address: the first usable address of the
// /30 (169.254.80.145 for 169.254.80.144/30).
func (t Tunnel) RemoteInside() netip.Addr {
	if !t.InsideCIDR.IsValid() {
		return netip.Addr{}
	}
	return t.InsideCIDR.Masked().Addr().Next()
}

// LocalInside returns this gateway's inside address with the tunnel's prefix
// length: the second usable address of the /30 (169.254.80.146/30).
func (t Tunnel) LocalInside() netip.Prefix {
	if !t.InsideCIDR.IsValid() {
		return netip.Prefix{}
	}
	return netip.PrefixFrom(t.RemoteInside().Next(), t.InsideCIDR.Bits())
}

// Gateway returns the gateway called name (a Linode label). The error lists
// the names the configuration knows, since a mismatched label is the usual
// cause.
func (s *Site) Gateway(name string) (*Gateway, error) {
	for i := range s.Gateways {
		if s.Gateways[i].Name == name {
			return &s.Gateways[i], nil
		}
	}
	return nil, fmt.Errorf("configs: site %q has no gateway named %q (it has %s); the name must equal the Linode label",
		s.Site, name, s.gatewayNames())
}

// Peer returns the other gateway of the pair that name belongs to.
func (s *Site) Peer(name string) (*Gateway, error) {
	if _, err := s.Gateway(name); err != nil {
		return nil, err
	}
	for i := range s.Gateways {
		if s.Gateways[i].Name != name {
			return &s.Gateways[i], nil
		}
	}
	return nil, fmt.Errorf("configs: site %q has no peer for gateway %q", s.Site, name)
}

func (s *Site) gatewayNames() string {
	if len(s.Gateways) == 0 {
		return "none"
	}
	q := make([]string, len(s.Gateways))
	for i, g := range s.Gateways {
		q[i] = fmt.Sprintf("%q", g.Name)
	}
	return strings.Join(q, ", ")
}

// Tunnel returns the gateway's tunnel called name.
func (g *Gateway) Tunnel(name string) (*Tunnel, error) {
	names := make([]string, len(g.Tunnels))
	for i := range g.Tunnels {
		if g.Tunnels[i].Name == name {
			return &g.Tunnels[i], nil
		}
		names[i] = fmt.Sprintf("%q", g.Tunnels[i].Name)
	}
	return nil, fmt.Errorf("configs: gateway %q has no tunnel named %q (it has %s)", g.Name, name, strings.Join(names, ", "))
}

// Load reads and parses the site configuration in the file at path. Every
// error it returns names the file.
func Load(path string) (*Site, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("configs: %w", err)
	}
	s, err := Parse(data)
	if es, ok := err.(Errors); ok {
		for _, e := range es {
			e.File = path
		}
		return nil, es
	}
	return s, err
}
