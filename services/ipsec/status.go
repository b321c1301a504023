package ipsec

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/strongswan/govici/vici"
	"github.com/tidegate/tidegate/configs"
)

// Status is a snapshot of the service. It holds no secrets.
type Status struct {
	Charon  CharonStatus
	Tunnels []TunnelStatus // in configuration order
	// Network is the last error setting up sysctls, firewall or XFRM
	// interfaces; "" when all went well.
	Network string
}

// CharonStatus describes the charon process.
type CharonStatus struct {
	Running  bool // connected over VICI
	PID      int
	Started  time.Time
	Version  string   // e.g. "5.9.8"
	Plugins  []string // as charon reports them
	Restarts int      // charon starts after the first
}

// TunnelStatus describes one tunnel, as of the last list-sas (at most
// Config.ReconcileInterval old, and refreshed after every event).
type TunnelStatus struct {
	Name      string
	Remote    string // AWS's outside address
	Interface string // its XFRM interface
	IfID      uint32
	Up        bool   // IKE_SA established and CHILD_SA installed
	Reason    string // of the last up/down change
	Since     time.Time

	IKEState    string    // e.g. ESTABLISHED, CONNECTING; "" without an IKE_SA
	ChildState  string    // e.g. INSTALLED, REKEYING; "" without a CHILD_SA
	Established time.Time // when the IKE_SA was established
	Installed   time.Time // when the newest CHILD_SA was installed
	IKEProposal string    // e.g. AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384
	ESPProposal string

	// Traffic through the tunnel since the service started, over every
	// CHILD_SA it had (charon's counters restart with each SA).
	BytesIn, BytesOut, PacketsIn, PacketsOut uint64

	IKERekeys, ChildRekeys int // rekeys seen since the service started

	LastEvent   string // the last VICI event, e.g. "ike-updown up", "child-rekey"
	LastEventAt time.Time
}

// counters are one CHILD_SA's traffic counters.
type counters struct{ bytesIn, bytesOut, pktsIn, pktsOut uint64 }

func (c *counters) add(o counters) {
	c.bytesIn += o.bytesIn
	c.bytesOut += o.bytesOut
	c.pktsIn += o.pktsIn
	c.pktsOut += o.pktsOut
}

// tunnelState is what the service knows about one tunnel.
type tunnelState struct {
	st       TunnelStatus
	reason   string              // pending reason from the last event
	children map[string]counters // CHILD_SA unique id -> last counters
	past     counters            // of CHILD_SAs that are gone
	// missing is when the tunnel was first seen without an IKE_SA, or
	// with an established one but no CHILD_SA; zero otherwise.
	missing time.Time
	// graceUntil, after a charon crash, is until when the tunnel stays up
	// without SAs in charon (the kernel still has the dead charon's);
	// zero otherwise.
	graceUntil time.Time
}

// Status returns a snapshot of charon and every tunnel.
func (s *Service) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Status{Charon: s.charon}
	if s.netErr != nil {
		st.Network = s.netErr.Error()
	}
	st.Charon.Plugins = slices.Clone(st.Charon.Plugins)
	for _, t := range s.tunnels {
		ts := s.state[t.Name].st
		c := s.state[t.Name].past
		for _, cc := range s.state[t.Name].children {
			c.add(cc)
		}
		ts.BytesIn, ts.BytesOut, ts.PacketsIn, ts.PacketsOut = c.bytesIn, c.bytesOut, c.pktsIn, c.pktsOut
		st.Tunnels = append(st.Tunnels, ts)
	}
	return st
}

// setTunnelsLocked installs a new tunnel list, keeping the state of tunnels
// that stay and publishing "down" for removed tunnels that were up.
func (s *Service) setTunnelsLocked(ts []configs.Tunnel) {
	keep := map[string]bool{}
	for _, t := range ts {
		keep[t.Name] = true
		name, id := InterfaceFor(t)
		if st, ok := s.state[t.Name]; ok {
			st.st.Remote, st.st.Interface, st.st.IfID = t.OutsideAddress.String(), name, id
			continue
		}
		s.state[t.Name] = &tunnelState{
			st:       TunnelStatus{Name: t.Name, Remote: t.OutsideAddress.String(), Interface: name, IfID: id},
			children: map[string]counters{},
		}
	}
	for name, st := range s.state {
		if !keep[name] {
			if st.st.Up {
				s.pub.publish(TunnelEvent{Tunnel: name, Up: false, Reason: "removed from the configuration", Time: time.Now()})
			}
			delete(s.state, name)
		}
	}
	s.tunnels = ts
}

// forgetSAs marks every tunnel down after charon went away.
func (s *Service) forgetSAs(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tunnels {
		st := s.state[t.Name]
		st.graceUntil = time.Time{}
		st.observe(nil, reason, s.pub)
		st.missing = time.Time{} // a new charon starts the tunnels itself
	}
}

// handleEvent takes a VICI event; the reconcile that follows every batch of
// events turns it into state. Events carry one IKE_SA section named after
// its connection, i.e. the tunnel.
func (s *Service) handleEvent(e vici.Event) {
	up := e.Message.Get("up") == "yes"
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, name := range e.Message.Keys() {
		if _, ok := e.Message.Get(name).(*vici.Message); !ok {
			continue // "up" = "yes" and the like, not an SA section
		}
		st, ok := s.state[name]
		if !ok {
			continue
		}
		switch e.Name {
		case "ike-rekey":
			st.st.IKERekeys++
		case "child-rekey":
			st.st.ChildRekeys++
		}
		st.st.LastEvent, st.st.LastEventAt = e.Name, e.Timestamp
		switch e.Name {
		case "ike-updown", "child-updown":
			word := "down"
			if up {
				word = "up"
			}
			st.st.LastEvent += " " + word
			st.reason = st.st.LastEvent
			s.log.Info("ipsec: "+e.Name, "tunnel", name, "up", up)
		default:
			s.log.Debug("ipsec: "+e.Name, "tunnel", name)
		}
	}
}

// sa is one IKE_SA as list-sas reports it.
type sa struct {
	State       string        `vici:"state"`
	Established string        `vici:"established"` // seconds ago
	EncrAlg     string        `vici:"encr-alg"`
	EncrKeysize string        `vici:"encr-keysize"`
	IntegAlg    string        `vici:"integ-alg"`
	PRFAlg      string        `vici:"prf-alg"`
	DHGroup     string        `vici:"dh-group"`
	Children    *vici.Message `vici:"child-sas"`
}

type childSA struct {
	Name        string `vici:"name"`
	UniqueID    string `vici:"uniqueid"`
	State       string `vici:"state"`
	EncrAlg     string `vici:"encr-alg"`
	EncrKeysize string `vici:"encr-keysize"`
	IntegAlg    string `vici:"integ-alg"`
	DHGroup     string `vici:"dh-group"`
	BytesIn     string `vici:"bytes-in"`
	PacketsIn   string `vici:"packets-in"`
	BytesOut    string `vici:"bytes-out"`
	PacketsOut  string `vici:"packets-out"`
	InstallTime string `vici:"install-time"` // seconds ago
}

// listSAs returns every IKE_SA by connection name.
func listSAs(ctx context.Context, l *lister) (map[string][]sa, error) {
	msgs, err := l.list(ctx, "list-sas", "list-sa", nil)
	if err != nil {
		return nil, err
	}
	out := map[string][]sa{}
	for _, m := range msgs {
		for _, name := range m.Keys() {
			sub, ok := m.Get(name).(*vici.Message)
			if !ok {
				continue
			}
			var x sa
			if err := unmarshal(sub, &x); err != nil {
				return nil, fmt.Errorf("ipsec: decoding list-sas: %w", err)
			}
			out[name] = append(out[name], x)
		}
	}
	return out, nil
}

// reconcile reads every SA, updates the tunnels' state, publishes changes
// and initiates tunnels that have had no IKE_SA (or no CHILD_SA) for a
// whole ReconcileInterval: charon retries on its own (keyingtries 0, the
// start, DPD and close actions), so this only catches what fell through.
func (s *Service) reconcile(ctx context.Context, sess *vici.Session, l *lister) error {
	sas, err := listSAs(ctx, l)
	if err != nil {
		return err
	}
	var retry []string
	s.mu.Lock()
	for _, t := range s.tunnels {
		st := s.state[t.Name]
		reason := st.reason
		if reason == "" {
			reason = "list-sas"
		}
		st.reason = ""
		st.observe(sas[t.Name], reason, s.pub)
		if !st.missing.IsZero() && time.Since(st.missing) >= s.cfg.ReconcileInterval {
			retry = append(retry, t.Name)
			st.missing = time.Now() // again after another interval
		}
	}
	s.mu.Unlock()
	for _, name := range retry {
		s.log.Warn("ipsec: tunnel has had no SA for a while; initiating it", "tunnel", name)
		if err := s.initiate(ctx, sess, name); err != nil {
			return err
		}
	}
	return nil
}

// observe updates the state from the tunnel's IKE_SAs (nil: none) and
// publishes an up/down change.
func (st *tunnelState) observe(sas []sa, reason string, pub *publisher) {
	now := time.Now()
	s := &st.st
	s.IKEState, s.ChildState, s.Established, s.Installed, s.IKEProposal, s.ESPProposal = "", "", time.Time{}, time.Time{}, "", ""
	best := bestIKESA(sas)
	if best >= 0 {
		ike := sas[best]
		s.IKEState = ike.State
		if ike.Established != "" {
			s.Established = now.Add(-time.Duration(num(ike.Established)) * time.Second).Truncate(time.Second)
		}
		s.IKEProposal = proposal(ike.EncrAlg, ike.EncrKeysize, ike.IntegAlg, ike.PRFAlg, ike.DHGroup)
	}
	newest, installed := st.countChildren(sas)
	if newest != nil {
		s.ChildState = newest.State
		if newest.InstallTime != "" {
			s.Installed = now.Add(-time.Duration(num(newest.InstallTime)) * time.Second).Truncate(time.Second)
		}
		s.ESPProposal = proposal(newest.EncrAlg, newest.EncrKeysize, newest.IntegAlg, "", newest.DHGroup)
	}
	switch {
	case best >= 0 && !(s.IKEState == "ESTABLISHED" && s.ChildState == ""):
		st.missing = time.Time{}
	case st.missing.IsZero():
		st.missing = now
	}
	up := s.IKEState == "ESTABLISHED" && installed
	switch {
	case up:
		st.graceUntil = time.Time{}
	case st.graceUntil.IsZero():
	case now.Before(st.graceUntil):
		return // held up after a charon crash; the kernel still forwards
	default:
		st.graceUntil = time.Time{}
		reason = "not back after charon crashed (" + reason + ")"
	}
	if up != s.Up {
		s.Up, s.Reason, s.Since = up, reason, now
		pub.publish(TunnelEvent{Tunnel: s.Name, Up: up, Reason: reason, Time: now})
	}
}

// bestIKESA is the index of the IKE_SA that speaks for the tunnel (the
// furthest along, then the most recently established: during a rekey the
// new one), or -1 when there is none.
func bestIKESA(sas []sa) int {
	best := -1
	for i, x := range sas {
		if best < 0 || rank(x.State) > rank(sas[best].State) ||
			rank(x.State) == rank(sas[best].State) && num(x.Established) < num(sas[best].Established) {
			best = i
		}
	}
	return best
}

// countChildren records the byte and packet counters of every CHILD_SA of
// sas, moves those of CHILD_SAs that are gone into the past (so the
// tunnel's totals never go back), and returns the CHILD_SA that speaks for
// the tunnel (the furthest along, then the most recently installed) and
// whether any is installed.
func (st *tunnelState) countChildren(sas []sa) (newest *childSA, installed bool) {
	seen := map[string]bool{}
	for _, x := range sas {
		if x.Children == nil {
			continue
		}
		for _, k := range x.Children.Keys() {
			sub, ok := x.Children.Get(k).(*vici.Message)
			if !ok {
				continue
			}
			var c childSA
			if unmarshal(sub, &c) != nil {
				continue
			}
			seen[c.UniqueID] = true
			st.children[c.UniqueID] = counters{num(c.BytesIn), num(c.BytesOut), num(c.PacketsIn), num(c.PacketsOut)}
			if c.State == "INSTALLED" {
				installed = true
			}
			if newest == nil || rank(c.State) > rank(newest.State) ||
				rank(c.State) == rank(newest.State) && num(c.InstallTime) < num(newest.InstallTime) {
				cc := c
				newest = &cc
			}
		}
	}
	for id, c := range st.children {
		if !seen[id] {
			st.past.add(c)
			delete(st.children, id)
		}
	}
	return newest, installed
}

// rank orders SA states so the most useful one is shown.
func rank(state string) int {
	switch state {
	case "ESTABLISHED", "INSTALLED":
		return 3
	case "REKEYING", "REKEYED", "UPDATING":
		return 2
	case "CONNECTING", "INSTALLING", "CREATED", "PASSIVE":
		return 1
	}
	return 0
}

func num(s string) uint64 {
	n, _ := strconv.ParseUint(s, 10, 64)
	return n
}

// proposal renders negotiated algorithms like swanctl does.
func proposal(encr, keysize, integ, prf, dh string) string {
	if encr == "" {
		return ""
	}
	p := encr
	if keysize != "" {
		p += "-" + keysize
	}
	for _, a := range []string{integ, prf, dh} {
		if a != "" {
			p += "/" + a
		}
	}
	return p
}

// unmarshal is vici.UnmarshalMessage that returns an error where govici
// panics: a field of the wrong kind (a key-value where the struct wants a
// section, found by FuzzListSAs) must not take the service down.
func unmarshal(m *vici.Message, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed message: %v", r)
		}
	}()
	return vici.UnmarshalMessage(m, v)
}
