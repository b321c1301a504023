package gateway

import (
	"context"
	"time"

	"github.com/tidegate/tidegate/services/firewall"
	"github.com/tidegate/tidegate/services/ipsec"
	"github.com/tidegate/tidegate/services/status"
)

// The packet filter (package firewall) on the appliance (Options.Firewall).
//
// It goes in twice, each time before what it protects: at boot, before
// DHCP, a table that lets in only DHCP, ICMP and the gateway's own
// connections; once the role is known, the full table, before the status
// API opens its TCP listeners and before any service starts. Either one
// that cannot be installed stops the gateway where it is (fail closed):
// it says why on the console and in /status (phase failed, the error) and
// tries again every firewallRetry, without a tunnel, a BGP session or a
// TCP listener meanwhile.

// firewallRetry is how often an install that failed is tried again.
var firewallRetry = 10 * time.Second

// installFirewall installs cfg, retrying until it succeeds or ctx ends.
func (g *Gateway) installFirewall(ctx context.Context, cfg firewall.Config, what string) error {
	failed := false
	for {
		err := g.installFW(cfg)
		if err == nil {
			if failed {
				g.mu.Lock()
				g.phase, g.err = PhaseConfiguring, ""
				g.mu.Unlock()
			}
			g.log.Info("firewall installed", "table", what)
			return nil
		}
		failed = true
		g.mu.Lock()
		g.phase, g.err = PhaseFailed, err.Error()+" (no tunnel, BGP or TCP listener until it is installed; retrying)"
		g.mu.Unlock()
		g.log.Error("firewall not installed: the gateway goes no further", "table", what, "err", err, "retry_in", firewallRetry)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(firewallRetry):
		}
	}
}

// bootFirewall is the table before the role is known: nothing is served
// yet, so nothing but DHCP, ICMP and replies gets in.
func bootFirewall(o Options) firewall.Config {
	// The VLAN interface's name is the configuration's, which is not
	// known yet: eth1 is where Linode puts a profile's second interface.
	return firewall.Config{Uplink: o.PublicInterface, VLAN: "eth1"}
}

// firewallConfig is the full table for role r: what each neighbour may
// reach (see package firewall).
func firewallConfig(o Options, r *Role) firewall.Config {
	site := r.Site
	cfg := firewall.Config{
		Uplink:     o.PublicInterface,
		VLAN:       site.VLAN.Interface,
		VLANPrefix: site.VLAN.Prefix.Masked(),
		StatusPort: status.Port,
		Management: site.Status.Allow,
	}
	// BGP on the VLAN from the peer's configured address; without one,
	// from the VLAN (the peer is learned, see bgp.Config.IBGPRange).
	if peer, err := site.Peer(r.Self.Name); err == nil && peer.VLANAddress.IsValid() {
		cfg.Peer = peer.VLANAddress.Addr()
	}
	for _, t := range r.Self.Tunnels {
		dev, _ := ipsec.InterfaceFor(t)
		cfg.Tunnels = append(cfg.Tunnels, firewall.Tunnel{Device: dev, Remote: t.RemoteInside(), MSS: uint16(t.MSS())})
	}
	return cfg
}
