package configs

import (
	"math"

	"go.yaml.in/yaml/v3"
)

// The schema: each mapping of the site document and its known keys, each
// key with the decoder of its value. configs/doc.go documents the keys;
// defaults.go and validate.go add defaults and the rules between keys.

// site decodes the top-level mapping.
func (d *decoder) site(root *yaml.Node) *Site {
	s := new(Site)
	d.mapping(root, "", []field{
		{"version", intField(d, &s.Version, math.MinInt32, math.MaxInt32)},
		{"site", d.str(&s.Site)},
		{"vlan", func(n *yaml.Node, p string) { d.vlan(n, p, &s.VLAN) }},
		{"vrrp", func(n *yaml.Node, p string) { d.vrrp(n, p, &s.VRRP) }},
		{"bgp", func(n *yaml.Node, p string) { d.bgp(n, p, &s.BGP) }},
		{"status", func(n *yaml.Node, p string) { d.status(n, p, &s.Status) }},
		{"syslog", func(n *yaml.Node, p string) { d.syslog(n, p, &s.Syslog) }},
		{"gateways", func(n *yaml.Node, p string) {
			d.sequence(n, p, func(n *yaml.Node, p string, _ int) {
				s.Gateways = append(s.Gateways, Gateway{})
				d.gateway(n, p, &s.Gateways[len(s.Gateways)-1])
			})
		}},
	})
	return s
}

func (d *decoder) vlan(n *yaml.Node, path string, v *VLAN) {
	d.mapping(n, path, []field{
		{"interface", d.str(&v.Interface)},
		{"prefix", d.prefixField(&v.Prefix)},
		{"virtual_ip", d.addr(&v.VirtualIP)},
		{"virtual_ips", d.addrs(&v.VirtualIPs)},
	})
}

func (d *decoder) vrrp(n *yaml.Node, path string, v *VRRP) {
	d.mapping(n, path, []field{
		{"vrid", intField(d, &v.VRID, 1, 255)},
		{"version", intField(d, &v.Version, 2, 3)},
		{"advert_interval", d.duration(&v.AdvertInterval)},
		{"auth_pass", d.secret(&v.AuthPass)},
		{"preempt", d.boolean(&v.Preempt)},
		{"preempt_delay", d.duration(&v.PreemptDelay)},
	})
}

func (d *decoder) bgp(n *yaml.Node, path string, b *BGP) {
	d.mapping(n, path, []field{
		{"asn", intField(d, &b.ASN, 1, math.MaxUint32-1)},
		{"advertise", d.prefixes(&b.Advertise)},
		{"backup_prepend", intField(d, &b.BackupPrepend, 0, 10)},
		{"accept", d.prefixes(&b.Accept)},
		{"max_prefixes", intField(d, &b.MaxPrefixes, 1, 1_000_000)},
		{"ibgp_password", d.secret(&b.IBGPPassword)},
		{"ibgp_ttl_security", d.boolean(&b.IBGPTTLSecurity)},
		{"ecmp", d.boolean(&b.ECMP)},
	})
}

func (d *decoder) status(n *yaml.Node, path string, st *Status) {
	d.mapping(n, path, []field{
		{"allow", d.prefixes(&st.Allow)},
	})
}

func (d *decoder) syslog(n *yaml.Node, path string, l *Syslog) {
	d.mapping(n, path, []field{
		{"address", d.addrPort(&l.Address, DefaultSyslogPort)},
		{"protocol", d.str(&l.Protocol)},
	})
}

func (d *decoder) gateway(n *yaml.Node, path string, g *Gateway) {
	d.mapping(n, path, []field{
		{"name", d.str(&g.Name)},
		{"priority", intField(d, &g.Priority, 1, 254)},
		{"vlan_address", d.prefixField(&g.VLANAddress)},
		{"tunnels", func(n *yaml.Node, p string) {
			d.sequence(n, p, func(n *yaml.Node, p string, _ int) {
				g.Tunnels = append(g.Tunnels, Tunnel{})
				d.tunnel(n, p, &g.Tunnels[len(g.Tunnels)-1])
			})
		}},
	})
}

func (d *decoder) tunnel(n *yaml.Node, path string, t *Tunnel) {
	d.mapping(n, path, []field{
		{"name", d.str(&t.Name)},
		{"outside_address", d.addr(&t.OutsideAddress)},
		{"inside_cidr", d.prefixField(&t.InsideCIDR)},
		{"psk", d.secret(&t.PSK)},
		{"remote_asn", intField(d, &t.RemoteASN, 1, math.MaxUint32-1)},
		{"ike_version", intField(d, &t.IKEVersion, 1, 2)},
		{"proposals", d.strings(&t.Proposals)},
		{"esp_proposals", d.strings(&t.ESPProposals)},
		{"dpd_delay", d.duration(&t.DPDDelay)},
		{"ike_lifetime", d.duration(&t.IKELifetime)},
		{"child_lifetime", d.duration(&t.ChildLifetime)},
		{"med", intField(d, &t.MED, 0, math.MaxUint32)},
	})
}
