package awspeer

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
)

// Defaults for Config fields left zero: AWS's default ASN for a virtual
// private gateway and the seed article's VPC.
const (
	DefaultASN      = 64512
	DefaultHostname = "aws"
)

var (
	DefaultVPC     = netip.MustParsePrefix("10.0.0.0/24")
	DefaultVPCHost = netip.MustParseAddr("10.0.0.24")
)

// Tunnel is one of AWS's tunnels: AWS's end of it. In the seed's scenario
// each VPN connection has two, so a peer for the whole pair has four.
type Tunnel struct {
	// Name names the swanctl connection, its CHILD_SA and its secret, e.g.
	// "vpn-1a" (what the site YAML calls the tunnel).
	Name string
	// OutsideAWS is AWS's outside address of the tunnel. The guest puts it
	// on eth0.
	OutsideAWS netip.Addr
	// OutsideCustomer is the customer gateway's address. AWS knows it (it
	// is the customer gateway's configuration); a test whose gateway takes
	// its address from DHCP may leave it zero, and then any address is
	// accepted.
	OutsideCustomer netip.Addr
	// InsideCIDR is the tunnel's inside /30 in 169.254.0.0/16: AWS takes
	// the first usable address (.1), the customer gateway the second.
	InsideCIDR netip.Prefix
	// PSK is the pre-shared key. It goes into the initramfs's swanctl.conf
	// only.
	PSK string
	// CustomerASN is the customer gateway's BGP ASN.
	CustomerASN uint32
}

// AWSInside is AWS's inside address: the /30's first usable address.
func (t Tunnel) AWSInside() netip.Addr { return t.InsideCIDR.Masked().Addr().Next() }

// CustomerInside is the customer gateway's inside address: the second.
func (t Tunnel) CustomerInside() netip.Addr { return t.AWSInside().Next() }

// Config describes the whole peer: AWS's side of every tunnel it serves.
type Config struct {
	// Hostname of the guest; [DefaultHostname].
	Hostname string
	// Tunnels, at least one. Their outside addresses are put on eth0.
	Tunnels []Tunnel
	// OutsideBits is the prefix length of the outside addresses on eth0;
	// [24].
	OutsideBits int
	// Gateway, when valid, is the guest's default route: a router of the
	// lab between "Internet" segments. Tests on one segment leave it zero.
	Gateway netip.Addr
	// ASN is AWS's BGP ASN; [DefaultASN].
	ASN uint32
	// VPC is the prefix advertised over every tunnel; [DefaultVPC].
	VPC netip.Prefix
	// VPCHost is an address in VPC that answers pings (a host in the VPC);
	// [DefaultVPCHost].
	VPCHost netip.Addr
	// TransitGateway makes the peer a transit gateway with VPN ECMP
	// support instead of a virtual private gateway: it spreads flows
	// toward the customer over every tunnel whose path is as good as the
	// best (equal AS path and MED), by a per-flow hash of addresses and
	// ports.
	TransitGateway bool
}

// withDefaults returns c with zero fields defaulted.
func (c Config) withDefaults() Config {
	if c.Hostname == "" {
		c.Hostname = DefaultHostname
	}
	if c.OutsideBits == 0 {
		c.OutsideBits = 24
	}
	if c.ASN == 0 {
		c.ASN = DefaultASN
	}
	if !c.VPC.IsValid() {
		c.VPC = DefaultVPC
	}
	if !c.VPCHost.IsValid() {
		c.VPCHost = DefaultVPCHost
	}
	return c
}

var (
	nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$`)
	// AWS's rule for pre-shared keys: 8-64 of [A-Za-z0-9._], not starting
	// with 0.
	pskRE       = regexp.MustCompile(`^[A-Za-z1-9._][A-Za-z0-9._]{7,63}$`)
	hostnameRE  = regexp.MustCompile(`^[A-Za-z0-9-]{1,63}$`)
	linkLocal16 = netip.MustParsePrefix("169.254.0.0/16")
)

// Validate reports what is wrong with c (after defaults). Errors never
// contain a pre-shared key.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !hostnameRE.MatchString(c.Hostname) {
		bad("hostname %q: want letters, digits and dashes", c.Hostname)
	}
	if len(c.Tunnels) == 0 {
		bad("no tunnels")
	}
	if c.OutsideBits < 1 || c.OutsideBits > 32 {
		bad("outside prefix length %d", c.OutsideBits)
	}
	if c.Gateway.IsValid() && !c.Gateway.Is4() {
		bad("gateway %s: want IPv4", c.Gateway)
	}
	if !c.VPC.Addr().Is4() || !c.VPC.Contains(c.VPCHost) {
		bad("VPC host %s is not in VPC %s", c.VPCHost, c.VPC)
	}
	names := map[string]bool{}
	insides := map[netip.Prefix]string{}
	for i, t := range c.Tunnels {
		p := fmt.Sprintf("tunnel %d (%s)", i, t.Name)
		if !nameRE.MatchString(t.Name) {
			bad("%s: name: want 1-32 of [A-Za-z0-9._-]", p)
		}
		if names[t.Name] {
			bad("%s: name used twice", p)
		}
		names[t.Name] = true
		if !t.OutsideAWS.Is4() {
			bad("%s: AWS outside address %v: want IPv4", p, t.OutsideAWS)
		}
		if t.OutsideCustomer.IsValid() && !t.OutsideCustomer.Is4() {
			bad("%s: customer outside address %v: want IPv4", p, t.OutsideCustomer)
		}
		if t.InsideCIDR.Bits() != 30 || !linkLocal16.Contains(t.InsideCIDR.Addr()) || t.InsideCIDR.Masked() != t.InsideCIDR {
			bad("%s: inside CIDR %v: want a /30 network in 169.254.0.0/16", p, t.InsideCIDR)
		} else if other, ok := insides[t.InsideCIDR]; ok {
			bad("%s: inside CIDR %v already used by %s", p, t.InsideCIDR, other)
		}
		insides[t.InsideCIDR] = t.Name
		if !pskRE.MatchString(t.PSK) {
			bad("%s: pre-shared key: AWS wants 8-64 of [A-Za-z0-9._], not starting with 0", p)
		}
		if t.CustomerASN == 0 || t.CustomerASN == c.ASN {
			bad("%s: customer ASN %d: want one other than AWS's %d", p, t.CustomerASN, c.ASN)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("awspeer: %w", errors.Join(errs...))
	}
	return nil
}
