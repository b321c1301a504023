package bgp

import (
	"context"
	"time"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/server"
)

// Max-prefix: how many prefixes one neighbour may send.
//
// A neighbour that sends more than Config.MaxPrefixes prefixes (counted in
// its Adj-RIB-In, before the import filter, so rejected floods count too)
// gets a Cease NOTIFICATION (subcode 1, "maximum number of prefixes
// reached"; GoBGP's prefix limit) and its session is torn down, which
// frees what it sent. GoBGP then keeps the neighbour down for good; the
// speaker re-enables it after a back-off instead, so a flood that was a
// mistake at AWS (a route table briefly propagating too much) does not
// need a reboot to recover from:
//
//   - the first retry comes MaxPrefixBackoff (30 s) after the teardown;
//     each further teardown within maxPrefixMemory of the previous one
//     doubles the wait, up to maxPrefixBackoffCap (10 min);
//   - a tunnel reported down in the meantime stays down (TunnelUp enables
//     it as usual).
//
// An iBGP peer in the range (Config.IBGPRange) is a dynamic neighbour:
// GoBGP forgets it when its session ends, so it is the peer's own
// reconnection, not a back-off here, that paces the retries.
//
// What a flood costs: each prefix held costs the speaker about 1.3 KiB
// (100k prefixes: 134 MiB RSS in the BGP benchmark), so the default limit
// bounds one neighbour's share to about 16 MiB, and the four tunnels' and
// the peer's together stay under the gateway's 128 MiB memory limit.

// DefaultMaxPrefixes is the default Config.MaxPrefixes: above the 10,000
// routes AWS allows in all of a transit gateway's route tables together
// (its default quota), so a large transit gateway route table fits, and
// small enough that a flood costs a few MiB.
const DefaultMaxPrefixes = 12000

const (
	defaultMaxPrefixBackoff = 30 * time.Second
	maxPrefixBackoffCap     = 10 * time.Minute
	// maxPrefixMemory is how long a teardown counts toward the next
	// back-off.
	maxPrefixMemory = 30 * time.Minute
)

// maxPrefixState is one neighbour's max-prefix history.
type maxPrefixState struct {
	Trips   uint64    // teardowns since the speaker started
	Last    time.Time // the last teardown
	Backoff time.Duration
	RetryAt time.Time // when the neighbour is enabled again; zero once it is
}

// prefixLimit is the AFI/SAFI's prefix limit for the configuration.
func (s *Speaker) prefixLimit() *api.PrefixLimit {
	return &api.PrefixLimit{
		Family:      &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST},
		MaxPrefixes: uint32(s.cfg.MaxPrefixes),
		// A warning in the log at 80% of the limit.
		ShutdownThresholdPct: 80,
	}
}

// maxPrefixTripped is called by the peer watcher when GoBGP has shut the
// neighbour at addr for going over the limit.
func (s *Speaker) maxPrefixTripped(addr string) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	mp := s.maxPrefix[addr]
	switch {
	case mp.Trips == 0 || now.Sub(mp.Last) > maxPrefixMemory:
		mp.Backoff = s.cfg.MaxPrefixBackoff
	default:
		mp.Backoff = min(2*mp.Backoff, maxPrefixBackoffCap)
	}
	mp.Trips++
	mp.Last = now
	mp.RetryAt = now.Add(mp.Backoff)
	s.maxPrefix[addr] = mp
	s.log.Error("bgp: neighbour sent more prefixes than allowed; session torn down",
		"peer", s.peerName(addr), "address", addr, "max_prefixes", s.cfg.MaxPrefixes,
		"retry_in", mp.Backoff, "teardowns", mp.Trips)
	time.AfterFunc(mp.Backoff, func() { s.maxPrefixRetry(addr, mp.Trips) })
}

// maxPrefixRetry enables the neighbour at addr again, unless it tripped
// again since (trips differs) or its tunnel is down.
func (s *Speaker) maxPrefixRetry(addr string, trips uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mp := s.maxPrefix[addr]
	if mp.Trips != trips || s.bgp == nil {
		return
	}
	mp.RetryAt = time.Time{}
	s.maxPrefix[addr] = mp
	if p, ok := s.peers[addr]; ok && p.Tunnel >= 0 && s.down[p.Name] {
		s.log.Info("bgp: max-prefix back-off over; the tunnel is down, so the session waits for it", "peer", p.Name)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	if err := call(ctx, s.bgp, (*server.BgpServer).EnablePeer, &api.EnablePeerRequest{Address: addr}); err != nil {
		s.log.Warn("bgp: re-enabling a neighbour after max-prefix", "address", addr, "err", err)
		return
	}
	s.log.Info("bgp: max-prefix back-off over; session allowed again", "peer", s.peerName(addr), "address", addr)
}
