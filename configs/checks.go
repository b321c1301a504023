package configs

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
)

// The checks of one value against AWS's, Linode's and Linux's rules: a VLAN
// address, a public address, a tunnel's inside /30, a pre-shared key, a
// label, an interface name. Each returns what is wrong, or "".

var (
	pskChars    = regexp.MustCompile(`^[A-Za-z0-9._]*$`)
	linkLocal   = netip.MustParsePrefix("169.254.0.0/16")
	sharedSpace = netip.MustParsePrefix("100.64.0.0/10") // RFC 6598 carrier-grade NAT
	reserved4   = netip.MustParsePrefix("240.0.0.0/4")   // RFC 1112 reserved, incl. broadcast
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")     // RFC 1122 "this network"
	// awsReservedInside are the inside /30s AWS refuses for a tunnel.
	awsReservedInside = []netip.Prefix{
		netip.MustParsePrefix("169.254.0.0/30"),
		netip.MustParsePrefix("169.254.1.0/30"),
		netip.MustParsePrefix("169.254.2.0/30"),
		netip.MustParsePrefix("169.254.3.0/30"),
		netip.MustParsePrefix("169.254.4.0/30"),
		netip.MustParsePrefix("169.254.5.0/30"),
		netip.MustParsePrefix("169.254.169.252/30"),
	}
)

// CheckVLANAddress checks a gateway's VLAN address (with prefix length) the
// way Parse checks vlan_address; the gateway uses it on the ipam_address from
// the Metadata Service when the configuration leaves vlan_address out.
func (s *Site) CheckVLANAddress(p netip.Prefix) error {
	if msg := s.checkVLANAddress(p); msg != "" {
		return fmt.Errorf("configs: VLAN address %s: %s", p, msg)
	}
	return nil
}

func (s *Site) checkVLANAddress(p netip.Prefix) string {
	vp := s.VLAN.Prefix.Masked()
	a := p.Addr()
	switch {
	case !p.IsValid() || !a.Is4():
		return fmt.Sprintf("%s must be an IPv4 address with prefix length, e.g. 10.0.1.2/24", p)
	case !vp.IsValid():
		return "" // vlan.prefix is missing or broken; reported there
	case !vp.Contains(a):
		return fmt.Sprintf("%s is outside vlan.prefix %s", a, vp)
	case p.Bits() != vp.Bits():
		return fmt.Sprintf("prefix length /%d differs from vlan.prefix %s", p.Bits(), vp)
	case a == vp.Addr():
		return fmt.Sprintf("%s is the network address of %s", a, vp)
	case a == lastAddr(vp):
		return fmt.Sprintf("%s is the broadcast address of %s", a, vp)
	case slices.Contains(s.VLAN.VirtualIPs, a):
		return fmt.Sprintf("%s is a virtual IP (vlan.virtual_ip or vlan.virtual_ips); each gateway needs its own address", a)
	}
	return ""
}

// lastAddr returns the broadcast address of an IPv4 prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v |= host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func notPublic(a netip.Addr) string {
	switch {
	case a.IsUnspecified() || thisNetwork.Contains(a):
		return "an unspecified address"
	case a.IsPrivate():
		return "a private (RFC 1918) address"
	case a.IsLoopback():
		return "a loopback address"
	case a.IsLinkLocalUnicast():
		return "a link-local address"
	case a.IsMulticast():
		return "a multicast address"
	case sharedSpace.Contains(a):
		return "a carrier-grade NAT (RFC 6598) address"
	case reserved4.Contains(a):
		return "a reserved address"
	}
	return ""
}

func checkInside(p netip.Prefix) string {
	switch {
	case p.Bits() != 30:
		return fmt.Sprintf("%s must be a /30 (AWS assigns a /30 per tunnel)", p)
	case p != p.Masked():
		return fmt.Sprintf("host bits are set in %s; write the /30 itself, %s", p, p.Masked())
	case !linkLocal.Contains(p.Addr()):
		return fmt.Sprintf("%s is outside 169.254.0.0/16, where AWS takes tunnel inside addresses", p)
	}
	for _, r := range awsReservedInside {
		if p == r {
			return fmt.Sprintf("%s is reserved by AWS (169.254.0.0/30 to 169.254.5.0/30 and 169.254.169.252/30 cannot be used)", p)
		}
	}
	return ""
}

// checkPSK applies AWS's pre-shared key rules. The message never contains the
// key or its length.
func checkPSK(k string) string {
	var why []string
	if len(k) < 8 || len(k) > 64 {
		why = append(why, "its length is outside 8 to 64")
	}
	if !pskChars.MatchString(k) {
		why = append(why, "it has a character outside A-Z a-z 0-9 . _")
	}
	if strings.HasPrefix(k, "0") {
		why = append(why, "it starts with 0")
	}
	if len(why) == 0 {
		return ""
	}
	return "does not meet AWS's rules (8 to 64 characters of A-Z a-z 0-9 . _, not starting with 0): " + strings.Join(why, "; ")
}

// checkLabel applies Linode's label rules, since a gateway's name is the
// label the instance reads back from the Metadata Service.
func checkLabel(l string) string {
	const rules = "must be a Linode label: 3 to 64 letters, digits, '-', '_' or '.', starting and ending with a letter or digit, without '--', '__' or '..'"
	if len(l) < 3 || len(l) > 64 || strings.Contains(l, "--") || strings.Contains(l, "__") || strings.Contains(l, "..") {
		return fmt.Sprintf("%q %s", l, rules)
	}
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !alnum(c) && c != '-' && c != '_' && c != '.' {
			return fmt.Sprintf("%q %s", l, rules)
		}
	}
	if !alnum(l[0]) || !alnum(l[len(l)-1]) {
		return fmt.Sprintf("%q %s", l, rules)
	}
	return ""
}

// checkIfname applies Linux's interface name rules (IFNAMSIZ is 16 with the
// terminating NUL).
func checkIfname(n string) string {
	if n == "" || len(n) > 15 || n == "." || n == ".." || strings.ContainsAny(n, "/: \t\n") {
		return fmt.Sprintf("%q is not a valid Linux interface name (1 to 15 characters, no '/', ':' or spaces)", n)
	}
	return ""
}
