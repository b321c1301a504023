package awsimport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tidegate/tidegate/configs"
)

// A Connection is one AWS Site-to-Site VPN connection: the customer gateway
// (one tidegate gateway) and its two tunnels.
type Connection struct {
	ID                string // vpn-..., from the root's id attribute
	CustomerGatewayID string // cgw-...
	VPNGatewayID      string // vgw-..., empty for a transit gateway attachment
	// CustomerAddress is the customer gateway's public address as AWS
	// knows it: the gateway's eth0 address.
	CustomerAddress netip.Addr
	CustomerASN     uint32   // the customer gateway's BGP ASN: the site's
	Tunnels         []Tunnel // sorted by inside CIDR
}

// A Tunnel is one of a connection's IPsec tunnels, mapped to the site
// configuration's terms.
type Tunnel struct {
	OutsideAddress netip.Addr     // AWS's public endpoint
	InsideCIDR     netip.Prefix   // the /30: AWS has the first address, the gateway the second
	PSK            configs.Secret // never printed
	RemoteASN      uint32         // the virtual private gateway's ASN
	HoldTime       time.Duration  // AWS's BGP hold time
	Proposal       string         // IKE, strongSwan syntax
	ESPProposal    string         // ESP, strongSwan syntax
	IKELifetime    time.Duration
	ChildLifetime  time.Duration
	DPDDelay       time.Duration
	DPDRetries     int
	TCPMSS         int // AWS's advice for the MSS clamp, 0 when absent
}

// The elements AWS's generic document holds. Elements that describe AWS's
// side only (IDs, clear_df_bit, ...) are read for completeness but change
// nothing in the site configuration.
var (
	rootKids     = []string{"customer_gateway_id", "vpn_gateway_id", "transit_gateway_id", "vpn_connection_type"}
	endpointKids = []string{"tunnel_outside_address", "tunnel_inside_address", "bgp"}
	ikeKids      = []string{"authentication_protocol", "encryption_protocol", "lifetime", "perfect_forward_secrecy", "mode", "pre_shared_key"}
	ipsecKids    = []string{"protocol", "authentication_protocol", "encryption_protocol", "lifetime", "perfect_forward_secrecy", "mode",
		"clear_df_bit", "fragmentation_before_encryption", "tcp_mss_adjustment", "dead_peer_detection"}
	pskChars = regexp.MustCompile(`^[A-Za-z0-9._]+$`)
)

// ParseConnection reads one VPN connection's customer gateway configuration.
// data is the XML AWS issues, or the JSON that `aws ec2
// describe-vpn-connections` prints when it holds exactly one connection (the
// XML is then taken from its CustomerGatewayConfiguration field). Every
// problem is reported, as an Errors naming the element and its line. data
// over MaxInput bytes, XML nested deeper than MaxDepth or holding more than
// MaxElements elements is refused before anything else.
func ParseConnection(data []byte) (*Connection, error) {
	if len(data) > MaxInput {
		return nil, errTooLarge()
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		x, err := fromJSON(t)
		if err != nil {
			return nil, err
		}
		data = x
	}
	root, err := parseTree(data)
	if err != nil {
		return nil, err
	}
	c := &checker{}
	conn := c.connection(root)
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	return conn, nil
}

// fromJSON takes the XML out of describe-vpn-connections' output.
func fromJSON(data []byte) ([]byte, error) {
	var out struct {
		VpnConnections []struct {
			VpnConnectionID              string `json:"VpnConnectionId"`
			CustomerGatewayConfiguration string
		}
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("the file looks like JSON but does not parse as describe-vpn-connections output: %w", err)
	}
	switch n := len(out.VpnConnections); {
	case n == 0:
		return nil, fmt.Errorf("JSON without VpnConnections: expected the output of aws ec2 describe-vpn-connections, or the XML of its CustomerGatewayConfiguration")
	case n > 1:
		return nil, fmt.Errorf("the JSON holds %d VPN connections; give one per gateway (aws ec2 describe-vpn-connections --vpn-connection-ids vpn-...)", n)
	}
	x := out.VpnConnections[0].CustomerGatewayConfiguration
	if x == "" {
		return nil, fmt.Errorf("VpnConnections[0] (%s) has no CustomerGatewayConfiguration; AWS omits it until the connection is available", out.VpnConnections[0].VpnConnectionID)
	}
	return []byte(x), nil
}

func (c *checker) connection(root *node) *Connection {
	if root.name != "vpn_connection" {
		c.errorf(root, "unknown root element <%s>: expected AWS's customer gateway configuration, <vpn_connection id=\"vpn-...\">", root.name)
		return nil
	}
	conn := &Connection{}
	for _, a := range root.attrs {
		if a.Name.Local == "id" {
			conn.ID = a.Value
		}
	}
	kids := c.children(root, rootKids, "ipsec_tunnel")
	for _, k := range []struct {
		name string
		to   *string
	}{{"customer_gateway_id", &conn.CustomerGatewayID}, {"vpn_gateway_id", &conn.VPNGatewayID}} {
		if n := optional(kids, k.name); c.leaf(n) {
			*k.to = n.text
		}
	}
	if n := optional(kids, "vpn_connection_type"); c.leaf(n) && n.text != "ipsec.1" {
		c.errorf(n, "connection type %q: only ipsec.1 exists", n.text)
	}

	tunnels := kids["ipsec_tunnel"]
	if len(tunnels) != 2 {
		c.errorf(root, "has %d <ipsec_tunnel> elements; AWS issues exactly two per VPN connection", len(tunnels))
	}
	type parsed struct {
		t        Tunnel
		cgwAddr  netip.Addr
		cgwASN   uint32
		at       *node
		cgwAddrN *node
		cgwASNN  *node
	}
	var ts []parsed
	for _, tn := range tunnels {
		var p parsed
		var ok bool
		p.t, p.cgwAddr, p.cgwASN, p.cgwAddrN, p.cgwASNN, ok = c.tunnel(tn)
		p.at = tn
		if ok {
			ts = append(ts, p)
		}
	}
	if len(c.errs) > 0 {
		return nil
	}
	// Both tunnels belong to one customer gateway: one address, one ASN.
	for _, p := range ts[1:] {
		if p.cgwAddr != ts[0].cgwAddr {
			c.errorf(p.cgwAddrN, "customer gateway address %s differs from the first tunnel's %s; a VPN connection has one customer gateway", p.cgwAddr, ts[0].cgwAddr)
		}
		if p.cgwASN != ts[0].cgwASN {
			c.errorf(p.cgwASNN, "customer gateway ASN %d differs from the first tunnel's %d", p.cgwASN, ts[0].cgwASN)
		}
	}
	if ts[0].t.InsideCIDR.Overlaps(ts[1].t.InsideCIDR) {
		c.errorf(ts[1].at, "inside CIDR %s is also the other tunnel's", ts[1].t.InsideCIDR)
	}
	conn.CustomerAddress, conn.CustomerASN = ts[0].cgwAddr, ts[0].cgwASN
	for _, p := range ts {
		conn.Tunnels = append(conn.Tunnels, p.t)
	}
	// AWS lists the tunnels in no promised order: sort so that names and
	// MEDs do not move between two downloads of the same connection.
	sort.Slice(conn.Tunnels, func(i, j int) bool {
		return conn.Tunnels[i].InsideCIDR.Addr().Less(conn.Tunnels[j].InsideCIDR.Addr())
	})
	return conn
}

// tunnel reads one ipsec_tunnel. ok is false when it had errors.
func (c *checker) tunnel(tn *node) (t Tunnel, cgwAddr netip.Addr, cgwASN uint32, cgwAddrN, cgwASNN *node, ok bool) {
	before := len(c.errs)
	kids := c.children(tn, []string{"customer_gateway", "vpn_gateway", "ike", "ipsec"})
	cgw, vgw := c.one(tn, kids, "customer_gateway"), c.one(tn, kids, "vpn_gateway")
	ike, ipsec := c.one(tn, kids, "ike"), c.one(tn, kids, "ipsec")

	var cgwInside, vgwInside netip.Prefix
	if cgw != nil {
		cgwAddr, cgwInside, cgwASN, _, cgwAddrN, cgwASNN = c.endpoint(cgw)
	}
	if vgw != nil {
		var hold time.Duration
		t.OutsideAddress, vgwInside, t.RemoteASN, hold, _, _ = c.endpoint(vgw)
		t.HoldTime = hold
	}
	if cgwInside.IsValid() && vgwInside.IsValid() {
		c.insideCIDR(tn, cgwInside, vgwInside, &t)
	}
	if ike != nil {
		c.ike(ike, &t)
	}
	if ipsec != nil {
		c.ipsec(ipsec, &t)
	}
	return t, cgwAddr, cgwASN, cgwAddrN, cgwASNN, len(c.errs) == before
}

// endpoint reads a customer_gateway or vpn_gateway element.
func (c *checker) endpoint(n *node) (outside netip.Addr, inside netip.Prefix, asn uint32, hold time.Duration, outsideN, asnN *node) {
	kids := c.children(n, endpointKids)
	if o := c.one(n, kids, "tunnel_outside_address"); o != nil {
		ok := c.children(o, []string{"ip_address"})
		if a := c.one(o, ok, "ip_address"); c.leaf(a) {
			outsideN = a
			outside = c.ipv4(a)
		}
	}
	if in := c.one(n, kids, "tunnel_inside_address"); in != nil {
		inside = c.insideAddress(in)
	}
	b := optional(kids, "bgp")
	if b == nil {
		c.errs = append(c.errs, &Error{Line: n.line, Path: n.path + "/bgp", Msg: "missing: this is a static-routing VPN connection; tidegate needs a dynamic (BGP) one"})
		return
	}
	bk := c.children(b, []string{"asn", "hold_time"})
	if a := c.one(b, bk, "asn"); c.leaf(a) {
		asnN = a
		v, err := strconv.ParseUint(a.text, 10, 32)
		if err != nil || v == 0 {
			c.errorf(a, "%q is not an ASN (1 to 4294967295)", a.text)
		}
		asn = uint32(v)
	}
	if h := optional(bk, "hold_time"); c.leaf(h) {
		hold = c.seconds(h, 3, 65535)
	}
	return
}

// insideAddress reads tunnel_inside_address: the address and its /30.
func (c *checker) insideAddress(n *node) netip.Prefix {
	kids := c.children(n, []string{"ip_address", "network_mask", "network_cidr"})
	a, m, l := c.one(n, kids, "ip_address"), optional(kids, "network_mask"), c.one(n, kids, "network_cidr")
	if !c.leaf(a) || !c.leaf(l) {
		return netip.Prefix{}
	}
	addr := c.ipv4(a)
	bits, err := strconv.Atoi(l.text)
	switch {
	case err != nil:
		c.errorf(l, "%q is not a prefix length", l.text)
		return netip.Prefix{}
	case bits != 30:
		c.errorf(l, "/%s: AWS's tunnel inside CIDRs are /30s (IPv6 inside addresses are not supported)", l.text)
		return netip.Prefix{}
	}
	if m != nil && c.leaf(m) && m.text != "255.255.255.252" {
		c.errorf(m, "network mask %s does not match network_cidr 30 (255.255.255.252)", m.text)
	}
	if !addr.IsValid() {
		return netip.Prefix{}
	}
	return netip.PrefixFrom(addr, bits)
}

// insideCIDR checks that AWS has the /30's first address and the customer
// gateway its second, as configs.Tunnel assumes.
func (c *checker) insideCIDR(tn *node, cgw, vgw netip.Prefix, t *Tunnel) {
	p := vgw.Masked()
	if cgw.Masked() != p {
		c.errorf(tn, "the inside addresses %s (customer gateway) and %s (AWS) are not in one /30", cgw, vgw)
		return
	}
	first := p.Addr().Next()
	if vgw.Addr() != first || cgw.Addr() != first.Next() {
		c.errorf(tn, "inside addresses %s (AWS) and %s (customer gateway) are not the /30's first and second usable addresses as AWS assigns them", vgw.Addr(), cgw.Addr())
		return
	}
	if !netip.MustParsePrefix("169.254.0.0/16").Contains(p.Addr()) {
		c.errorf(tn, "inside CIDR %s is outside 169.254.0.0/16, where AWS assigns IPv4 inside CIDRs", p)
		return
	}
	t.InsideCIDR = p
}

func (c *checker) ike(n *node, t *Tunnel) {
	kids := c.children(n, ikeKids)
	p := phase{ike: true,
		encryption:     c.one(n, kids, "encryption_protocol"),
		authentication: optional(kids, "authentication_protocol"),
		pfs:            c.one(n, kids, "perfect_forward_secrecy"),
	}
	if c.leaf(p.encryption) && c.leafOrNil(p.authentication) && c.leaf(p.pfs) {
		t.Proposal = c.proposal(p)
	}
	if l := c.one(n, kids, "lifetime"); c.leaf(l) {
		t.IKELifetime = c.seconds(l, 900, 28800)
	}
	// "main" is IKEv1's name for the exchange AWS uses; AWS writes it for
	// IKEv2 tunnels too. Aggressive mode is something AWS never offers.
	if m := optional(kids, "mode"); c.leaf(m) && m.text != "main" {
		c.errorf(m, "IKE mode %q: AWS uses main mode only", m.text)
	}
	if k := c.one(n, kids, "pre_shared_key"); c.leaf(k) {
		if why := pskProblem(k.text); why != "" {
			c.errorf(k, "a pre-shared key AWS could not have issued: %s", why)
		} else {
			t.PSK = configs.NewSecret(k.text)
		}
	}
}

func (c *checker) ipsec(n *node, t *Tunnel) {
	kids := c.children(n, ipsecKids)
	if pr := optional(kids, "protocol"); c.leaf(pr) && pr.text != "esp" {
		c.errorf(pr, "IPsec protocol %q: AWS uses esp", pr.text)
	}
	if m := optional(kids, "mode"); c.leaf(m) && m.text != "tunnel" {
		c.errorf(m, "IPsec mode %q: AWS uses tunnel mode", m.text)
	}
	p := phase{
		encryption:     c.one(n, kids, "encryption_protocol"),
		authentication: optional(kids, "authentication_protocol"),
		pfs:            optional(kids, "perfect_forward_secrecy"),
	}
	if p.pfs == nil {
		p.pfs = &node{} // no PFS
	}
	if c.leaf(p.encryption) && c.leafOrNil(p.authentication) && c.leaf(p.pfs) {
		t.ESPProposal = c.proposal(p)
	}
	if l := c.one(n, kids, "lifetime"); c.leaf(l) {
		t.ChildLifetime = c.seconds(l, 900, 3600)
	}
	for _, name := range []string{"clear_df_bit", "fragmentation_before_encryption"} {
		if b := optional(kids, name); c.leaf(b) && b.text != "true" && b.text != "false" {
			c.errorf(b, "%q is not true or false", b.text)
		}
	}
	if m := optional(kids, "tcp_mss_adjustment"); c.leaf(m) {
		v, err := strconv.Atoi(m.text)
		if err != nil || v < 536 || v > 1460 {
			c.errorf(m, "%q is not a TCP MSS AWS would advise (536 to 1460)", m.text)
		}
		t.TCPMSS = v
	}
	d := c.one(n, kids, "dead_peer_detection")
	if d == nil {
		return
	}
	dk := c.children(d, []string{"interval", "retries"})
	if i := c.one(d, dk, "interval"); c.leaf(i) {
		t.DPDDelay = c.seconds(i, 1, 60)
	}
	if r := optional(dk, "retries"); c.leaf(r) {
		v, err := strconv.Atoi(r.text)
		if err != nil || v < 1 || v > 100 {
			c.errorf(r, "%q is not a number of retries", r.text)
		}
		t.DPDRetries = v
	}
}

func (c *checker) leafOrNil(n *node) bool { return n == nil || c.leaf(n) }

// seconds reads a whole number of seconds within [lo, hi].
func (c *checker) seconds(n *node, lo, hi int) time.Duration {
	v, err := strconv.Atoi(n.text)
	if err != nil || v < lo || v > hi {
		c.errorf(n, "%q is not a number of seconds from %d to %d", n.text, lo, hi)
		return 0
	}
	return time.Duration(v) * time.Second
}

// ipv4 reads an IPv4 address.
func (c *checker) ipv4(n *node) netip.Addr {
	a, err := netip.ParseAddr(n.text)
	if err != nil || !a.Is4() {
		c.errorf(n, "%q is not an IPv4 address", n.text)
		return netip.Addr{}
	}
	return a
}

// pskProblem applies AWS's rules for pre-shared keys, which are the rules
// for the keys AWS generates too. The answer never contains the key.
func pskProblem(k string) string {
	var why []string
	if len(k) < 8 || len(k) > 64 {
		why = append(why, "its length is outside 8 to 64")
	}
	if k != "" && !pskChars.MatchString(k) {
		why = append(why, "it has a character outside A-Z a-z 0-9 . _")
	}
	if strings.HasPrefix(k, "0") {
		why = append(why, "it starts with 0")
	}
	return strings.Join(why, "; ")
}
