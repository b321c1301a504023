package ipsec

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidegate/tidegate/configs"
)

// Restart back-off for charon: it doubles from minBackoff up to maxBackoff
// and starts again from minBackoff once charon has stayed up for
// stableAfter.
const (
	minBackoff  = 500 * time.Millisecond
	maxBackoff  = 30 * time.Second
	stableAfter = time.Minute
	stopGrace   = 5 * time.Second
	dialTimeout = 20 * time.Second
	// crashWait is how long a session that failed waits for charon's exit
	// to tell a crash from a VICI failure (the socket may close first).
	crashWait = time.Second
	// crashGrace is how long tunnels that were up when charon crashed stay
	// "up" while a new charon negotiates them again: the kernel keeps the
	// dead charon's SAs, so traffic and the BGP sessions over them go on,
	// and reporting them down would withdraw routes and move VRRP for
	// nothing. A tunnel not back by then is reported down.
	crashGrace = 20 * time.Second
)

// A Service supervises charon and keeps the configured tunnels loaded and
// up. Create it with New and start it with Run.
type Service struct {
	cfg Config
	log *slog.Logger

	running atomic.Bool
	updates chan []configs.Tunnel // to the Run loop
	pub     *publisher

	mu      sync.Mutex // guards the fields below
	tunnels []configs.Tunnel
	state   map[string]*tunnelState
	charon  CharonStatus
	starts  int   // charon runs that reached VICI
	netErr  error // of the last setupNetwork
}

// New checks cfg and returns a Service that is not running yet.
func New(cfg Config) (*Service, error) {
	cfg = cfg.withDefaults()
	if cfg.RunDir == "" {
		return nil, errors.New("ipsec: Config.RunDir is required")
	}
	if err := checkTunnels(cfg.Tunnels); err != nil {
		return nil, err
	}
	s := &Service{
		cfg:     cfg,
		log:     cfg.Logger,
		updates: make(chan []configs.Tunnel, 1),
		pub:     newPublisher(),
		state:   map[string]*tunnelState{},
	}
	s.setTunnelsLocked(cfg.Tunnels)
	return s, nil
}

// Events returns the channel of tunnel up/down changes. There is one
// channel per Service; it is closed when Run returns. Events are queued
// without bound (they are rare), so a slow reader delays them but never
// loses one or stalls the service.
func (s *Service) Events() <-chan TunnelEvent { return s.pub.out }

// Update replaces the tunnel configuration. Run unloads the connections and
// keys of tunnels no longer configured, replaces changed ones (their SAs are
// closed and negotiated again) and leaves unchanged ones alone.
func (s *Service) Update(tunnels []configs.Tunnel) error {
	tunnels = append([]configs.Tunnel(nil), tunnels...)
	if err := checkTunnels(tunnels); err != nil {
		return err
	}
	s.mu.Lock()
	s.setTunnelsLocked(tunnels)
	s.mu.Unlock()
	// Only the latest configuration matters: replace a pending one.
	select {
	case <-s.updates:
	default:
	}
	s.updates <- tunnels
	return nil
}

// Run starts charon and keeps it running, configured and watched until ctx
// is done; then it stops charon (which deletes its SAs) and returns nil. It
// returns an error only if it cannot start at all.
func (s *Service) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("ipsec: Run called twice")
	}
	go s.pub.run()
	defer s.pub.close()
	if err := os.MkdirAll(s.cfg.RunDir, 0o700); err != nil {
		return fmt.Errorf("ipsec: %w", err)
	}
	backoff := minBackoff
	// fresh: the kernel's SAs are not a crashed charon's, which keep
	// carrying the traffic while a new charon negotiates new ones.
	fresh := true
	for {
		s.setupNetwork(s.configured(), fresh)
		c, err := startCharon(&s.cfg, s.log)
		if err != nil {
			s.log.Error("ipsec: charon did not start", "err", err)
			s.graceOver()
		} else {
			s.log.Info("ipsec: charon started", "pid", c.pid, "private_run", c.private)
			err = s.serve(ctx, c)
			crashed := ctx.Err() == nil && c.exited(crashWait)
			c.stop(stopGrace)
			if crashed {
				s.charonCrashed(c)
			} else {
				s.charonDown(c, err)
			}
			fresh = !crashed
			if time.Since(c.started) > stableAfter {
				backoff = minBackoff
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		s.log.Warn("ipsec: restarting charon", "after", backoff, "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// charonCrashed records that charon died on its own. Its SAs stay in the
// kernel (nobody deleted them) and keep forwarding, so tunnels that were
// up are held up for crashGrace while the next charon negotiates them
// again (see tunnelState.observe).
func (s *Service) charonCrashed(c *charon) {
	s.log.Warn("ipsec: charon crashed; its SAs stay in the kernel while a new charon negotiates", "pid", c.pid, "err", c.err, "grace", crashGrace)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.charon.Running = false
	s.charon.PID = 0
	reason := fmt.Sprintf("charon exited: %v", c.err)
	now := time.Now()
	for _, t := range s.tunnels {
		st := s.state[t.Name]
		st.missing = time.Time{} // a new charon starts the tunnels itself
		switch {
		case !st.st.Up:
		case st.graceUntil.IsZero():
			st.graceUntil = now.Add(crashGrace)
		case now.After(st.graceUntil):
			// Crashed again and not back since the last crash.
			st.observe(nil, reason, s.pub)
		}
	}
}

// graceOver reports down the tunnels held up after a crash whose grace has
// passed without a charon to negotiate them.
func (s *Service) graceOver() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tunnels {
		if st := s.state[t.Name]; !st.graceUntil.IsZero() && time.Now().After(st.graceUntil) {
			st.observe(nil, "charon not running", s.pub)
		}
	}
}

// charonDown records that charon exited and takes every tunnel down.
func (s *Service) charonDown(c *charon, err error) {
	reason := "charon stopped"
	select {
	case <-c.done:
		if c.err != nil {
			reason = fmt.Sprintf("charon exited: %v", c.err)
		}
	default:
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		s.log.Warn("ipsec: charon session ended", "pid", c.pid, "err", err)
	}
	s.mu.Lock()
	s.charon.Running = false
	s.charon.PID = 0
	s.mu.Unlock()
	s.forgetSAs(reason)
}

// setupNetwork applies the sysctls and the XFRM interfaces
// the configuration asks for, in Config.NetNS. Before a charon start
// (fresh), it also flushes the kernel's IPsec SAs and policies when the
// service owns them (XFRMInterfaces). Failures are logged and kept for
// Status, and everything is tried again at the next start or update: a
// tunnel may still come up without, say, its sysctls.
func (s *Service) setupNetwork(tunnels []configs.Tunnel, fresh bool) {
	var errs []error
	err := inNetNS(s.cfg.NetNS, func() error {
		if s.cfg.Sysctls {
			errs = append(errs, setRouteSysctls())
		}
		if s.cfg.XFRMInterfaces {
			if fresh {
				errs = append(errs, flushXFRM())
			}
			errs = append(errs, ensureInterfaces(tunnels, s.cfg.Uplink, s.cfg.Sysctls))
		}
		return nil
	})
	errs = append(errs, err)
	err = errors.Join(errs...)
	if err != nil {
		s.log.Error("ipsec: network setup incomplete", "err", err)
	}
	s.mu.Lock()
	s.netErr = err
	s.mu.Unlock()
}
