package configs

import (
	"net/netip"
	"time"
)

// Defaults for keys the configuration leaves out.
const (
	DefaultInterface      = "eth1"
	DefaultVRRPVersion    = 3
	DefaultAdvertInterval = time.Second
	DefaultBackupPrepend  = 2
	// DefaultMaxPrefixes is above the 10,000 routes a transit gateway may
	// hold in all its route tables (AWS's default quota); see package bgp.
	DefaultMaxPrefixes   = 12000
	DefaultRemoteASN     = 64512 // AWS's default ASN for a virtual private gateway
	DefaultIKEVersion    = 2
	DefaultDPDDelay      = 10 * time.Second
	DefaultIKELifetime   = 28800 * time.Second // AWS's phase 1 default
	DefaultChildLifetime = 3600 * time.Second  // AWS's phase 2 default
	// MEDStep is the default MED distance between a gateway's tunnels, so the
	// first listed tunnel is preferred by AWS.
	MEDStep = 100
	// DefaultSyslogPort is syslog's port, over UDP (RFC 5426) and, by
	// custom (rsyslog, syslog-ng), over TCP.
	DefaultSyslogPort = 514
	// DefaultSyslogProtocol is the protocol of syslog.protocol.
	DefaultSyslogProtocol = "udp"
)

// defaults fills the keys the document left out. It looks at d.set rather
// than at zero values so that an explicit "preempt: false" or "med: 0" stays.
func (d *decoder) defaults(s *Site) {
	orDefault(d, "vlan.interface", &s.VLAN.Interface, DefaultInterface)
	switch {
	case d.set["vlan.virtual_ips"] && len(s.VLAN.VirtualIPs) > 0:
		s.VLAN.VirtualIP = s.VLAN.VirtualIPs[0]
	case d.set["vlan.virtual_ip"]:
		s.VLAN.VirtualIPs = []netip.Addr{s.VLAN.VirtualIP}
	}
	orDefault(d, "vrrp.version", &s.VRRP.Version, DefaultVRRPVersion)
	orDefault(d, "vrrp.advert_interval", &s.VRRP.AdvertInterval, DefaultAdvertInterval)
	orDefault(d, "vrrp.preempt", &s.VRRP.Preempt, true)
	if !d.set["bgp.advertise"] && s.VLAN.Prefix.IsValid() {
		s.BGP.Advertise = []netip.Prefix{s.VLAN.Prefix.Masked()}
	}
	orDefault(d, "bgp.backup_prepend", &s.BGP.BackupPrepend, DefaultBackupPrepend)
	orDefault(d, "bgp.ibgp_ttl_security", &s.BGP.IBGPTTLSecurity, true)
	orDefault(d, "bgp.max_prefixes", &s.BGP.MaxPrefixes, DefaultMaxPrefixes)
	if d.set["syslog"] && !d.set["syslog.protocol"] {
		s.Syslog.Protocol = DefaultSyslogProtocol
	}
	for gi := range s.Gateways {
		g := &s.Gateways[gi]
		for ti := range g.Tunnels {
			t := &g.Tunnels[ti]
			p := index(index("gateways", gi)+".tunnels", ti)
			orDefault(d, p+".remote_asn", &t.RemoteASN, DefaultRemoteASN)
			orDefault(d, p+".ike_version", &t.IKEVersion, DefaultIKEVersion)
			orDefault(d, p+".proposals", &t.Proposals, DefaultProposals(t.IKEVersion))
			orDefault(d, p+".esp_proposals", &t.ESPProposals, DefaultESPProposals())
			orDefault(d, p+".dpd_delay", &t.DPDDelay, DefaultDPDDelay)
			orDefault(d, p+".ike_lifetime", &t.IKELifetime, DefaultIKELifetime)
			orDefault(d, p+".child_lifetime", &t.ChildLifetime, DefaultChildLifetime)
			if !d.set[p+".med"] && !s.BGP.ECMP {
				// With ECMP every tunnel's MED stays 0: a transit
				// gateway spreads flows only over equal paths.
				t.MED = uint32(ti) * MEDStep
			}
		}
	}
}

// orDefault sets *p to v unless the document set key.
func orDefault[T any](d *decoder, key string, p *T, v T) {
	if !d.set[key] {
		*p = v
	}
}
