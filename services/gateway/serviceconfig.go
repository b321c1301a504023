package gateway

import (
	"log/slog"
	"net/netip"
	"path/filepath"

	"github.com/tidegate/tidegate/configs"
	"github.com/tidegate/tidegate/services/bgp"
	"github.com/tidegate/tidegate/services/firewall"
	"github.com/tidegate/tidegate/services/ipsec"
	"github.com/tidegate/tidegate/services/vrrp"
)

// This file maps the site configuration onto each service's Config. It is
// pure (no sockets, no goroutines) so that the mapping is unit-tested, and
// exported (Role.Configs) so that `tidegate render` prints the very values
// the gateway loads instead of a second copy of the rules.

// ServiceConfigs is what one gateway loads into its services.
type ServiceConfigs struct {
	// IPsec is the IPsec service's configuration: charon's connections.
	// It holds the pre-shared keys (as configs.Secret, masked when
	// printed).
	IPsec ipsec.Config
	// BGP is the speaker's configuration; OnAWSPaths is left nil (the
	// gateway wires it to its health tracking).
	BGP bgp.Config
	// VRRP is the router's configuration: of the virtual IP this gateway
	// is the master of (in active-standby, the only one). AuthPass is the
	// plain VRRPv2 password: mask it before printing it.
	VRRP vrrp.Config
	// PeerVRRP is, in active-active, the router of the peer's virtual IP,
	// of which this gateway is the backup; nil in active-standby.
	PeerVRRP *vrrp.Config
	// Firewall is the packet filter's table; nil when Options.Firewall is
	// off (standalone mode shares its host's or namespace's filter).
	Firewall *firewall.Config
	// AWSTrackWeight is the weight (negative) of the VRRP track TrackAWS
	// while this gateway has no working path to AWS.
	AWSTrackWeight int
	// Warnings are what the mapping had to leave out and why, for the log.
	Warnings []string
	// Notes say, for the log and for render, how what the configuration
	// does not give is found at run time (the peer's VLAN address, from
	// its VRRP adverts: IBGPNote).
	Notes []string
}

// IBGPNote is the note of a gateway whose peer's VLAN address is not in
// the configuration, for range (the site's VLAN prefix).
func IBGPNote(vlan netip.Prefix) string {
	return "iBGP: accepted from " + vlan.String() + ", the peer's address learned from its VRRP adverts"
}

// ApplianceOptions are the Options of the appliance's gateway (init's
// "gateway" sub-command): the box owns its kernel, so the XFRM interfaces,
// the uplink firewall and the sysctls are all on. metadataURL "" is the
// Linode Metadata Service.
func ApplianceOptions(metadataURL string) Options {
	return Options{MetadataURL: metadataURL, XFRMInterfaces: true, Firewall: true, Sysctls: true}
}

// NewRole returns the role of gateway name in site: its own section, and
// its configured vlan_address, which is the zero Prefix when the Metadata
// Service's ipam_address is to give it. PublicAddress is left zero (DHCP
// gives it on the appliance).
func NewRole(site *configs.Site, name string) (*Role, error) {
	self, err := site.Gateway(name)
	if err != nil {
		return nil, err
	}
	return &Role{Site: site, Self: self, VLANAddress: self.VLANAddress}, nil
}

// Configs returns what the gateway of role r, run with options o, loads
// into IPsec, BGP and VRRP. The gateway builds its services from exactly
// this; `tidegate render` prints it. A zero r.VLANAddress gives a zero BGP
// router ID (the speaker refuses it; the gateway always knows its address
// before it starts the services).
func (r *Role) Configs(o Options) ServiceConfigs {
	o.defaults()
	c := ServiceConfigs{
		IPsec:          ipsecConfig(o, r, o.Log.With("svc", "ipsec")),
		VRRP:           vrrpConfig(r, r.Site.Group(r.Self.Name), o.Log.With("svc", "vrrp")),
		AWSTrackWeight: awsWeight(r.Site),
	}
	if r.Site.ActiveActive() {
		g := 1 - r.Site.Group(r.Self.Name)
		pc := vrrpConfig(r, g, o.Log.With("svc", "vrrp-peer"))
		c.PeerVRRP = &pc
	}
	var warning string
	c.BGP, warning = bgpConfig(o, r, o.Log.With("svc", "bgp"))
	if warning != "" {
		c.Warnings = append(c.Warnings, warning)
	}
	if c.BGP.IBGPRange.IsValid() {
		c.Notes = append(c.Notes, IBGPNote(c.BGP.IBGPRange))
	}
	if o.Firewall {
		fw := firewallConfig(o, r)
		c.Firewall = &fw
	}
	return c
}

func ipsecConfig(o Options, role *Role, log *slog.Logger) ipsec.Config {
	return ipsec.Config{
		Charon:         o.Charon,
		RunDir:         filepath.Join(o.RunDir, "ipsec"),
		Tunnels:        role.Self.Tunnels,
		LocalAddress:   role.PublicAddress,
		Logger:         log,
		XFRMInterfaces: o.XFRMInterfaces,
		Uplink:         o.PublicInterface,
		Sysctls:        o.Sysctls,
	}
}

// bgpConfig returns the speaker's configuration and, when there is no peer
// at all, a warning for the log. OnAWSPaths is left to the
// caller. MEDs and the backup prepend are the site's as they are: configs
// fills their defaults, and bgp takes every value literally.
func bgpConfig(o Options, role *Role, log *slog.Logger) (cfg bgp.Config, warning string) {
	site, self := role.Site, role.Self
	cfg = bgp.Config{
		RouterID:        role.VLANAddress.Addr(),
		ASN:             site.BGP.ASN,
		Advertise:       site.BGP.Advertise,
		BackupPrepend:   site.BGP.BackupPrepend,
		VLANDevice:      site.VLAN.Interface,
		IBGPPassword:    site.BGP.IBGPPassword.Reveal(),
		IBGPTTLSecurity: site.BGP.IBGPTTLSecurity,
		Import:          importFilter(role),
		MaxPrefixes:     site.BGP.MaxPrefixes,
		ECMP:            site.BGP.ECMP,
		Logger:          log,
	}
	if site.ActiveActive() && !site.BGP.ECMP {
		cfg.Share = site.Group(self.Name) + 1
	}
	for _, t := range self.Tunnels {
		bt := bgp.Tunnel{
			Name:      t.Name,
			Local:     t.LocalInside().Addr(),
			Remote:    t.RemoteInside(),
			RemoteASN: t.RemoteASN,
			MED:       t.MED,
		}
		if o.XFRMInterfaces {
			bt.Device, _ = ipsec.InterfaceFor(t)
		}
		cfg.Tunnels = append(cfg.Tunnels, bt)
	}
	peer, err := site.Peer(self.Name)
	switch {
	case err != nil:
		warning = "no iBGP: " + err.Error()
	case !peer.VLANAddress.IsValid():
		// The peer's address came from its own Metadata Service, which we
		// cannot read. The speaker accepts the peer's session from the
		// VLAN, and connects itself once the gateway has learned the
		// address from the master's VRRP adverts (wiring.go).
		cfg.IBGPRange = site.VLAN.Prefix.Masked()
	default:
		cfg.IBGPPeer = peer.VLANAddress.Addr()
	}
	return cfg, warning
}

// importFilter is what routes from AWS and the peer must stay clear of:
// the VLAN and the virtual IP (the advertised prefixes bgp adds itself),
// every tunnel's outside address in the site and our public address.
func importFilter(role *Role) bgp.ImportFilter {
	site := role.Site
	f := bgp.ImportFilter{
		Own:    []netip.Prefix{site.VLAN.Prefix.Masked(), netip.PrefixFrom(site.VLAN.VirtualIP, 32)},
		Accept: site.BGP.Accept,
	}
	if site.ActiveActive() {
		f.Own = append(f.Own, netip.PrefixFrom(site.VLAN.VirtualIPs[1], 32))
	}
	for _, g := range site.Gateways {
		for _, t := range g.Tunnels {
			f.Endpoints = append(f.Endpoints, t.OutsideAddress)
		}
	}
	if role.PublicAddress.IsValid() {
		f.Endpoints = append(f.Endpoints, role.PublicAddress)
	}
	return f
}

// vrrpConfig is the router of virtual IP number group (VLAN.VirtualIPs):
// VRID vrrp.vrid+group. In active-standby (group 0, one virtual IP) the
// priority is the gateway's own. In active-active the gateway that owns
// the group (gateways[group]) runs it at the higher of the pair's two
// priorities, the other at the lower, so each is master of its own.
func vrrpConfig(role *Role, group int, log *slog.Logger) vrrp.Config {
	site := role.Site
	// The peer's address when the site gives it: adverts from anyone
	// else are dropped. Without it the router learns the peer.
	var peerAddr netip.Addr
	if peer, err := site.Peer(role.Self.Name); err == nil && peer.VLANAddress.IsValid() {
		peerAddr = peer.VLANAddress.Addr()
	}
	c := vrrp.Config{
		Prefix:         site.VLAN.Prefix.Masked(),
		Peer:           peerAddr,
		Interface:      site.VLAN.Interface,
		VRID:           site.VRRP.VRID,
		Version:        site.VRRP.Version,
		Priority:       role.Self.Priority,
		AdvertInterval: site.VRRP.AdvertInterval,
		AuthPass:       site.VRRP.AuthPass.Reveal(),
		Preempt:        site.VRRP.Preempt,
		PreemptDelay:   site.VRRP.PreemptDelay,
		VirtualIPs:     []netip.Prefix{netip.PrefixFrom(site.VLAN.VirtualIP, site.VLAN.Prefix.Bits())},
		Logger:         log,
	}
	if site.ActiveActive() {
		lo, hi := priorities(site)
		c.VirtualIPs = []netip.Prefix{netip.PrefixFrom(site.VLAN.VirtualIPs[group], site.VLAN.Prefix.Bits())}
		c.VRID = site.VRRP.VRID + uint8(group)
		c.Sibling = site.VRRP.VRID + uint8(1-group)
		c.Priority = lo
		if site.Group(role.Self.Name) == group {
			c.Priority = hi
		}
	}
	return c
}
