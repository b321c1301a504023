package awsimport

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/tidegate/tidegate/configs"
)

// Options are the facts about the site that AWS's documents do not hold.
type Options struct {
	// Site is the site's name ([a-z0-9-]).
	Site string
	// Gateways are the Linode labels of the pair, in the order of the
	// connections given to Site: the first gets VRRP priority 100 and the
	// second 99.
	Gateways []string
	// VLANAddresses optionally pin each gateway's VLAN address (in the order
	// of Gateways); a zero Prefix leaves it to the Metadata Service's
	// ipam_address.
	VLANAddresses []netip.Prefix
	VLANPrefix    netip.Prefix // the Linode VLAN's subnet
	VirtualIP     netip.Addr   // the VRRP address the VLAN's hosts route through
	VRID          uint8
	// ASN is the site's BGP ASN. 0 takes the customer gateway ASN the
	// connections report; otherwise they must report this one.
	ASN uint32
	// Advertise lists the prefixes announced to AWS; empty means the VLAN
	// prefix (configs' default).
	Advertise []netip.Prefix
	// DefaultProposals leaves the tunnels' proposals out, so that configs'
	// defaults apply instead of the one algorithm of each kind AWS lists.
	DefaultProposals bool
	// Sources name where each connection came from (file names), for the
	// comment at the top of the output.
	Sources []string
}

// Priorities given to the gateways, in order: the first is VRRP master.
var priorities = []int{100, 99}

// Site writes the site configuration for the connections, one per gateway in
// the order of o.Gateways, and checks it with configs.Parse. The YAML starts
// with comments saying where it came from; it holds the pre-shared keys, so
// it is as secret as AWS's documents.
func Site(o Options, conns []*Connection) ([]byte, error) {
	if err := o.check(conns); err != nil {
		return nil, err
	}
	asn := o.ASN
	if asn == 0 {
		asn = conns[0].CustomerASN
	}
	var errs []error
	for i, c := range conns {
		if c.CustomerASN != asn {
			src := o.source(i)
			if o.ASN != 0 {
				errs = append(errs, fmt.Errorf("%s: the customer gateway's BGP ASN is %d but --asn is %d; AWS only accepts BGP from the ASN the customer gateway was created with", src, c.CustomerASN, asn))
			} else {
				errs = append(errs, fmt.Errorf("%s: the customer gateway's BGP ASN is %d but %s's is %d; the pair shares one ASN (iBGP)", src, c.CustomerASN, o.source(0), asn))
			}
		}
		for j, d := range conns[:i] {
			if d.CustomerAddress == c.CustomerAddress {
				errs = append(errs, fmt.Errorf("%s and %s have the same customer gateway address %s; each gateway needs its own VPN connection with its own public address", o.source(j), o.source(i), c.CustomerAddress))
			}
			if d.ID != "" && d.ID == c.ID {
				errs = append(errs, fmt.Errorf("%s and %s are the same VPN connection %s; each gateway needs its own", o.source(j), o.source(i), c.ID))
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	var b strings.Builder
	o.header(&b, conns)
	fmt.Fprintf(&b, "version: 1\nsite: %s\n", o.Site)
	fmt.Fprintf(&b, "vlan:\n  prefix: %s\n  virtual_ip: %s\n", o.VLANPrefix, o.VirtualIP)
	fmt.Fprintf(&b, "vrrp:\n  vrid: %d\n", o.VRID)
	fmt.Fprintf(&b, "bgp:\n  asn: %d\n", asn)
	if len(o.Advertise) > 0 {
		ps := make([]string, len(o.Advertise))
		for i, p := range o.Advertise {
			ps[i] = p.String()
		}
		fmt.Fprintf(&b, "  advertise: [%s]\n", strings.Join(ps, ", "))
	}
	b.WriteString("gateways:\n")
	for i, c := range conns {
		fmt.Fprintf(&b, "  - name: %s\n", o.Gateways[i])
		fmt.Fprintf(&b, "    priority: %d\n", priorities[i])
		if i < len(o.VLANAddresses) && o.VLANAddresses[i].IsValid() {
			fmt.Fprintf(&b, "    vlan_address: %s\n", o.VLANAddresses[i])
		}
		fmt.Fprintf(&b, "    tunnels:  # %s, customer gateway %s\n", orUnknown(c.ID), c.CustomerAddress)
		names := TunnelNames(o.Gateways, i, len(c.Tunnels))
		for j, t := range c.Tunnels {
			fmt.Fprintf(&b, "      - name: %s\n", names[j])
			fmt.Fprintf(&b, "        outside_address: %s\n", t.OutsideAddress)
			fmt.Fprintf(&b, "        inside_cidr: %s  # AWS %s, this gateway %s\n", t.InsideCIDR, t.InsideCIDR.Addr().Next(), t.InsideCIDR.Addr().Next().Next())
			// The key's characters are [A-Za-z0-9._], but a key such as
			// 12345678 or 1e10 would be a number to YAML: always quote.
			fmt.Fprintf(&b, "        psk: %s\n", strconv.Quote(t.PSK.Reveal()))
			fmt.Fprintf(&b, "        remote_asn: %d\n", t.RemoteASN)
			if !o.DefaultProposals {
				fmt.Fprintf(&b, "        proposals: [%s]\n", t.Proposal)
				fmt.Fprintf(&b, "        esp_proposals: [%s]\n", t.ESPProposal)
			}
			fmt.Fprintf(&b, "        ike_lifetime: %s\n", configs.FormatDuration(t.IKELifetime))
			fmt.Fprintf(&b, "        child_lifetime: %s\n", configs.FormatDuration(t.ChildLifetime))
			fmt.Fprintf(&b, "        dpd_delay: %s\n", configs.FormatDuration(t.DPDDelay))
		}
	}
	out := []byte(b.String())
	if _, err := configs.Parse(out); err != nil {
		return nil, fmt.Errorf("the generated site configuration does not validate (fix the options or the AWS side):\n%w", err)
	}
	return out, nil
}

func (o Options) check(conns []*Connection) error {
	var errs []error
	if len(o.Gateways) != 2 || len(conns) != 2 {
		errs = append(errs, fmt.Errorf("a site is a pair: give two VPN connections and two gateway names (got %d and %d)", len(conns), len(o.Gateways)))
	}
	if len(o.Gateways) != len(conns) {
		errs = append(errs, errors.New("give one gateway name per VPN connection, in the same order"))
	}
	if len(o.VLANAddresses) > len(o.Gateways) {
		errs = append(errs, errors.New("more VLAN addresses than gateways"))
	}
	for _, g := range o.Gateways {
		if !label.MatchString(g) {
			errs = append(errs, fmt.Errorf("gateway name %q is not a Linode label (3 to 64 letters, digits, '-', '_' or '.')", g))
		}
	}
	if !siteName.MatchString(o.Site) {
		errs = append(errs, fmt.Errorf("site name %q: use lower-case letters, digits and '-'", o.Site))
	}
	if !o.VLANPrefix.IsValid() || !o.VirtualIP.IsValid() {
		errs = append(errs, errors.New("the VLAN prefix and the virtual IP are required"))
	}
	if o.VRID == 0 {
		errs = append(errs, errors.New("the VRRP VRID is required (1 to 255)"))
	}
	return errors.Join(errs...)
}

var (
	label    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{1,62}[A-Za-z0-9]$`)
	siteName = regexp.MustCompile(`^[a-z0-9-]+$`)
	trailing = regexp.MustCompile(`[0-9]+$`)
)

// TunnelNames returns the names of gateway i's n tunnels: "vpn-" followed by
// the trailing number of the gateway's name ("vpn-gw-1" -> "vpn-1a",
// "vpn-1b"), or by i+1 when the name has no trailing number or the pair's
// numbers are the same.
func TunnelNames(gateways []string, i, n int) []string {
	num := func(g string) string { return strings.TrimLeft(trailing.FindString(g), "0") }
	id := num(gateways[i])
	for j, g := range gateways {
		if j != i && num(g) == id {
			id = ""
		}
	}
	if id == "" {
		id = strconv.Itoa(i + 1)
	}
	names := make([]string, n)
	for j := range names {
		names[j] = fmt.Sprintf("vpn-%s%c", id, 'a'+j)
	}
	return names
}

func (o Options) source(i int) string {
	if i < len(o.Sources) && o.Sources[i] != "" {
		return o.Sources[i]
	}
	return fmt.Sprintf("VPN connection %d", i+1)
}

func (o Options) header(b *strings.Builder, conns []*Connection) {
	b.WriteString("# Site configuration generated by `tidegate import-aws` from AWS's customer\n")
	b.WriteString("# gateway configuration (aws ec2 describe-vpn-connections):\n")
	for i, c := range conns {
		fmt.Fprintf(b, "#   %s: %s (customer gateway %s at %s, AS %d; %s) -> %s\n",
			o.source(i), orUnknown(c.ID), orUnknown(c.CustomerGatewayID), c.CustomerAddress, c.CustomerASN, gatewayKind(c), o.Gateways[i])
	}
	b.WriteString("#\n")
	b.WriteString("# Each gateway's public IPv4 (its eth0 DHCP address) must be the customer\n")
	b.WriteString("# gateway address above. The tunnels are sorted by inside CIDR, since AWS\n")
	b.WriteString("# lists them in no fixed order. IKEv2 is used (AWS writes \"main\" mode for\n")
	b.WriteString("# both versions).\n")
	if o.DefaultProposals {
		b.WriteString("# Proposals: tidegate's defaults (AES-GCM/AES-256, SHA-2, ECP-384/MODP-2048),\n")
		b.WriteString("# which a VPN connection accepts unless its tunnel options were narrowed.\n")
	} else {
		b.WriteString("# Proposals: the algorithms AWS lists for each tunnel. AWS's document names\n")
		b.WriteString("# one of each kind; `tidegate import-aws --default-proposals` offers\n")
		b.WriteString("# stronger ones that a default VPN connection accepts as well.\n")
	}
	b.WriteString("#\n")
	b.WriteString("# This file holds the tunnels' pre-shared keys: keep it as private as AWS's\n")
	b.WriteString("# documents. Check it with `tidegate validate`; it goes, unchanged, into both\n")
	b.WriteString("# Linodes' user data.\n")
}

func gatewayKind(c *Connection) string {
	if c.VPNGatewayID != "" {
		return "virtual private gateway " + c.VPNGatewayID
	}
	return "transit gateway"
}

func orUnknown(s string) string {
	if s == "" {
		return "(no id)"
	}
	return s
}
