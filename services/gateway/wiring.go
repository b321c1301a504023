package gateway

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/tidegate/tidegate/configs"
	"github.com/tidegate/tidegate/services/ipsec"
	"github.com/tidegate/tidegate/services/status"
	"github.com/tidegate/tidegate/services/vrrp"
)

// The services talk through the gateway, never to each other: which event
// goes where is the package documentation's "Services and their events"
// (doc.go). One goroutine (wiring.run) carries all of them, so the
// services' callbacks and channels are never blocked by another service
// and the order of events is kept.

// TrackAWS is the name of the VRRP track the gateway sets while it has no
// working path to AWS.
const TrackAWS = "aws"

// minAWSWeight is the least penalty of the AWS track: with the seed's
// priorities (100 and 99) a master without a path to AWS drops to 90, below
// its peer.
const minAWSWeight = 10

// awsWeight is the (negative) weight of the AWS track for a gateway of site:
// enough to put the gateway with the higher priority below the other one,
// and at least minAWSWeight. Both gateways use the same weight, so when
// neither has a path the usual master stays master. (Priorities are clamped
// to 1..254 after the weight, so a peer at priority 1 cannot be undercut.)
func awsWeight(site *configs.Site) int {
	lo, hi := priorities(site)
	return -max(minAWSWeight, int(hi)-int(lo)+1)
}

// priorities returns the lowest and the highest VRRP priority of the
// site's gateways.
func priorities(site *configs.Site) (lo, hi uint8) {
	lo = 255
	for _, g := range site.Gateways {
		lo, hi = min(lo, g.Priority), max(hi, g.Priority)
	}
	return lo, hi
}

// health is this gateway's view of its own path to AWS. It is healthy while
// BGP has at least one best path from AWS over its own tunnels. The tunnel
// events count too, because they arrive before BGP has withdrawn anything:
// once a tunnel has been up, all tunnels down means unhealthy. A tunnel that
// was never up does not count (a host without ESP, or the seconds after a
// boot, when BGP's zero paths already say it all).
type health struct {
	tunnels  map[string]bool // up, by tunnel name
	everUp   bool
	awsPaths int
}

func (h *health) tunnelsUp() int {
	n := 0
	for _, up := range h.tunnels {
		if up {
			n++
		}
	}
	return n
}

func (h *health) healthy() bool {
	if h.everUp && h.tunnelsUp() == 0 {
		return false
	}
	return h.awsPaths > 0
}

// What the wiring drives, as interfaces so that it is tested with fakes.
type (
	bgpControl interface {
		SetMaster(master bool)
		SetPeerVIP(master bool)
		TunnelUp(name string)
		TunnelDown(name string)
	}
	vrrpControl interface {
		SetTrack(name string, weight int)
	}
)

// wiring carries the events between the services and keeps the health.
type wiring struct {
	log *slog.Logger
	// beat tells PID 1 the loop is alive (Options.Lifeline); nil: nobody.
	beat func()
	// mark records a step of the boot timeline (timeline.go); nil: none.
	mark   func(string)
	weight int // of TrackAWS while unhealthy (negative)
	bgp    bgpControl
	// vrrp are the routers the AWS track applies to: the one virtual
	// IP's, or in active-active both (a gateway without a path to AWS
	// gives up its own and never takes the peer's).
	vrrp []vrrpControl
	// activeActive: the second router's events (the peer's virtual IP)
	// drive the failover and bgp.SetPeerVIP; the first's only SetMaster.
	activeActive bool

	// awsPaths is written by bgp's callback (which must not block) and read
	// by run; awsWake says it changed.
	awsMu    sync.Mutex
	awsPaths int
	awsWake  chan struct{}

	// fo holds the return path after a silent peer (failover.go); nil
	// until the services are wired.
	fo *failover
	// learn finds the iBGP peer's address from VRRP (ibgp.go); nil when
	// the configuration gives it.
	learn *peerLearner

	mu       sync.Mutex // guards h and applied, for Status
	h        health
	applied  int  // the weight last given to vrrp
	trackSet bool // applied has been given
	master   bool // the last VRRP role given to bgp
	peerVIP  bool // the last role of the peer's virtual IP given to bgp
}

func newWiring(tunnels []configs.Tunnel, weight int, log *slog.Logger) *wiring {
	w := &wiring{log: log, weight: weight, awsWake: make(chan struct{}, 1), h: health{tunnels: map[string]bool{}}}
	for _, t := range tunnels {
		w.h.tunnels[t.Name] = false
	}
	return w
}

// onAWSPaths is bgp.Config.OnAWSPaths: it records n and returns at once.
func (w *wiring) onAWSPaths(n int) {
	w.awsMu.Lock()
	w.awsPaths = n
	w.awsMu.Unlock()
	select {
	case w.awsWake <- struct{}{}:
	default:
	}
}

// The wiring's tick beats for PID 1's watchdog (5 s), polls VRRP for the
// iBGP peer's address and, after a takeover, looks for VLAN traffic and asks
// BGP whether the peer is back. Only two of those want to be quick: the
// evidence of VLAN traffic (a counter read), which ends a takeover's
// prepending, and the first iBGP peer address. Otherwise a tick a second
// does, and an idle gateway (and PID 1, woken by each beat) sleeps ten
// times longer between wake-ups.
const (
	tickWatching = 100 * time.Millisecond
	tickIdle     = time.Second
)

// tickPeriod is the tick the wiring wants now; it runs on the wiring's
// goroutine, as fo's and learn's methods do.
func (w *wiring) tickPeriod() time.Duration {
	if (w.fo != nil && w.fo.pending) || (w.learn != nil && !w.learn.learned.IsValid()) {
		return tickWatching
	}
	return tickIdle
}

// start applies the initial health (no AWS path yet) before the services
// run, so that a gateway that boots does not take the virtual IP from a
// healthy peer before it has a path to AWS itself.
func (w *wiring) start() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.track()
}

// run carries events until ctx ends. tunnels may be closed (ipsec's channel
// closes when the service stops); vrrpEvents never is. peerEvents are the
// peer's virtual IP's router's in active-active, nil otherwise.
func (w *wiring) run(ctx context.Context, tunnels <-chan ipsec.TunnelEvent, vrrpEvents, peerEvents <-chan vrrp.StateChange) {
	period := w.tickPeriod()
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		if p := w.tickPeriod(); p != period {
			period = p
			tick.Reset(p)
		}
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			// The beat comes from this loop itself: a loop stuck on a
			// call that never returns stops beating, and PID 1 restarts
			// the gateway (package lifeline).
			if w.beat != nil {
				w.beat()
			}
			if w.learn != nil {
				w.learn.tick(now)
			}
			if w.fo != nil {
				msg, evidence := w.fo.check(now)
				if msg != "" {
					w.log.Info(msg)
				}
				if evidence {
					// What the failover held back: the role of the
					// virtual IP it took over.
					if w.activeActive {
						w.bgp.SetPeerVIP(true)
					} else {
						w.bgp.SetMaster(true)
					}
				}
			}
		case ev, ok := <-tunnels:
			if !ok {
				tunnels = nil
				continue
			}
			w.tunnelEvent(ev)
		case sc := <-vrrpEvents:
			w.vrrpEvent(sc)
		case sc := <-peerEvents:
			w.peerVIPEvent(sc)
		case <-w.awsWake:
			w.awsMu.Lock()
			n := w.awsPaths
			w.awsMu.Unlock()
			w.mu.Lock()
			if n != w.h.awsPaths {
				// A route table arriving moves the count thousands of
				// times: only none <-> some, which moves the health, is
				// worth a console line.
				level := slog.LevelDebug
				if (n == 0) != (w.h.awsPaths == 0) {
					level = slog.LevelInfo
				}
				w.log.Log(context.Background(), level, "AWS paths", "paths", n)
				if n > 0 {
					w.marked("aws paths")
				}
				w.h.awsPaths = n
				w.track()
			}
			w.mu.Unlock()
		}
	}
}

func (w *wiring) tunnelEvent(ev ipsec.TunnelEvent) {
	w.log.Info("tunnel event", "tunnel", ev.Tunnel, "up", ev.Up, "reason", ev.Reason)
	if ev.Up {
		w.marked("tunnel")
	}
	// BGP first: a tunnel that went down takes its session and routes with
	// it now rather than after the 30 s hold time.
	if ev.Up {
		w.bgp.TunnelUp(ev.Tunnel)
	} else {
		w.bgp.TunnelDown(ev.Tunnel)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.h.tunnels[ev.Tunnel]; !ok {
		return // not ours (a tunnel removed by an update)
	}
	w.h.tunnels[ev.Tunnel] = ev.Up
	w.h.everUp = w.h.everUp || ev.Up
	w.track()
}

func (w *wiring) vrrpEvent(sc vrrp.StateChange) {
	master, changed := w.role(sc, "vrrp role", &w.master)
	if sc.State == vrrp.StateMaster || sc.State == vrrp.StateBackup {
		w.marked("vrrp " + sc.State.String())
	}
	if w.activeActive {
		// Our own virtual IP: we are its master unless our path to AWS
		// failed (the peer took it) or we just booted; it is the peer's
		// virtual IP whose takeover is a failover.
		if changed {
			w.bgp.SetMaster(master)
		}
		return
	}
	if changed && !w.deferred(master, sc) {
		w.bgp.SetMaster(master)
	}
	w.learnAndFailover(sc)
}

// peerVIPEvent is vrrpEvent for the peer's virtual IP (active-active):
// the peer's half of the return path follows it, and taking it over by
// the master-down timer is the failover.
func (w *wiring) peerVIPEvent(sc vrrp.StateChange) {
	master, changed := w.role(sc, "vrrp role of the peer's virtual IP", &w.peerVIP)
	if changed && !w.deferred(master, sc) {
		w.bgp.SetPeerVIP(master)
	}
	w.learnAndFailover(sc)
}

// role logs a transition of one of the VRRP routers and records its role
// in last; changed says whether master/backup changed.
func (w *wiring) role(sc vrrp.StateChange, msg string, last *bool) (master, changed bool) {
	master = sc.State == vrrp.StateMaster
	w.log.Info(msg, "state", sc.State, "from", sc.From, "reason", sc.Reason, "peer", sc.Peer)
	w.mu.Lock()
	changed = master != *last
	*last = master
	w.mu.Unlock()
	return master, changed
}

// deferred says a new master keeps its BGP role back: a master by the
// master-down timer keeps prepending toward AWS until the VLAN shows
// traffic (failover.go), since if it is the side cut off from the VLAN,
// AWS must keep returning traffic to the other gateway.
func (w *wiring) deferred(master bool, sc vrrp.StateChange) bool {
	return master && sc.Reason == vrrp.ReasonMasterDown && w.fo != nil
}

// marked records a step of the boot timeline, if there is one.
func (w *wiring) marked(step string) {
	if w.mark != nil {
		w.mark(step)
	}
}

// learnAndFailover hands a transition of the router that hears the peer
// to the iBGP peer learner and the failover.
func (w *wiring) learnAndFailover(sc vrrp.StateChange) {
	if w.learn != nil {
		w.learn.vrrpChange(sc)
	}
	if w.fo != nil {
		if msg := w.fo.vrrpChange(sc); msg != "" {
			w.log.Info(msg)
		}
	}
}

// track gives vrrp the weight the health calls for. w.mu is held.
func (w *wiring) track() {
	weight := 0
	if !w.h.healthy() {
		weight = w.weight
	}
	if w.trackSet && weight == w.applied {
		return
	}
	w.log.Info("AWS health", "healthy", weight == 0, "aws_paths", w.h.awsPaths,
		"tunnels_up", w.h.tunnelsUp(), "vrrp_weight", weight)
	w.trackSet, w.applied = true, weight
	for _, r := range w.vrrp {
		r.SetTrack(TrackAWS, weight)
	}
}

// snapshot returns the health for Status.
func (w *wiring) snapshot() (h status.Health) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return status.Health{
		Healthy:    w.h.healthy(),
		AWSPaths:   w.h.awsPaths,
		TunnelsUp:  w.h.tunnelsUp(),
		VRRPWeight: w.applied,
		VRRPMaster: w.master,
	}
}
