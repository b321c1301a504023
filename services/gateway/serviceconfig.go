package gateway

import (
	"log/slog"
	"net/netip"
	"path/filepath"

	"github.com/tidegate/tidegate/services/bgp"
	"github.com/tidegate/tidegate/services/ipsec"
	"github.com/tidegate/tidegate/services/vrrp"
)

// This file maps the site configuration onto each service's Config. It is
// pure (no sockets, no goroutines) so that the mapping is unit-tested.

func ipsecConfig(o Options, role *Role, log *slog.Logger) ipsec.Config {
	return ipsec.Config{
		Charon:         o.Charon,
		RunDir:         filepath.Join(o.RunDir, "ipsec"),
		Tunnels:        role.Self.Tunnels,
		LocalAddress:   role.PublicAddress,
		Logger:         log,
		XFRMInterfaces: o.XFRMInterfaces,
		Uplink:         o.PublicInterface,
		Firewall:       o.Firewall,
		Sysctls:        o.Sysctls,
	}
}

// bgpConfig returns the speaker's configuration and, when the peer's VLAN
// address is unknown, a warning for the log. OnAWSPaths is left to the
// caller.
func bgpConfig(o Options, role *Role, log *slog.Logger) (cfg bgp.Config, warning string) {
	site, self := role.Site, role.Self
	cfg = bgp.Config{
		RouterID:      role.VLANAddress.Addr(),
		ASN:           site.BGP.ASN,
		Advertise:     site.BGP.Advertise,
		BackupPrepend: site.BGP.BackupPrepend,
		VLANDevice:    site.VLAN.Interface,
		Logger:        log,
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
		// cannot read: without it in the configuration there is no iBGP.
		warning = "no iBGP: the configuration gives no vlan_address for " + peer.Name +
			", so this gateway cannot know it; add gateways[" + peer.Name + "].vlan_address to enable iBGP between the pair"
	default:
		cfg.IBGPPeer = peer.VLANAddress.Addr()
	}
	return cfg, warning
}

func vrrpConfig(role *Role, log *slog.Logger) vrrp.Config {
	site := role.Site
	return vrrp.Config{
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
}
