package configs

import (
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"
)

// AWS's limits and reserved values that the rules below use.
const (
	// maxRoutes is the number of routes AWS accepts from a customer gateway
	// over one VPN connection.
	maxRoutes = 100
	// failoverRoutes is how many routes each advertised prefix costs at worst:
	// on failover a gateway also announces the prefix split into its two
	// halves, so that the more specific routes win over the peer's.
	failoverRoutes = 3
	// activeActiveRoutes is the same in active-active with a virtual
	// private gateway: the prefix, its halves (one per gateway) and, on
	// failover, its quarters.
	activeActiveRoutes = 7
	// asTrans is AS_TRANS (RFC 6793), which no BGP speaker may use as its ASN.
	asTrans = 23456
)

var (
	siteName = regexp.MustCompile(`^[a-z0-9-]+$`)
	// tunnelName keeps names usable as swanctl connection names and in log
	// lines without quoting.
	tunnelName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
)

// require reports path as missing when the document does not set it.
func (d *decoder) require(path, hint string) bool {
	if d.set[path] {
		return true
	}
	msg := "required"
	if hint != "" {
		msg += "; " + hint
	}
	d.errorf(path, "%s", msg)
	return false
}

// validate applies the rules that need more than one value or AWS's and the
// protocols' limits. It runs after defaults, so it sees effective values.
func (d *decoder) validate(s *Site) {
	if d.require("version", "set version: 1") && s.Version != 1 {
		d.errorf("version", "unsupported version %d; this tidegate reads version 1", s.Version)
	}
	if d.require("site", "name the site, e.g. site: linode-to-aws") {
		switch {
		case !siteName.MatchString(s.Site):
			d.errorf("site", "%q may contain only lower-case letters, digits and '-'", s.Site)
		case len(s.Site) > 63:
			d.errorf("site", "must be at most 63 characters")
		}
	}
	d.validateVLAN(s)
	d.validateVRRP(s)
	d.validateBGP(s)
	d.validateFilters(s)
	d.validateGateways(s)
	d.validateECMP(s)
	d.validateSyslog(s)
}

// validateSyslog checks the remote syslog receiver. It must be a host on
// the VLAN: the packet filter lets the gateway's own connections out to any
// address, and syslog travels in clear text, so a receiver across the
// internet would read the site's logs to anyone on the path.
func (d *decoder) validateSyslog(s *Site) {
	if !d.set["syslog"] {
		return
	}
	l := &s.Syslog
	if d.require("syslog.address", "the receiver's address on the VLAN, with its port, e.g. 10.0.1.50:514") && l.Address.IsValid() && s.VLAN.Prefix.IsValid() {
		a, p := l.Address.Addr(), s.VLAN.Prefix.Masked()
		switch {
		case !p.Contains(a):
			d.errorf("syslog.address", "%s is outside vlan.prefix %s; the receiver must be a host on the VLAN, since syslog is clear text and must not cross the internet", a, p)
		case a == p.Addr():
			d.errorf("syslog.address", "%s is the network address of %s", a, p)
		case a == lastAddr(p):
			d.errorf("syslog.address", "%s is the broadcast address of %s", a, p)
		case slices.Contains(s.VLAN.VirtualIPs, a):
			d.errorf("syslog.address", "%s is a virtual IP of the pair; the receiver must be a host of its own on the VLAN", a)
		default:
			for gi, g := range s.Gateways {
				if g.VLANAddress.IsValid() && g.VLANAddress.Addr() == a {
					d.errorf("syslog.address", "%s is gateways[%d].vlan_address; the receiver must be a host of its own on the VLAN", a, gi)
				}
			}
		}
	}
	if p := l.Protocol; p != "udp" && p != "tcp" {
		d.errorf("syslog.protocol", "must be udp or tcp, got %q", p)
	}
}

// validateECMP checks that every tunnel of the pair announces the same
// MED under bgp.ecmp: a transit gateway spreads flows only over paths that
// are equal, and a different MED is a reason to prefer one.
func (d *decoder) validateECMP(s *Site) {
	if !s.BGP.ECMP {
		return
	}
	first := ""
	var med uint32
	for gi, g := range s.Gateways {
		for ti, t := range g.Tunnels {
			p := index(index("gateways", gi)+".tunnels", ti)
			switch {
			case first == "":
				first, med = p, t.MED
			case t.MED != med:
				d.errorf(p+".med", "is %d but %s.med is %d; with bgp.ecmp every tunnel needs the same MED (a transit gateway spreads flows only over equal paths)", t.MED, first, med)
			}
		}
	}
}

func (d *decoder) validateVLAN(s *Site) {
	v := &s.VLAN
	if msg := checkIfname(v.Interface); msg != "" {
		d.errorf("vlan.interface", "%s", msg)
	}
	if d.require("vlan.prefix", "the VLAN's IPv4 subnet, e.g. 10.0.1.0/24") && v.Prefix.IsValid() {
		switch {
		case v.Prefix != v.Prefix.Masked():
			d.errorf("vlan.prefix", "host bits are set in %s; did you mean %s? (a gateway's own address goes in its vlan_address)", v.Prefix, v.Prefix.Masked())
		case v.Prefix.Bits() > 29:
			d.errorf("vlan.prefix", "a /%d has no room for two gateways and the virtual IP; use a /29 or larger", v.Prefix.Bits())
		}
	}
	switch {
	case d.set["vlan.virtual_ip"] && d.set["vlan.virtual_ips"]:
		d.errorf("vlan.virtual_ips", "set either vlan.virtual_ip (active-standby) or vlan.virtual_ips (active-active), not both")
	case d.set["vlan.virtual_ips"]:
		if n := len(v.VirtualIPs); n != 2 {
			d.errorf("vlan.virtual_ips", "must list exactly two addresses (active-active: gateways[0] is the master of the first, gateways[1] of the second), got %d; for one use vlan.virtual_ip", n)
		}
		for i, a := range v.VirtualIPs {
			d.checkVirtualIP(index("vlan.virtual_ips", i), a, v.Prefix)
		}
		if len(v.VirtualIPs) == 2 && v.VirtualIPs[0].IsValid() && v.VirtualIPs[0] == v.VirtualIPs[1] {
			d.errorf("vlan.virtual_ips[1]", "%s is also vlan.virtual_ips[0]; the two virtual IPs must differ", v.VirtualIPs[1])
		}
	case d.require("vlan.virtual_ip", "the VRRP address hosts route through, e.g. 10.0.1.200 (or vlan.virtual_ips with two, for active-active)"):
		d.checkVirtualIP("vlan.virtual_ip", v.VirtualIP, v.Prefix)
	}
}

// checkVirtualIP checks one virtual IP against the VLAN prefix.
func (d *decoder) checkVirtualIP(path string, a netip.Addr, prefix netip.Prefix) {
	if !a.IsValid() || !prefix.IsValid() {
		return // did not decode; already reported
	}
	p := prefix.Masked()
	switch {
	case !p.Contains(a):
		d.errorf(path, "%s is outside vlan.prefix %s", a, p)
	case a == p.Addr():
		d.errorf(path, "%s is the network address of %s", a, p)
	case a == lastAddr(p):
		d.errorf(path, "%s is the broadcast address of %s", a, p)
	}
}

func (d *decoder) validateVRRP(s *Site) {
	v := &s.VRRP
	if d.require("vrrp.vrid", "the VRRP virtual router ID, 1..255, unique on the VLAN") && s.ActiveActive() && v.VRID == 255 {
		d.errorf("vrrp.vrid", "255 leaves no VRID for the second virtual IP: active-active uses vrid and vrid+1")
	}
	ai := v.AdvertInterval
	switch v.Version {
	case 2:
		// VRRPv2 (RFC 3768) carries the interval in whole seconds in one octet.
		if ai < time.Second || ai > 255*time.Second || ai%time.Second != 0 {
			d.errorf("vrrp.advert_interval", "VRRP version 2 counts whole seconds from 1s to 255s, got %s", ai)
		}
		if len(v.AuthPass.Reveal()) > 8 {
			d.errorf("vrrp.auth_pass", "must be at most 8 bytes (the size of the VRRPv2 authentication field)")
		}
	case 3:
		// VRRPv3 (RFC 5798) carries it in centiseconds in 12 bits.
		if ai < 10*time.Millisecond || ai > 4095*10*time.Millisecond || ai%(10*time.Millisecond) != 0 {
			d.errorf("vrrp.advert_interval", "VRRP version 3 counts 10ms steps from 10ms to 40.95s, got %s", ai)
		}
		if !v.AuthPass.IsZero() {
			d.errorf("vrrp.auth_pass", "is for VRRP version 2 only (version 3 has no authentication, RFC 5798); remove it or set vrrp.version: 2")
		}
	}
	if v.PreemptDelay > 1000*time.Second {
		d.errorf("vrrp.preempt_delay", "must be at most 1000s (keepalived's limit), got %s", v.PreemptDelay)
	}
	if !v.Preempt && d.set["vrrp.preempt_delay"] && v.PreemptDelay > 0 {
		d.errorf("vrrp.preempt_delay", "has no effect with preempt: false; remove it or enable preempt")
	}
}

func (d *decoder) validateBGP(s *Site) {
	b := &s.BGP
	if d.require("bgp.asn", "this site's AS number, e.g. 65000") {
		switch b.ASN {
		case DefaultRemoteASN:
			d.errorf("bgp.asn", "64512 is AWS's default ASN for the virtual private gateway; the customer side needs a different one (e.g. 65000)")
		case asTrans:
			d.errorf("bgp.asn", "23456 is AS_TRANS (RFC 6793) and cannot be a real ASN")
		}
	}
	if d.set["bgp.advertise"] && len(b.Advertise) == 0 {
		d.errorf("bgp.advertise", "lists no prefix; list at least one or leave advertise out to announce vlan.prefix")
	}
	perPrefix, why := failoverRoutes, "on failover a gateway announces each prefix and its two halves"
	if s.ActiveActive() && !b.ECMP {
		perPrefix, why = activeActiveRoutes, "in active-active with a virtual private gateway each gateway announces each prefix, its two halves and, on failover, its four quarters"
	}
	switch n := len(b.Advertise); {
	case n > maxRoutes:
		d.errorf("bgp.advertise", "lists %d prefixes; AWS accepts at most %d routes per VPN connection", n, maxRoutes)
	case n*perPrefix > maxRoutes:
		d.errorf("bgp.advertise", "lists %d prefixes; at most %d fit, because %s (%d routes each) and AWS accepts at most %d routes per VPN connection",
			n, maxRoutes/perPrefix, why, perPrefix, maxRoutes)
	}
	if b.ECMP && d.set["bgp.backup_prepend"] {
		d.errorf("bgp.backup_prepend", "does not apply with bgp.ecmp: a transit gateway spreads flows only over tunnels with equal AS paths, so nothing is prepended; remove it")
	}
	first := map[netip.Prefix]int{}
	for i, p := range b.Advertise {
		path := index("bgp.advertise", i)
		if !p.IsValid() {
			continue // did not decode; already reported
		}
		switch j, dup := first[p.Masked()]; {
		case p != p.Masked():
			d.errorf(path, "host bits are set in %s; write the prefix in canonical form, %s", p, p.Masked())
		case p.Bits() == 32:
			d.errorf(path, "%s is a /32; on failover a gateway announces each advertised prefix split into its two halves, which a /32 does not have", p)
		case p.Bits() > 30 && s.ActiveActive() && !b.ECMP:
			d.errorf(path, "%s is a /%d; in active-active with a virtual private gateway each advertised prefix is split into quarters, which need a /30 or shorter", p, p.Bits())
		case dup:
			d.errorf(path, "%s is listed twice (also bgp.advertise[%d])", p, j)
		}
		if _, dup := first[p.Masked()]; !dup {
			first[p.Masked()] = i
		}
	}
}

// validateFilters checks the lists that filter routes and management
// access: canonical IPv4 prefixes, each once.
func (d *decoder) validateFilters(s *Site) {
	for key, list := range map[string][]netip.Prefix{"bgp.accept": s.BGP.Accept, "status.allow": s.Status.Allow} {
		first := map[netip.Prefix]int{}
		for i, p := range list {
			path := index(key, i)
			if !p.IsValid() {
				continue // did not decode; already reported
			}
			switch j, dup := first[p]; {
			case p != p.Masked():
				d.errorf(path, "host bits are set in %s; write the prefix in canonical form, %s", p, p.Masked())
			case dup:
				d.errorf(path, "%s is listed twice (also %s[%d])", p, key, j)
			default:
				first[p] = i
			}
		}
	}
	if pw := s.BGP.IBGPPassword.Reveal(); pw != "" {
		// Linux keys TCP-MD5 with at most 80 bytes (TCP_MD5SIG_MAXKEYLEN);
		// FRR reads the password as one word.
		if len(pw) > 80 || strings.ContainsFunc(pw, func(r rune) bool { return r <= ' ' || r > '~' }) {
			d.errorf("bgp.ibgp_password", "must be 1 to 80 printable ASCII characters without spaces")
		}
	}
}

func (d *decoder) validateGateways(s *Site) {
	if !d.require("gateways", "list the two gateways of the pair") {
		return
	}
	if n := len(s.Gateways); n != 2 {
		var more string
		if n > 2 {
			more = "; more than two is not supported yet (the repository's docs/design.md, \"Three or more gateways\", says what it would take)"
		}
		d.errorf("gateways", "must list exactly two gateways (the pair), got %d%s", n, more)
	}
	names := map[string]string{}     // gateway name -> its path
	prios := map[uint8]string{}      // priority -> path
	addrs := map[netip.Addr]string{} // VLAN address -> path
	tunnels := map[string]string{}   // tunnel name -> path
	insides := map[netip.Prefix]string{}
	for gi := range s.Gateways {
		g := &s.Gateways[gi]
		gp := index("gateways", gi)
		if d.require(gp+".name", "the Linode label of the instance") {
			if msg := checkLabel(g.Name); msg != "" {
				d.errorf(gp+".name", "%s", msg)
			} else if other, dup := claim(names, g.Name, gp); dup {
				d.errorf(gp+".name", "%q is also the name of %s; the two gateways need distinct names", g.Name, other)
			}
		}
		if d.require(gp+".priority", "the VRRP priority, 1..254; the higher one is master") {
			if other, dup := claim(prios, g.Priority, gp); dup {
				d.errorf(gp+".priority", "%d is also the priority of %s; the pair needs distinct priorities so that one is master", g.Priority, other)
			}
		}
		if g.VLANAddress.IsValid() {
			if msg := s.checkVLANAddress(g.VLANAddress); msg != "" {
				d.errorf(gp+".vlan_address", "%s", msg)
			} else if other, dup := claim(addrs, g.VLANAddress.Addr(), gp); dup {
				d.errorf(gp+".vlan_address", "%s is also the address of %s", g.VLANAddress.Addr(), other)
			}
		}
		if d.require(gp+".tunnels", "list this gateway's tunnels to AWS (two per VPN connection)") {
			if n := len(g.Tunnels); n < 1 || n > 4 {
				d.errorf(gp+".tunnels", "must list 1 to 4 tunnels (AWS gives two per VPN connection), got %d", n)
			}
		}
		outside := map[netip.Addr]string{}
		for ti := range g.Tunnels {
			t := &g.Tunnels[ti]
			tp := index(gp+".tunnels", ti)
			if d.require(tp+".name", "e.g. vpn-1a") {
				if !tunnelName.MatchString(t.Name) || len(t.Name) > 32 {
					d.errorf(tp+".name", "%q must be 1 to 32 letters, digits, '.', '_' or '-', starting with a letter or digit", t.Name)
				} else if other, dup := claim(tunnels, t.Name, tp); dup {
					d.errorf(tp+".name", "%q is also the name of %s; tunnel names must be unique across the site", t.Name, other)
				}
			}
			if d.require(tp+".outside_address", "AWS's outside IP address for this tunnel") && t.OutsideAddress.IsValid() {
				if what := notPublic(t.OutsideAddress); what != "" {
					d.errorf(tp+".outside_address", "%s is %s; AWS's tunnel endpoints are public addresses", t.OutsideAddress, what)
				} else if other, dup := claim(outside, t.OutsideAddress, tp); dup {
					d.errorf(tp+".outside_address", "%s is also the outside address of %s", t.OutsideAddress, other)
				}
			}
			if d.require(tp+".inside_cidr", "the tunnel's inside /30 from AWS, e.g. 169.254.80.144/30") && t.InsideCIDR.IsValid() {
				if msg := checkInside(t.InsideCIDR); msg != "" {
					d.errorf(tp+".inside_cidr", "%s", msg)
				} else if other, dup := claim(insides, t.InsideCIDR, tp); dup {
					d.errorf(tp+".inside_cidr", "%s is also the inside CIDR of %s; inside CIDRs must be unique across the site", t.InsideCIDR, other)
				}
			}
			if d.require(tp+".psk", "the tunnel's pre-shared key from AWS") {
				if msg := checkPSK(t.PSK.Reveal()); msg != "" {
					d.errorf(tp+".psk", "%s", msg)
				}
			}
			// A bad bgp.asn (64512 above all) would otherwise be reported
			// again on every tunnel.
			if s.BGP.ASN != 0 && !d.bad["bgp.asn"] && t.RemoteASN == s.BGP.ASN {
				d.errorf(tp+".remote_asn", "%d equals bgp.asn; the AWS side of the eBGP session must be a different AS", t.RemoteASN)
			}
			d.validateProposals(tp+".proposals", t.Proposals, true, t.IKEVersion)
			d.validateProposals(tp+".esp_proposals", t.ESPProposals, false, t.IKEVersion)
			d.checkDuration(tp+".dpd_delay", t.DPDDelay, time.Second, 60*time.Second, "")
			d.checkDuration(tp+".ike_lifetime", t.IKELifetime, 900*time.Second, 28800*time.Second, "AWS's phase 1 range")
			if d.checkDuration(tp+".child_lifetime", t.ChildLifetime, 900*time.Second, 3600*time.Second, "AWS's phase 2 range") &&
				t.IKELifetime > 0 && t.ChildLifetime >= t.IKELifetime {
				d.errorf(tp+".child_lifetime", "%s must be less than ike_lifetime %s (AWS requires phase 2 to be shorter than phase 1)", FormatDuration(t.ChildLifetime), FormatDuration(t.IKELifetime))
			}
		}
	}
}

// checkDuration checks a whole-second duration in [min, max]; strongSwan and
// AWS count these in seconds, so a fraction would be silently dropped.
func (d *decoder) checkDuration(path string, v, min, max time.Duration, why string) bool {
	if why != "" {
		why = " (" + why + ")"
	}
	switch {
	case v%time.Second != 0:
		d.errorf(path, "must be a whole number of seconds, got %s", v)
	case v < min || v > max:
		d.errorf(path, "must be between %s and %s%s, got %s", FormatDuration(min), FormatDuration(max), why, FormatDuration(v))
	default:
		return true
	}
	return false
}

func (d *decoder) validateProposals(path string, ps []string, ike bool, ikeVersion int) {
	if len(ps) == 0 {
		if d.set[path] {
			d.errorf(path, "lists no proposal; list at least one or leave the key out for the defaults")
		}
		return
	}
	first := map[string]int{}
	for i, p := range ps {
		ip := index(path, i)
		if j, dup := first[p]; dup {
			d.errorf(ip, "%q is listed twice (also %s[%d])", p, path, j)
			continue
		}
		first[p] = i
		if msg := checkProposal(p, ike, ikeVersion); msg != "" {
			d.errorf(ip, "%s", msg)
		}
	}
}

// claim records k as path's in seen unless another path holds it already,
// and then returns that path.
func claim[K comparable](seen map[K]string, k K, path string) (other string, dup bool) {
	if other, dup := seen[k]; dup {
		return other, true
	}
	seen[k] = path
	return "", false
}
