package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tidegate/tidegate/services/bgp"
	"github.com/tidegate/tidegate/services/firewall"
	"github.com/tidegate/tidegate/services/ipsec"
	"github.com/tidegate/tidegate/services/lifeline"
	"github.com/tidegate/tidegate/services/vrrp"
)

// services are the three services of one gateway and the wiring between
// them.
type services struct {
	log      *slog.Logger
	interval time.Duration // VRRP advert interval, bounds the handover
	sec      *ipsec.Service
	bgp      *bgp.Speaker
	vrrp     *vrrp.Router
	// peerVRRP is the router of the peer's virtual IP in active-active
	// (this gateway its backup); nil in active-standby.
	peerVRRP *vrrp.Router
	w        *wiring
	// orders carries the wiring's calls to BGP (bgpqueue.go).
	orders *bgpQueue
	// lifeline and vips: the virtual IPs are claimed on the lifeline
	// before VRRP may add them (see Options.Lifeline).
	lifeline *lifeline.Lifeline
	vips     []netip.Prefix
	vlan     string // the VLAN interface
}

// newServices builds the services for role; nothing runs yet. installFW
// installs the packet filter (firewall.Install) when it changes.
func newServices(o Options, role *Role, log *slog.Logger, installFW func(firewall.Config) error) (*services, error) {
	cfg := role.Configs(o) // what tidegate render prints
	for _, warning := range cfg.Warnings {
		log.Warn(warning)
	}
	for _, note := range cfg.Notes {
		log.Info(note)
	}
	w := newWiring(role.Self.Tunnels, cfg.AWSTrackWeight, log)
	w.beat = o.Lifeline.Beat
	s := &services{log: log, interval: role.Site.VRRP.AdvertInterval, w: w, lifeline: o.Lifeline,
		vips: cfg.VRRP.VirtualIPs, vlan: cfg.VRRP.Interface}

	var err error
	if s.vrrp, err = vrrp.New(cfg.VRRP); err != nil {
		return nil, fmt.Errorf("vrrp: %w", err)
	}
	routers := []vrrpControl{s.vrrp}
	if pc := cfg.PeerVRRP; pc != nil {
		if s.peerVRRP, err = vrrp.New(*pc); err != nil {
			return nil, fmt.Errorf("vrrp (the peer's virtual IP): %w", err)
		}
		s.vips = append(s.vips, pc.VirtualIPs...)
		routers = append(routers, s.peerVRRP)
	}
	bc := cfg.BGP
	bc.OnAWSPaths = w.onAWSPaths
	if s.bgp, err = bgp.New(bc); err != nil {
		return nil, fmt.Errorf("bgp: %w", err)
	}
	ic := cfg.IPsec
	ic.OnCharon = func() { w.marked("charon") }
	if s.sec, err = ipsec.New(ic); err != nil {
		return nil, fmt.Errorf("ipsec: %w", err)
	}
	s.orders = newBGPQueue(s.bgp)
	w.bgp, w.vrrp = s.orders, routers
	w.activeActive = s.peerVRRP != nil
	if bc.IBGPRange.IsValid() {
		set := s.bgp.SetIBGPPeer
		if fw := cfg.Firewall; fw != nil {
			// The packet filter follows: BGP on the VLAN from the learned
			// peer only, as when the site gives its address. VRRP keeps
			// that peer until the gateway restarts, and so does this.
			set = func(a netip.Addr) error {
				if err := s.bgp.SetIBGPPeer(a); err != nil {
					return err
				}
				narrowed := *fw
				narrowed.Peer = a
				if err := installFW(narrowed); err != nil {
					log.Error("firewall: BGP stays open to the VLAN; could not narrow it to the learned peer", "peer", a, "err", err)
				} else {
					log.Info("firewall: BGP on the VLAN from the learned peer only", "peer", a)
				}
				return nil
			}
		}
		// The peer's address is heard from its adverts while this
		// gateway is backup: of the one virtual IP, or in active-active
		// of the peer's own.
		learnFrom := s.vrrp
		if s.peerVRRP != nil {
			learnFrom = s.peerVRRP
		}
		w.learn = &peerLearner{
			log: log, vlan: bc.IBGPRange, self: bc.RouterID, set: set,
			master: func() (bool, netip.Addr) {
				st := learnFrom.Status()
				return st.State == vrrp.StateBackup, st.MasterAddr
			},
		}
	}
	// Only with an iBGP peer: without one there is nobody whose stale routes
	// AWS could hold (and no way to tell that the peer is back).
	if bc.IBGPPeer.IsValid() || bc.IBGPRange.IsValid() {
		w.fo = &failover{bgp: s.orders, rx: rxPackets(role.Site.VLAN.Interface)}
	}
	return s, nil
}

// rxPackets reads how many packets the interface received.
func rxPackets(iface string) func() (uint64, error) {
	path := "/sys/class/net/" + iface + "/statistics/rx_packets"
	return func() (uint64, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return 0, err
		}
		return strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	}
}

// Bounds of the planned handover: VRRP's own bound is 3 advert intervals
// plus 1 s (4 s at the default 1 s); PID 1 allows 15 s from SIGTERM to
// SIGKILL, and after the handover BGP takes a moment, the drain 1 s and
// charon up to 5 s to stop (ipsec's stop grace).
const (
	resignSlack = 2 * time.Second
	maxResign   = 8 * time.Second
)

// drain is how long a stopping gateway keeps its tunnels after BGP has
// stopped: AWS moves its return traffic on the BGP withdrawal, and what it
// sent before still arrives here.
const drain = time.Second

// run runs the services until ctx ends or one of them fails. Either way it
// first hands the virtual IP over (vrrp.Resign: the peer takes over at once
// and this gateway keeps forwarding until the peer's first advert), then
// stops BGP, drains, and stops IPsec and VRRP. stopping is called when that
// begins. It returns nil after a stop by ctx, or the first service's error.
func (s *services) run(ctx context.Context, stopping func()) error {
	sv := newSupervisor(ctx, s.log)
	stopWiring := s.startWiring()
	if err := s.lifeline.Claim(s.vlan, s.vips...); err != nil {
		s.log.Warn("PID 1 will not remove the virtual IP if this process dies", "err", err)
	}
	sv.start("vrrp", s.vrrp.Run)
	if s.peerVRRP != nil {
		sv.start("vrrp-peer", s.peerVRRP.Run)
	}
	sv.start("bgp", s.bgp.Run)
	sv.start("ipsec", s.sec.Run)
	s.log.Info("services started")

	select {
	case <-ctx.Done():
		s.log.Info("stopping: planned handover of the virtual IP")
	case <-sv.Failed():
		s.log.Error("stopping: a service failed; handing the virtual IP over")
	}
	stopping()
	// The stop is bounded (the handover, BGP, the drain, charon's grace)
	// and runs outside the wiring's loop: it beats on its own, so that
	// PID 1's watchdog lets it finish.
	defer s.beatUntilDone()()
	s.resign()
	// The wiring stops first: a stopping gateway has nothing to tell VRRP
	// or BGP any more (BGP's stop reports zero AWS paths, for instance).
	// The services never block on it: ipsec queues its events, vrrp drops
	// the oldest, bgp's callback only records the count.
	stopWiring()
	// BGP first: its Cease makes AWS (and the peer) move their traffic at
	// once. Then, for drain, this gateway still forwards what is already on
	// its way through its tunnels, before charon deletes the SAs.
	sv.stop("bgp")
	time.Sleep(drain)
	sv.stop("ipsec")
	sv.stop("vrrp")
	sv.stop("vrrp-peer")
	if err := sv.wait(); err != nil {
		return err
	}
	s.log.Info("services stopped")
	return nil
}

// startWiring runs the wiring between the services and the queue of its
// calls to BGP; the function it returns stops both and waits for them.
func (s *services) startWiring() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	s.w.start()
	var peerEvents <-chan vrrp.StateChange // nil: none, in active-standby
	if s.peerVRRP != nil {
		peerEvents = s.peerVRRP.Events()
	}
	var wg sync.WaitGroup
	wg.Go(func() { s.w.run(ctx, s.sec.Events(), s.vrrp.Events(), peerEvents) })
	wg.Go(func() { s.orders.run(ctx) })
	return func() { cancel(); wg.Wait() }
}

// beatUntilDone beats on the lifeline every 500 ms until the function it
// returns is called.
func (s *services) beatUntilDone() (done func()) {
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				s.lifeline.Beat()
			}
		}
	}()
	return func() { close(stop) }
}

// resign hands mastership over and waits until the peer has it (or the
// bound passes), for each virtual IP at once. A backup returns at once.
func (s *services) resign() {
	limit := min(3*s.interval+resignSlack, maxResign)
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var wg sync.WaitGroup
	for _, r := range []*vrrp.Router{s.vrrp, s.peerVRRP} {
		if r == nil {
			continue
		}
		wg.Go(func() {
			start := time.Now()
			st := r.Status()
			if err := r.Resign(ctx); err != nil {
				s.log.Warn("vrrp handover incomplete", "vip", st.VirtualIPs, "err", err, "after", time.Since(start).Round(time.Millisecond))
				return
			}
			s.log.Info("vrrp resigned", "vip", st.VirtualIPs, "was", st.State, "after", time.Since(start).Round(time.Millisecond))
		})
	}
	wg.Wait()
}
