package bgp

import (
	"context"
	"net/netip"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/server"
)

// Active-active facing a virtual private gateway (Config.Share). A virtual
// private gateway sends each prefix on one preferred path, so two gateways
// announcing the same /24 can only split the return traffic by prefix.
// Each gateway therefore announces, besides the configured prefixes, both
// halves of each one: its own half (Share 1 the lower, 2 the upper) as a
// master announces (with the tunnel's MED, prepended only while it is not
// the VRRP master of its own virtual IP), the other half prepended
// BackupPrepend times unless it is also the master of the peer's virtual
// IP (SetPeerVIP: the peer handed it over, or died). AWS routes by
// longest prefix, so the halves carry all the return traffic, each to its
// gateway, and the /24s matter only when the halves are gone.
//
// On failover the survivor holds the return path one bit longer still:
// HoldReturnPath announces the quarters (returnPathPrefixes over the
// configured prefixes and the halves), which beat the dead gateway's stale
// half. The halves, like the hold's more-specifics, go to AWS only, never
// to the iBGP peer nor into the kernel.

// shareHalves returns the halves of each advertised prefix this gateway
// draws (own) and those its peer draws (other), for share 1 or 2. A half
// that is itself configured is announced as configured and skipped here;
// a /32 has no halves.
func shareHalves(advertise []netip.Prefix, share int) (own, other []netip.Prefix) {
	if share == 0 {
		return nil, nil
	}
	configured := make(map[netip.Prefix]bool, len(advertise))
	for _, p := range advertise {
		configured[p] = true
	}
	seen := make(map[netip.Prefix]bool)
	for _, p := range advertise {
		if p.Bits() >= p.Addr().BitLen() {
			continue
		}
		lo, hi := split(p)
		mine, theirs := lo, hi
		if share == 2 {
			mine, theirs = hi, lo
		}
		if !configured[mine] && !seen[mine] {
			seen[mine] = true
			own = append(own, mine)
		}
		if !configured[theirs] && !seen[theirs] {
			seen[theirs] = true
			other = append(other, theirs)
		}
	}
	return own, other
}

// SetPeerVIP tells an active-active speaker (Config.Share) whether this
// gateway is the VRRP master of the peer's virtual IP too. While it is,
// the peer's half is announced unprepended. Without Share it does nothing.
// The change is sent to AWS at once (soft reset out).
func (s *Speaker) SetPeerVIP(master bool) {
	if s.cfg.Share == 0 {
		return
	}
	s.setRole(&s.st.PeerVIP, master, "bgp role of the peer's virtual IP")
}

// setRole sets one of the VRRP roles the export depends on (role points
// into s.st) and, when it changed, sends the new export to AWS. With ECMP
// nothing is prepended, so the export does not change.
func (s *Speaker) setRole(role *bool, master bool, what string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if *role == master {
		return
	}
	*role = master
	s.log.Info(what, "master", master)
	if !s.cfg.ECMP {
		s.applyExport()
	}
}

// applyExport installs the policies for the current state and sends what
// changed to AWS (soft reset out). s.mu is held.
func (s *Speaker) applyExport() {
	if s.bgp == nil {
		return // applied by Run
	}
	ctx := context.Background()
	if err := call(ctx, s.bgp, (*server.BgpServer).SetPolicies, policies(s.cfg, s.st)); err != nil {
		s.log.Error("bgp: updating the export policy failed", "err", err)
		return
	}
	for _, t := range s.cfg.Tunnels {
		err := call(ctx, s.bgp, (*server.BgpServer).ResetPeer, &api.ResetPeerRequest{
			Address: t.Remote.String(), Soft: true, Direction: api.ResetPeerRequest_OUT,
		})
		if err != nil {
			s.log.Debug("soft reset out", "tunnel", t.Name, "err", err)
		}
	}
}

// Halves returns what an active-active speaker (Share) announces besides
// the configured prefixes: the halves it draws and its peer's; both nil
// without Share. (tidegate render prints them.)
func (c Config) Halves() (own, other []netip.Prefix) { return shareHalves(c.Advertise, c.Share) }
