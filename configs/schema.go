package configs

import (
	"math"

	"go.yaml.in/yaml/v3"
)

// The schema: each mapping of the site document and its known keys, each
// key with the value that decodes it and renders it for Masked, so that a
// key added here is both read and shown. configs/doc.go documents the keys;
// defaults.go and validate.go add defaults and the rules between keys.

// site is the top-level mapping.
func (d *decoder) site(s *Site) []field {
	return []field{
		{"version", intField(d, &s.Version, math.MinInt32, math.MaxInt32)},
		{"site", d.str(&s.Site)},
		{"vlan", d.object(d.vlan(&s.VLAN))},
		{"vrrp", d.object(d.vrrp(&s.VRRP))},
		{"bgp", d.object(d.bgp(&s.BGP))},
		{"status", d.object(d.status(&s.Status))},
		{"syslog", d.object(d.syslog(&s.Syslog))},
		{"gateways", list(d, &s.Gateways, d.gateway)},
	}
}

// vlan's two spellings of the virtual IP exclude each other. Defaults fill
// both, so Masked shows the one the site's mode is written with.
func (d *decoder) vlan(v *VLAN) []field {
	return []field{
		{"interface", d.str(&v.Interface)},
		{"prefix", d.prefixField(&v.Prefix)},
		{"virtual_ip", d.addr(&v.VirtualIP).shownIf(func() bool { return !v.activeActive() })},
		{"virtual_ips", d.addrs(&v.VirtualIPs).shownIf(v.activeActive)},
	}
}

func (d *decoder) vrrp(v *VRRP) []field {
	return []field{
		{"vrid", intField(d, &v.VRID, 1, 255)},
		{"version", intField(d, &v.Version, 2, 3)},
		{"advert_interval", d.duration(&v.AdvertInterval)},
		{"auth_pass", d.secret(&v.AuthPass)},
		{"preempt", d.boolean(&v.Preempt)},
		{"preempt_delay", d.duration(&v.PreemptDelay)},
	}
}

func (d *decoder) bgp(b *BGP) []field {
	return []field{
		{"asn", intField(d, &b.ASN, 1, math.MaxUint32-1)},
		{"advertise", d.prefixes(&b.Advertise)},
		{"backup_prepend", intField(d, &b.BackupPrepend, 0, 10)},
		{"accept", d.prefixes(&b.Accept)},
		{"max_prefixes", intField(d, &b.MaxPrefixes, 1, 1_000_000)},
		{"ibgp_password", d.secret(&b.IBGPPassword)},
		{"ibgp_ttl_security", d.boolean(&b.IBGPTTLSecurity)},
		{"ecmp", d.boolean(&b.ECMP)},
	}
}

func (d *decoder) status(st *Status) []field {
	return []field{
		{"allow", d.prefixes(&st.Allow)},
	}
}

func (d *decoder) syslog(l *Syslog) []field {
	return []field{
		{"address", d.addrPort(&l.Address, DefaultSyslogPort)},
		{"protocol", d.str(&l.Protocol)},
	}
}

func (d *decoder) gateway(g *Gateway) []field {
	return []field{
		{"name", d.str(&g.Name)},
		{"priority", intField(d, &g.Priority, 1, 254)},
		{"vlan_address", d.prefixField(&g.VLANAddress)},
		{"tunnels", list(d, &g.Tunnels, d.tunnel)},
	}
}

func (d *decoder) tunnel(t *Tunnel) []field {
	return []field{
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
	}
}

// object is a nested mapping with the given keys. Masked leaves it out
// when none of its keys has anything to show.
func (d *decoder) object(fields []field) value {
	return value{
		decode: func(n *yaml.Node, path string) { d.mapping(n, path, fields) },
		encode: func() *yaml.Node {
			if m := encodeMapping(fields); len(m.Content) > 0 {
				return m
			}
			return nil
		},
	}
}

// list is a list of mappings, each decoded into a new element of *dst with
// the keys fields gives for it.
func list[T any](d *decoder, dst *[]T, fields func(*T) []field) value {
	return value{
		decode: func(n *yaml.Node, path string) {
			d.sequence(n, path, func(n *yaml.Node, path string, _ int) {
				*dst = append(*dst, *new(T))
				d.mapping(n, path, fields(&(*dst)[len(*dst)-1]))
			})
		},
		encode: func() *yaml.Node {
			items := make([]*yaml.Node, len(*dst))
			for i := range *dst {
				items[i] = encodeMapping(fields(&(*dst)[i]))
			}
			return sequenceNode(items, 0)
		},
	}
}
