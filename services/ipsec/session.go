package ipsec

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/strongswan/govici/vici"
	"github.com/tidegate/tidegate/configs"
)

// subscribed are the VICI events the service listens to.
var subscribed = []string{"ike-updown", "child-updown", "ike-rekey", "child-rekey"}

// errCharon wraps errors of the VICI transport (as opposed to a command
// charon refused): they end the session and restart charon.
type errCharon struct{ err error }

func (e errCharon) Error() string { return "ipsec: VICI: " + e.err.Error() }
func (e errCharon) Unwrap() error { return e.err }

// dial connects to charon's VICI socket, retrying until the socket appears,
// charon exits or dialTimeout passes.
func dial(ctx context.Context, c *charon) (*vici.Session, error) {
	deadline := time.Now().Add(dialTimeout)
	var last error
	for {
		if _, err := os.Stat(c.socket); err == nil {
			s, err := newSession(c.socket)
			if err == nil {
				return s, nil
			}
			last = err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("ipsec: no VICI socket at %s after %v (last error: %v)", c.socket, dialTimeout, last)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.done:
			return nil, fmt.Errorf("ipsec: charon exited before its VICI socket appeared: %v", c.err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// call runs one VICI command under its deadline (callTimeout). A command
// charon refuses comes back as a plain error; a broken connection or a
// missed deadline as errCharon.
func call(ctx context.Context, sess *vici.Session, cmd string, in *vici.Message) (*vici.Message, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout(cmd))
	defer cancel()
	m, err := sess.Call(ctx, cmd, in)
	if err != nil && m == nil {
		return nil, errCharon{fmt.Errorf("%s: %w", cmd, err)}
	}
	if err != nil {
		return m, fmt.Errorf("ipsec: charon refused %s: %w", cmd, err)
	}
	return m, nil
}

// hello asks charon for its version and plugins, logs them and records
// them for Status.
func (s *Service) hello(ctx context.Context, sess *vici.Session, c *charon) error {
	v, err := call(ctx, sess, "version", nil)
	if err != nil {
		return err
	}
	st, err := call(ctx, sess, "stats", nil)
	if err != nil {
		return err
	}
	var ver struct {
		Daemon  string `vici:"daemon"`
		Version string `vici:"version"`
		Sysname string `vici:"sysname"`
		Release string `vici:"release"`
	}
	var stats struct {
		Plugins []string `vici:"plugins"`
	}
	if err := unmarshal(v, &ver); err != nil {
		return fmt.Errorf("ipsec: decoding version: %w", err)
	}
	if err := unmarshal(st, &stats); err != nil {
		return fmt.Errorf("ipsec: decoding stats: %w", err)
	}
	s.log.Info("ipsec: connected to charon", "pid", c.pid, "daemon", ver.Daemon, "version", ver.Version,
		"kernel", ver.Sysname+" "+ver.Release, "plugins", stats.Plugins)
	if s.cfg.OnCharon != nil {
		s.cfg.OnCharon()
	}
	s.mu.Lock()
	s.charon = CharonStatus{
		Running:  true,
		PID:      c.pid,
		Started:  c.started,
		Version:  ver.Version,
		Plugins:  stats.Plugins,
		Restarts: s.charon.Restarts,
	}
	if s.starts > 0 {
		s.charon.Restarts++
	}
	s.starts++
	s.mu.Unlock()
	return nil
}

// serve drives one charon run: connect, subscribe, load, then follow
// events, configuration updates and the reconciliation ticker until ctx
// ends, charon exits or the VICI connection breaks.
func (s *Service) serve(ctx context.Context, c *charon) error {
	sess, err := dial(ctx, c)
	if err != nil {
		return err
	}
	defer sess.Close()
	if err := s.hello(ctx, sess, c); err != nil {
		return err
	}
	l, err := newLister(ctx, c.socket)
	if err != nil {
		return err
	}
	defer l.Close()
	// Subscribe before loading, so the first up events are not missed.
	ev := make(chan vici.Event, 256)
	sess.NotifyEvents(ev)
	if err := subscribe(ctx, sess, subscribed...); err != nil {
		return err
	}
	// A fresh charon has nothing loaded: load the current configuration,
	// and drop a pending update that it already includes.
	select {
	case <-s.updates:
	default:
	}
	loaded := map[string]configs.Tunnel{}
	if err := s.apply(ctx, sess, loaded, s.configured()); err != nil {
		return err
	}
	tick := time.NewTicker(s.cfg.ReconcileInterval)
	defer tick.Stop()
	for {
		if err := s.reconcile(ctx, sess, l); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.done:
			return fmt.Errorf("ipsec: charon exited: %v", c.err)
		case e, ok := <-ev:
			if !ok {
				return errCharon{errors.New("connection closed")}
			}
			s.handleEvent(e)
		drain: // take whatever else arrived, then reconcile once
			for {
				select {
				case e, ok := <-ev:
					if !ok {
						return errCharon{errors.New("connection closed")}
					}
					s.handleEvent(e)
				default:
					break drain
				}
			}
		case t := <-s.updates:
			s.setupNetwork(t, false)
			if err := s.apply(ctx, sess, loaded, t); err != nil {
				return err
			}
		case <-tick.C:
		}
	}
}

func (s *Service) configured() []configs.Tunnel {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]configs.Tunnel(nil), s.tunnels...)
}

// apply makes charon's connections and keys equal want. loaded is what this
// session loaded so far, by tunnel name. Only transport errors are
// returned: a tunnel charon refuses is logged and retried at the next
// update or charon restart.
func (s *Service) apply(ctx context.Context, sess *vici.Session, loaded map[string]configs.Tunnel, want []configs.Tunnel) error {
	wanted := map[string]bool{}
	for _, t := range want {
		wanted[t.Name] = true
	}
	// Unload by what charon reports, not just by loaded, so nothing stays
	// behind whatever happened before: the connections (each with its key
	// and SAs), then the keys left without one.
	for _, stale := range []struct {
		cmd, list string
		unload    func(context.Context, *vici.Session, string) error
	}{{"get-conns", "conns", s.unload}, {"get-shared", "keys", s.unloadShared}} {
		names, err := listed(ctx, sess, stale.cmd, stale.list)
		if err != nil {
			return err
		}
		for _, name := range names {
			if !wanted[name] {
				if err := stale.unload(ctx, sess, name); err != nil {
					return err
				}
				delete(loaded, name)
			}
		}
	}
	for _, t := range want {
		old, ok := loaded[t.Name]
		if ok && !changed(old, t, s.cfg.LocalAddress) {
			continue
		}
		if ok {
			s.log.Info("ipsec: tunnel changed; replacing it", "tunnel", t.Name)
			if err := s.unload(ctx, sess, t.Name); err != nil {
				return err
			}
			delete(loaded, t.Name)
		}
		if err := s.load(ctx, sess, t); err != nil {
			var ec errCharon
			if errors.As(err, &ec) {
				return err
			}
			s.log.Error("ipsec: tunnel not loaded", "tunnel", t.Name, "err", err)
			continue
		}
		loaded[t.Name] = t
	}
	return nil
}

// changed reports whether a tunnel's connection or key differ.
func changed(a, b configs.Tunnel, local netip.Addr) bool {
	if a.PSK.Reveal() != b.PSK.Reveal() {
		return true
	}
	ma, errA := connFor(a, local)
	mb, errB := connFor(b, local)
	return errA != nil || errB != nil || ma.String() != mb.String()
}

func (s *Service) load(ctx context.Context, sess *vici.Session, t configs.Tunnel) error {
	sh, err := sharedFor(t)
	if err != nil {
		return err
	}
	if _, err := call(ctx, sess, "load-shared", sh); err != nil {
		// charon's message for a refused key does not quote it; ours
		// names the tunnel only.
		return fmt.Errorf("ipsec: loading the shared key of %q: %w", t.Name, err)
	}
	m, err := connFor(t, s.cfg.LocalAddress)
	if err != nil {
		return err
	}
	if _, err := call(ctx, sess, "load-conn", m); err != nil {
		return fmt.Errorf("ipsec: loading connection %q: %w", t.Name, err)
	}
	s.log.Info("ipsec: tunnel loaded", "tunnel", t.Name, "remote", t.OutsideAddress, "ike_version", t.IKEVersion)
	return nil
}

// unload removes a connection and its key and closes its SAs.
func (s *Service) unload(ctx context.Context, sess *vici.Session, name string) error {
	if err := s.unloadItem(ctx, sess, "unload-conn", "name", name, "connection"); err != nil {
		return err
	}
	if err := s.unloadShared(ctx, sess, name); err != nil {
		return err
	}
	// Close the SAs: they would otherwise live on with the old
	// configuration. Give the DELETE two seconds, then drop them.
	t := vici.NewMessage()
	_ = t.Set("ike", name)
	_ = t.Set("force", "yes")
	_ = t.Set("timeout", "2000")
	// "no matching SAs to terminate" is the usual refusal.
	if _, err := callRefusable(ctx, sess, "terminate", t); err != nil {
		return err
	}
	s.log.Info("ipsec: tunnel unloaded", "tunnel", name)
	return nil
}

func (s *Service) unloadShared(ctx context.Context, sess *vici.Session, id string) error {
	return s.unloadItem(ctx, sess, "unload-shared", "id", id, "shared key")
}

// unloadItem runs an unload command for the tunnel's item (its connection
// or its key) named by key = tunnel. Charon's refusal (nothing to unload)
// is logged, not returned.
func (s *Service) unloadItem(ctx context.Context, sess *vici.Session, cmd, key, tunnel, item string) error {
	m := vici.NewMessage()
	_ = m.Set(key, tunnel)
	refused, err := callRefusable(ctx, sess, cmd, m)
	if err != nil {
		return err
	}
	if refused != nil {
		s.log.Warn("ipsec: unloading "+item, "tunnel", tunnel, "err", refused)
	}
	return nil
}

// callRefusable runs a command charon may refuse without harm (there was
// nothing to unload or terminate): it returns charon's refusal apart from
// err, a transport error (errCharon), which ends the session.
func callRefusable(ctx context.Context, sess *vici.Session, cmd string, m *vici.Message) (refused, err error) {
	if _, err := call(ctx, sess, cmd, m); err != nil {
		var ec errCharon
		if errors.As(err, &ec) {
			return nil, err
		}
		return err, nil
	}
	return nil, nil
}

// listed runs a command that answers with one list, e.g. get-conns.
func listed(ctx context.Context, sess *vici.Session, cmd, key string) ([]string, error) {
	m, err := call(ctx, sess, cmd, nil)
	if err != nil {
		return nil, err
	}
	l, _ := m.Get(key).([]string)
	return l, nil
}

// initiate asks charon to bring a tunnel up without waiting for it.
func (s *Service) initiate(ctx context.Context, sess *vici.Session, name string) error {
	m := vici.NewMessage()
	_ = m.Set("child", name)
	_ = m.Set("ike", name)
	_ = m.Set("timeout", "-1")
	if _, err := call(ctx, sess, "initiate", m); err != nil {
		var ec errCharon
		if errors.As(err, &ec) {
			return err
		}
		s.log.Warn("ipsec: initiating", "tunnel", name, "err", err)
	}
	return nil
}
