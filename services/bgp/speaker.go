package bgp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/server"
	"google.golang.org/protobuf/types/known/anypb"
)

// Speaker is one gateway's BGP speaker. Create it with New, serve it with
// Run; the other methods may be called from any goroutine, before or
// during Run.
type Speaker struct {
	cfg   Config
	log   *slog.Logger
	peers map[string]peer // by neighbour address
	// halves are the return-path more-specifics (HoldReturnPath);
	// noHalves the configured prefixes that get none.
	halves, noHalves []netip.Prefix
	// own and other are the halves an active-active speaker always
	// announces (share.go): the one it draws and its peer's.
	own, other []netip.Prefix

	mu   sync.Mutex
	st   policyState
	down map[string]bool // tunnels the IPsec service reported down
	hold bool            // HoldReturnPath
	// holdSince and goneSince are when HoldReturnPath(true) and
	// PeerGone(true) took effect; zero while off.
	holdSince, goneSince time.Time
	goneMsgs             uint64 // iBGP messages received at PeerGone(true)
	// learned is the iBGP peer's address given by SetIBGPPeer (the zero
	// Addr until then); learnedAdded is set once it is configured in
	// GoBGP, which waits while the peer's own session to us is up.
	learned      netip.Addr
	learnedAdded bool
	// ibgpWake asks Run to configure a learned peer that had to wait.
	ibgpWake chan struct{}
	// maxPrefix is each neighbour's max-prefix history, by address.
	maxPrefix map[string]maxPrefixState
	// rejected caches each neighbour's rejected-route counts (status.go).
	rejected map[string]rejectedCount
	bgp      *bounded
	k        *kernel
	started  bool
}

// peer is what the speaker knows about one configured neighbour.
type peer struct {
	Name   string
	Tunnel int // index in Config.Tunnels; -1 for the iBGP peer
	Dev    string
}

// New validates cfg and returns a Speaker ready to Run.
func New(cfg Config) (*Speaker, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Speaker{
		cfg:   cfg,
		log:   cfg.Logger,
		peers: make(map[string]peer),
		st:    policyState{Master: cfg.Master},
		down:  make(map[string]bool),
		// One token is enough: a wake-up looks at the current state.
		ibgpWake:  make(chan struct{}, 1),
		maxPrefix: make(map[string]maxPrefixState),
		rejected:  make(map[string]rejectedCount),
	}
	for i, t := range cfg.Tunnels {
		s.peers[t.Remote.String()] = peer{Name: t.Name, Tunnel: i, Dev: t.Device}
	}
	s.own, s.other = shareHalves(cfg.Advertise, cfg.Share)
	// The hold goes one bit longer than what the pair announces anyway:
	// halves, or with Share quarters.
	s.halves, s.noHalves = returnPathPrefixes(slices.Concat(cfg.Advertise, s.own, s.other))
	if len(s.noHalves) > 0 {
		s.log.Warn("bgp: some prefixes cannot be held with more-specifics on failover (a /32, or more than AWS's 100 prefixes in all)",
			"prefixes", s.noHalves)
	}
	if cfg.IBGPPeer.IsValid() {
		s.peers[cfg.IBGPPeer.String()] = peer{Name: "ibgp", Tunnel: -1, Dev: cfg.VLANDevice}
	}
	return s, nil
}

// Run serves BGP until ctx is done, then closes the sessions and removes
// the kernel routes it installed (see the package documentation for why).
// A Speaker runs once.
func (s *Speaker) Run(ctx context.Context) (err error) {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("bgp: speaker already ran")
	}
	s.started = true
	s.mu.Unlock()

	h, err := newRouteHandle()
	if err != nil {
		return fmt.Errorf("bgp: netlink: %w", err)
	}
	defer h.Close()
	w, err := newRouteWriter(s.cfg.RouteMetric)
	if err != nil {
		return fmt.Errorf("bgp: %w", err)
	}
	defer w.Close()
	k := newKernel(h, w, s.cfg.RouteMetric, s.log, s.cfg.OnAWSPaths)

	bs := server.NewBgpServer(server.LoggerOption(newGoBGPLogger(s.log)))
	serveErr := make(chan error, 1)
	go func() {
		// Serve never returns; only a GoBGP Fatal/Panic raised on this
		// goroutine ends it, and that we can turn into an error.
		defer func() {
			if r := recover(); r != nil {
				serveErr <- fmt.Errorf("bgp: gobgp server panicked: %v", r)
			}
		}()
		bs.Serve()
	}()

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Holding mu through start makes a concurrent SetMaster or TunnelDown
	// wait and then act on the running server, so none is lost.
	s.mu.Lock()
	if err := s.start(runCtx, bs, k); err != nil {
		s.mu.Unlock()
		bs.Stop()
		return err
	}
	s.bgp, s.k = &bounded{bs}, k
	s.mu.Unlock()

	grace := time.NewTimer(s.cfg.StartupGrace)
	defer grace.Stop()
	tick := time.NewTicker(s.cfg.ReconcileInterval)
	defer tick.Stop()
	// The iBGP neighbour is looked after (a learned one that had to wait
	// configured, an idle one renewed: tendIBGPPeer) at the pace of a
	// connect retry, besides when an iBGP session ends.
	retry := time.NewTicker(connectRetry)
	defer retry.Stop()
	reconcile := func() {
		added, removed, err := k.reconcile()
		if err != nil {
			s.log.Warn("kernel reconciliation incomplete", "err", err)
		}
		if added > 0 || removed > 0 {
			s.log.Info("kernel reconciled", "added", added, "removed", removed)
		}
	}
	started := false
	for {
		select {
		case <-ctx.Done():
			s.stop(bs, k)
			return nil
		case err := <-serveErr:
			s.stop(bs, k)
			return err
		case <-grace.C:
			started = true
			reconcile()
		case <-tick.C:
			if started {
				reconcile()
			}
		case <-retry.C:
			s.tendIBGPPeer(runCtx)
		case <-s.ibgpWake:
			s.tendIBGPPeer(runCtx)
		}
	}
}

// start configures a served BgpServer: global settings, the best-path
// watcher feeding the kernel, policies, our prefixes and the peers. The
// caller holds s.mu.
func (s *Speaker) start(ctx context.Context, bs *server.BgpServer, k *kernel) error {
	listen := make([]string, 0, len(s.cfg.ListenAddresses))
	for _, a := range s.cfg.ListenAddresses {
		listen = append(listen, a.String())
	}
	err := bs.StartBgp(ctx, &api.StartBgpRequest{Global: &api.Global{
		Asn:              s.cfg.ASN,
		RouterId:         s.cfg.RouterID.String(),
		ListenPort:       int32(s.cfg.Port),
		ListenAddresses:  listen,
		UseMultiplePaths: true,
	}})
	if err != nil {
		return fmt.Errorf("bgp: start: %w", err)
	}

	if err := s.watchBestPaths(ctx, bs, k); err != nil {
		return err
	}
	if err := s.watchPeers(ctx, bs); err != nil {
		return err
	}

	if err := bs.SetPolicies(ctx, policies(s.cfg, s.st)); err != nil {
		return fmt.Errorf("bgp: set policies: %w", err)
	}
	for _, a := range assignments() {
		if err := bs.AddPolicyAssignment(ctx, &api.AddPolicyAssignmentRequest{Assignment: a}); err != nil {
			return fmt.Errorf("bgp: assign policy: %w", err)
		}
	}

	for _, p := range slices.Concat(s.cfg.Advertise, s.own, s.other) {
		if _, err := bs.AddPath(ctx, &api.AddPathRequest{Path: localPath(p)}); err != nil {
			return fmt.Errorf("bgp: advertise %v: %w", p, err)
		}
	}
	if s.hold {
		if err := announceHalves(ctx, &bounded{bs}, s.halves, true); err != nil {
			return fmt.Errorf("bgp: return path more-specifics: %w", err)
		}
	}

	for _, t := range s.cfg.Tunnels {
		if err := bs.AddPeer(ctx, &api.AddPeerRequest{Peer: s.peerConf(t.Remote, t.RemoteASN, t.Local, t.Name, s.down[t.Name])}); err != nil {
			return fmt.Errorf("bgp: add tunnel %s peer %v: %w", t.Name, t.Remote, err)
		}
	}
	if s.cfg.IBGPPeer.IsValid() {
		if err := bs.AddPeer(ctx, &api.AddPeerRequest{Peer: s.peerConf(s.cfg.IBGPPeer, s.cfg.ASN, s.cfg.RouterID, "ibgp", false)}); err != nil {
			return fmt.Errorf("bgp: add iBGP peer %v: %w", s.cfg.IBGPPeer, err)
		}
	}
	if s.cfg.IBGPRange.IsValid() {
		if err := s.acceptRange(ctx, &bounded{bs}); err != nil {
			return err
		}
		s.addLearned(ctx, &bounded{bs})
	}
	return nil
}

// watchBestPaths sends every best-path change to the kernel. It is
// registered before any peer exists, so no change is missed.
//
// The changes go to the kernel from a goroutine of their own, so that the
// kernel's route insertion (most of a write's time, spent in sendto)
// overlaps with GoBGP's conversion of the next paths to their API form on
// the watcher's goroutine; the queue between them batches what
// accumulates meanwhile. One writer keeps the changes in order.
func (s *Speaker) watchBestPaths(ctx context.Context, bs *server.BgpServer, k *kernel) error {
	q := newUpdateQueue()
	go q.drain(ctx, k)
	dec := pathDecoder{peers: s.peers, ibgpRange: s.cfg.IBGPRange, ibgpDev: s.cfg.VLANDevice}
	err := bs.WatchEvent(ctx, &api.WatchEventRequest{Table: &api.WatchEventRequest_Table{
		Filters: []*api.WatchEventRequest_Table_Filter{{Type: api.WatchEventRequest_Table_Filter_BEST}},
	}}, func(r *api.WatchEventResponse) {
		if t := r.GetTable(); t != nil {
			if ups := dec.updates(t.Paths); len(ups) > 0 {
				q.push(ups)
			}
		}
	})
	if err != nil {
		return fmt.Errorf("bgp: watch best paths: %w", err)
	}
	return nil
}

// watchPeers logs every session's state changes, notices a max-prefix
// teardown, and wakes tendIBGPPeer when an iBGP session failed or ended:
// it may have been in the way of the learned peer, or left it idle.
func (s *Speaker) watchPeers(ctx context.Context, bs *server.BgpServer) error {
	// Used by the watcher's goroutine only.
	last := make(map[string]api.PeerState_SessionState)
	lastPfxCt := make(map[string]bool)
	err := bs.WatchEvent(ctx, &api.WatchEventRequest{Peer: &api.WatchEventRequest_Peer{}}, func(r *api.WatchEventResponse) {
		p := r.GetPeer()
		if p == nil || p.Type != api.WatchEventResponse_PeerEvent_STATE {
			return
		}
		addr := p.Peer.GetState().GetNeighborAddress()
		state := p.Peer.GetState().GetSessionState()
		s.log.Info("bgp peer state", "peer", s.peerName(addr), "address", addr,
			"state", sessionState(state))
		prev := last[addr]
		last[addr] = state
		pfxCt := p.Peer.GetState().GetAdminState() == api.PeerState_PFX_CT
		if pfxCt && !lastPfxCt[addr] {
			s.maxPrefixTripped(addr)
		}
		lastPfxCt[addr] = pfxCt
		if state == api.PeerState_IDLE && prev >= api.PeerState_OPENSENT && s.peerName(addr) == "ibgp" {
			select {
			case s.ibgpWake <- struct{}{}:
			default:
			}
		}
	})
	if err != nil {
		return fmt.Errorf("bgp: watch peers: %w", err)
	}
	return nil
}

func (s *Speaker) peerConf(remote netip.Addr, asn uint32, local netip.Addr, name string, adminDown bool) *api.Peer {
	p := &api.Peer{
		Conf: &api.PeerConf{
			NeighborAddress: remote.String(),
			PeerAsn:         asn,
			Description:     name,
			AdminDown:       adminDown,
		},
		Timers: &api.Timers{Config: &api.TimersConfig{
			HoldTime:          uint64(holdTime / time.Second),
			KeepaliveInterval: uint64(keepalive / time.Second),
			ConnectRetry:      uint64(connectRetry / time.Second),
			// After a ResetPeer, 1 s of idle hold rather than GoBGP's 5.
			IdleHoldTimeAfterReset: 1,
		}},
		Transport: &api.Transport{
			LocalAddress: local.String(),
			RemotePort:   uint32(s.cfg.Port),
		},
		AfiSafis: []*api.AfiSafi{{
			Config: &api.AfiSafiConfig{
				Family:  &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST},
				Enabled: true,
			},
			PrefixLimits: s.prefixLimit(),
		}},
	}
	if asn == s.cfg.ASN {
		p.TtlSecurity = s.ttlSecurity()
		p.Conf.AuthPassword = s.cfg.IBGPPassword
	}
	return p
}

// ttlSecurity is the iBGP session's GTSM setting (RFC 5082): the peer is
// one hop away on the VLAN, so with IBGPTTLSecurity both ends send with
// TTL 255 and the kernel drops the session's segments that arrive with
// less, which is what anything forwarded (from a VPC host through a
// gateway, say) does. FRR needs "neighbor X ttl-security hops 1" for it;
// the seed's FRR configuration sends with TTL 64, so a site with such a
// peer turns it off.
func (s *Speaker) ttlSecurity() *api.TtlSecurity {
	if !s.cfg.IBGPTTLSecurity {
		return nil
	}
	return &api.TtlSecurity{Enabled: true, TtlMin: 255}
}

func localPath(p netip.Prefix) *api.Path {
	nlri, _ := anypb.New(&api.IPAddressPrefix{Prefix: p.Addr().String(), PrefixLen: uint32(p.Bits())})
	origin, _ := anypb.New(&api.OriginAttribute{Origin: 0}) // IGP, as FRR's network statement
	nh, _ := anypb.New(&api.NextHopAttribute{NextHop: "0.0.0.0"})
	return &api.Path{
		Family: &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST},
		Nlri:   nlri,
		Pattrs: []*anypb.Any{origin, nh},
	}
}

// stop removes our kernel routes, then closes the sessions.
func (s *Speaker) stop(bs *server.BgpServer, k *kernel) {
	s.mu.Lock()
	s.bgp = nil
	s.mu.Unlock()
	n, err := k.removeAll()
	if err != nil {
		s.log.Warn("removing kernel routes on stop", "err", err)
	}
	bs.Stop()
	s.log.Info("bgp speaker stopped", "routes_removed", n)
}

// SetMaster tells the speaker the VRRP role. A backup prepends its AS
// toward AWS; the change is sent to AWS at once (soft reset out).
func (s *Speaker) SetMaster(master bool) { s.setRole(&s.st.Master, master, "bgp role") }

// TunnelDown tells the speaker that the IPsec tunnel name is down: its
// session is shut at once and its routes leave the RIB and the kernel,
// instead of waiting up to 30 s for the hold timer. The peer stays down
// until TunnelUp.
func (s *Speaker) TunnelDown(name string) { s.setTunnel(name, false) }

// TunnelUp lets the tunnel's session come up again.
func (s *Speaker) TunnelUp(name string) { s.setTunnel(name, true) }

func (s *Speaker) setTunnel(name string, up bool) {
	var t *Tunnel
	for i := range s.cfg.Tunnels {
		if s.cfg.Tunnels[i].Name == name {
			t = &s.cfg.Tunnels[i]
		}
	}
	if t == nil {
		s.log.Warn("bgp: event for an unknown tunnel", "tunnel", name, "up", up)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down[name] == !up {
		return
	}
	s.down[name] = !up
	s.log.Info("bgp tunnel", "tunnel", name, "up", up)
	if s.bgp == nil {
		return
	}
	ctx := context.Background()
	var err error
	if up {
		// A new neighbour rather than EnablePeer: GoBGP lets a
		// re-enabled neighbour out of Idle only after its idle hold (5 s
		// once its FSM has run) and then dials 1-2 s later (6.2 s in
		// TestSpeakerWithFRR); a neighbour just added has no idle hold.
		addr := t.Remote.String()
		if err = call(ctx, s.bgp, (*server.BgpServer).DeletePeer, &api.DeletePeerRequest{Address: addr}); err == nil {
			err = call(ctx, s.bgp, (*server.BgpServer).AddPeer, &api.AddPeerRequest{Peer: s.peerConf(t.Remote, t.RemoteASN, t.Local, t.Name, false)})
		}
	} else {
		err = call(ctx, s.bgp, (*server.BgpServer).DisablePeer, &api.DisablePeerRequest{Address: t.Remote.String(), Communication: "IPsec tunnel down"})
	}
	if err != nil {
		s.log.Error("bgp: tunnel event", "tunnel", name, "up", up, "err", err)
	}
}
