package vrrp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
)

// Router is one VRRP virtual router on one interface. Its methods are safe
// for concurrent use; Run does the work.
type Router struct {
	cfg    Config
	log    *slog.Logger
	tmpl   advert
	events chan StateChange
	wake   chan struct{}

	mu         sync.Mutex
	m          *machine
	l          *link // nil unless Run is running
	running    bool
	tracks     map[string]int
	ipID       uint16
	garpAgain  time.Time
	resignDone chan struct{}
	gate       gate // the receive checks and the pinned peer
	st         Status
}

// Status is a snapshot of a Router for the status API. It never contains
// the authentication password.
type Status struct {
	VRID                 uint8
	State                State
	Resigning            bool  // a planned handover is under way
	Priority             uint8 // configured
	EffectivePriority    uint8 // configured + track weights, clamped
	Tracks               map[string]int
	MasterAddr           netip.Addr // the current master as far as we know: ourselves or Peer, never a stranger
	MasterPriority       uint8
	Peer                 netip.Addr    // the pair's other router, the only source accepted for our VRID; invalid until learned
	PeerLearned          bool          // Peer was learned from its first advert that passed every check (Config.Peer unset)
	PrimaryAddr          netip.Addr    // our advert source
	AdvertInterval       time.Duration // ours
	MasterAdvertInterval time.Duration // learned from the master's adverts (v3)
	VirtualIPs           []netip.Prefix
	Transitions          uint64
	LastChange           StateChange
	AdvertsSent          uint64
	AdvertsReceived      uint64
	SendErrors           uint64
	ReceiveErrors        uint64
	Drops                map[DropReason]uint64
}

// resign bounds: how long a resigning master waits for the new master's
// first advert, and how long it keeps the addresses after hearing it.
func resignTimeout(interval time.Duration) time.Duration { return 3*interval + time.Second }

const resignGrace = 100 * time.Millisecond

// New validates cfg and returns a Router that does nothing until Run.
func New(cfg Config) (*Router, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	r := &Router{
		cfg:    cfg,
		log:    cfg.Logger.With("vrid", cfg.VRID, "interface", cfg.Interface),
		gate:   cfg.gate(),
		tmpl:   cfg.advertTemplate(),
		events: make(chan StateChange, 32),
		wake:   make(chan struct{}, 1),
		tracks: map[string]int{},
		st:     Status{Drops: map[DropReason]uint64{}},
	}
	r.m = newMachine(machineConfig{
		Version:       cfg.Version,
		Interval:      cfg.AdvertInterval,
		Preempt:       cfg.Preempt,
		PreemptDelay:  cfg.PreemptDelay,
		ResignTimeout: resignTimeout(cfg.AdvertInterval),
		ResignGrace:   resignGrace,
	}, cfg.Priority, r)
	return r, nil
}

// Events delivers every state change. The channel is buffered; if the
// reader falls behind, the oldest undelivered change is dropped, so the
// newest is always there. It is never closed.
func (r *Router) Events() <-chan StateChange { return r.events }

// Run runs the router until ctx is done. Cancelling ctx is crash-like: no
// priority 0 is sent (the peer takes over when its Master_Down_Timer fires),
// but the virtual addresses are removed. Call Resign first for a planned
// handover.
func (r *Router) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.running {
		r.mu.Unlock()
		return errors.New("vrrp: Run called twice")
	}
	r.running = true
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.running = false
		r.mu.Unlock()
	}()

	l, err := openLink(&r.cfg)
	if err != nil {
		return err
	}
	if l.primary == r.cfg.Peer {
		l.close()
		return fmt.Errorf("vrrp: the configured peer %v is this router's own address on %s", r.cfg.Peer, r.cfg.Interface)
	}
	// A previous run that crashed may have left the addresses behind.
	if err := l.delVIPs(); err != nil {
		r.log.Warn("vrrp: removing stale virtual addresses", "err", err)
	}

	r.mu.Lock()
	r.l = l
	r.m.cfg.Primary = l.primary
	r.gate.self = l.primary
	r.st.PrimaryAddr = l.primary
	peer := "learned from its first advert"
	if r.gate.peer.IsValid() {
		peer = r.gate.peer.String()
	}
	r.log.Info("vrrp: starting", "config", r.cfg, "primary", l.primary, "send_interface", l.vif.Name, "peer", peer)
	r.m.startup(time.Now())
	r.mu.Unlock()

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.readLoop(l)
	}()

	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
loop:
	for {
		r.mu.Lock()
		now := time.Now()
		r.m.tick(now)
		r.tickGARP(now)
		r.afterMachine()
		next := r.m.next()
		if !r.garpAgain.IsZero() && (next.IsZero() || r.garpAgain.Before(next)) {
			next = r.garpAgain
		}
		r.mu.Unlock()

		wait := time.Hour
		if !next.IsZero() {
			wait = max(time.Until(next), 0)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			break loop
		case <-timer.C:
		case <-r.wake:
		}
	}

	r.mu.Lock()
	if !r.m.resigned {
		r.m.stop(time.Now())
	}
	r.garpAgain = time.Time{}
	r.afterMachine()
	if r.resignDone != nil {
		close(r.resignDone)
		r.resignDone = nil
	}
	r.l = nil
	r.mu.Unlock()
	l.close()
	wg.Wait()
	return nil
}

// readLoop feeds received packets to the machine until l is closed.
func (r *Router) readLoop(l *link) {
	buf := make([]byte, 2048)
	for {
		n, err := l.vrrp.read(buf)
		if err != nil {
			// After close the socket reports EBADF or ErrClosed,
			// depending on where the read was.
			if l.closed.Load() || errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrClosed) {
				return
			}
			// The socket reports ENETDOWN once when the link goes down, and
			// errors while the interface is away; none of that may stop the
			// router. The state machine carries on: a backup whose link is
			// down times out and becomes master, and meets the real master
			// again when the link is back (as in a healed split brain).
			r.mu.Lock()
			r.st.ReceiveErrors++
			r.mu.Unlock()
			r.log.Warn("vrrp: receive error", "err", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		r.handle(time.Now(), buf[:n])
		r.poke()
	}
}

// handle checks one received datagram and feeds it to the machine if it
// passes: decodeDatagram (wire format), then the gate (our own adverts,
// source, the RFC checks, the pair's peer).
func (r *Router) handle(now time.Time, b []byte) {
	d, err := decodeDatagram(b)
	if err == nil && r.cfg.Sibling != 0 && d.Advert.VRID == r.cfg.Sibling {
		return // the sibling router checks and counts its own adverts
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		var pinned bool
		if pinned, err = r.gate.admit(now, d); pinned {
			r.log.Info("vrrp: peer learned from its advert; adverts for this VRID from any other source are now dropped", "peer", d.Src)
		}
	}
	switch {
	case errors.Is(err, errSelf):
		// Our own advert, reflected by the LAN: not a peer.
	case err != nil:
		r.countDrop(err)
	default:
		r.st.AdvertsReceived++
		r.m.receive(now, d.Advert, d.Src)
		r.afterMachine()
	}
}

func (r *Router) countDrop(err error) {
	var de *dropError
	if !errors.As(err, &de) {
		r.st.Drops["other"]++
		return
	}
	r.st.Drops[de.reason]++
	n := r.st.Drops[de.reason]
	// A stranger speaking for the VRID is worth a warning (a rogue, a
	// second pair with the same VRID, or the twin rebuilt with a new
	// address); at 1, 2, 4, 8... so that a flood cannot fill the log.
	if (de.reason == DropSource || de.reason == DropPeer) && n&(n-1) == 0 {
		r.log.Warn("vrrp: advert from outside the pair dropped", "reason", de.reason, "detail", de.detail, "count", n)
		return
	}
	r.log.Debug("vrrp: dropped packet", "reason", de.reason, "detail", de.detail)
}

func (r *Router) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// afterMachine completes a pending Resign once the machine says so. Called
// with r.mu held after every machine input.
func (r *Router) afterMachine() {
	if r.m.resigned && r.resignDone != nil {
		close(r.resignDone)
		r.resignDone = nil
	}
}

// Resign hands mastership over without a gap: the master advertises
// priority 0 so that the backup takes over after its Skew_Time, keeps the
// virtual addresses (and so keeps forwarding) until it hears the new
// master's first advert, or for at most 3 intervals + 1 s, and then
// releases them. A backup just stops. The router then stays silent until
// Run returns. Resign returns when the handover is complete or ctx is done.
func (r *Router) Resign(ctx context.Context) error {
	r.mu.Lock()
	if !r.running || r.l == nil {
		r.mu.Unlock()
		return errors.New("vrrp: resign: router is not running")
	}
	if r.resignDone == nil {
		r.resignDone = make(chan struct{})
	}
	done := r.resignDone
	r.log.Info("vrrp: resigning", "state", r.m.state)
	r.m.resign(time.Now())
	r.afterMachine()
	r.mu.Unlock()
	r.poke()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("vrrp: resign: %w", ctx.Err())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.m.resigned {
		return errors.New("vrrp: resign: router stopped before the handover completed")
	}
	return nil
}

// SetTrack sets the weight of one tracked condition (like keepalived's
// track_script weight): the effective priority is the configured one plus
// the sum of all weights, clamped to 1..254. An address owner (255) is not
// affected. Weight 0 removes the track.
func (r *Router) SetTrack(name string, weight int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if weight == 0 {
		delete(r.tracks, name)
	} else {
		r.tracks[name] = weight
	}
	p := r.effectivePriority()
	if p != r.m.prio {
		r.log.Info("vrrp: effective priority changed", "track", name, "weight", weight, "priority", p)
	}
	r.m.setPriority(time.Now(), p)
	r.afterMachine()
	r.poke()
}

func (r *Router) effectivePriority() uint8 {
	if r.cfg.Priority == 255 {
		return 255
	}
	p := int(r.cfg.Priority)
	for _, w := range r.tracks {
		p += w
	}
	return uint8(min(max(p, 1), 254))
}

// Status returns a snapshot.
func (r *Router) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.st
	s.VRID = r.cfg.VRID
	s.State = r.m.state
	s.Resigning = r.m.resigning
	s.Priority = r.cfg.Priority
	s.EffectivePriority = r.m.prio
	s.Tracks = maps.Clone(r.tracks)
	s.MasterAddr, s.MasterPriority = r.m.masterAddr, r.m.masterPrio
	s.AdvertInterval = r.cfg.AdvertInterval
	s.MasterAdvertInterval = r.m.masterInterval
	s.Peer, s.PeerLearned = r.gate.peer, r.gate.learned
	s.VirtualIPs = append([]netip.Prefix(nil), r.cfg.VirtualIPs...)
	s.Drops = maps.Clone(r.st.Drops)
	return s
}

// The effects of the state machine, run with r.mu held.

func (r *Router) send(prio uint8) {
	if r.l == nil {
		return
	}
	a := r.tmpl
	a.Priority = prio
	r.ipID++
	b, err := encodeAdvert(&a, r.l.primary, r.ipID)
	if err == nil {
		err = r.l.sendAdvert(b)
	}
	if err != nil {
		r.st.SendErrors++
		r.log.Warn("vrrp: sending advert", "err", err)
		return
	}
	r.st.AdvertsSent++
}

func (r *Router) takeover() {
	if r.l == nil {
		return
	}
	if err := r.l.addVIPs(); err != nil {
		r.log.Error("vrrp: taking virtual addresses", "err", err)
	}
	r.garpBurst()
	if r.cfg.GARPDelay > 0 {
		r.garpAgain = time.Now().Add(r.cfg.GARPDelay)
	}
}

func (r *Router) garpBurst() {
	for range r.cfg.GARPRepeat {
		if err := r.l.garp(); err != nil {
			r.log.Warn("vrrp: gratuitous ARP", "err", err)
			return
		}
	}
}

// tickGARP sends the second burst of gratuitous ARPs, GARPDelay after
// becoming master, for hosts that missed the first.
func (r *Router) tickGARP(now time.Time) {
	if r.garpAgain.IsZero() || now.Before(r.garpAgain) {
		return
	}
	r.garpAgain = time.Time{}
	if r.l != nil && r.m.state == StateMaster && !r.m.resigning {
		r.garpBurst()
	}
}

func (r *Router) release() {
	r.garpAgain = time.Time{}
	if r.l == nil {
		return
	}
	if err := r.l.delVIPs(); err != nil {
		r.log.Error("vrrp: releasing virtual addresses", "err", err)
	}
}

func (r *Router) changed(sc StateChange) {
	r.st.Transitions++
	r.st.LastChange = sc
	attrs := []any{"from", sc.From, "to", sc.State, "reason", sc.Reason, "priority", r.m.prio}
	if sc.Peer.IsValid() {
		attrs = append(attrs, "peer", sc.Peer)
	}
	r.log.Info("vrrp: state change", attrs...)
	select {
	case r.events <- sc:
	default:
		// Full: drop the oldest so the newest is always delivered.
		select {
		case <-r.events:
		default:
		}
		select {
		case r.events <- sc:
		default:
		}
	}
}
