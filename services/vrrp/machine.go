package vrrp

import (
	"net/netip"
	"time"
)

// effects is what the state machine asks of the outside world. The Router
// implements it with sockets and netlink; the tests record it.
type effects interface {
	// send transmits an advert with the given priority.
	send(priority uint8)
	// takeover adds the virtual addresses and sends gratuitous ARPs.
	takeover()
	// release removes the virtual addresses.
	release()
	// changed reports a transition.
	changed(StateChange)
}

// machineConfig is the part of Config the state machine needs.
type machineConfig struct {
	Version      int
	Interval     time.Duration // our Advertisement_Interval
	Preempt      bool
	PreemptDelay time.Duration
	Primary      netip.Addr // our primary address, for tie breaks

	// ResignTimeout bounds how long a resigning master keeps the virtual
	// addresses waiting for a new master's advert.
	ResignTimeout time.Duration
	// ResignGrace is how long a resigning master keeps the virtual
	// addresses after the new master's first advert, so that the new
	// master's gratuitous ARPs (sent right after that advert) have reached
	// the hosts before the old MAC stops answering.
	ResignGrace time.Duration
}

// machine is the VRRP state machine of RFC 5798 §6.4 (RFC 3768 §6.4 for v2)
// with RFC 9568's corrections, plus tidegate's planned handover. It reads no
// clock and owns no goroutine: every input carries the current time, timers
// are deadlines that the caller fires through tick, so tests drive it with a
// fake clock. It is not safe for concurrent use; the Router serialises it.
type machine struct {
	cfg  machineConfig
	fx   effects
	prio uint8 // effective priority

	state State
	// masterInterval is Master_Adver_Interval: ours until a master's v3
	// advert tells us its own.
	masterInterval time.Duration
	masterAddr     netip.Addr
	masterPrio     uint8

	adverTimer time.Time // Master: next advert
	downTimer  time.Time // Backup: Master_Down_Timer
	downReason Reason    // what a firing downTimer means

	preemptSince time.Time // Backup: when we first outranked the master

	resigning      bool
	resignDeadline time.Time
	releaseAt      time.Time
	resigned       bool
}

func newMachine(cfg machineConfig, prio uint8, fx effects) *machine {
	return &machine{cfg: cfg, fx: fx, prio: prio, masterInterval: cfg.Interval}
}

// skew is Skew_Time. v2 (RFC 3768 §6.1): (256-Priority)/256 seconds,
// whatever the interval. v3 (RFC 5798 §6.1): scaled by
// Master_Adver_Interval, so that sub-second intervals fail over in
// sub-second times.
func (m *machine) skew() time.Duration {
	if m.cfg.Version == 2 {
		return time.Duration(256-int(m.prio)) * time.Second / 256
	}
	return time.Duration(256-int(m.prio)) * m.masterInterval / 256
}

// downInterval is Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time.
func (m *machine) downInterval() time.Duration {
	return 3*m.masterInterval + m.skew()
}

func (m *machine) transition(now time.Time, to State, why Reason, peer netip.Addr) {
	from := m.state
	m.state = to
	m.fx.changed(StateChange{From: from, State: to, Reason: why, Peer: peer, Time: now})
}

// startup is the RFC Startup event (Initialize state).
func (m *machine) startup(now time.Time) {
	if m.state != StateInitialize {
		return
	}
	m.resigning, m.resigned = false, false
	if m.prio == 255 {
		m.becomeMaster(now, ReasonOwner, netip.Addr{})
		return
	}
	m.masterInterval = m.cfg.Interval
	m.masterAddr, m.masterPrio = netip.Addr{}, 0
	m.downTimer = now.Add(m.downInterval())
	m.downReason = ReasonMasterDown
	m.preemptSince = time.Time{}
	m.transition(now, StateBackup, ReasonStartup, netip.Addr{})
}

func (m *machine) becomeMaster(now time.Time, why Reason, peer netip.Addr) {
	m.downTimer = time.Time{}
	m.preemptSince = time.Time{}
	// RFC order: advert first, then gratuitous ARP.
	m.fx.send(m.prio)
	m.fx.takeover()
	m.adverTimer = now.Add(m.cfg.Interval)
	m.masterAddr, m.masterPrio = m.cfg.Primary, m.prio
	m.transition(now, StateMaster, why, peer)
}

func (m *machine) becomeBackup(now time.Time, a *advert, src netip.Addr) {
	m.adverTimer = time.Time{}
	m.fx.release()
	m.learn(a, src)
	m.downTimer = now.Add(m.downInterval())
	m.downReason = ReasonMasterDown
	m.transition(now, StateBackup, ReasonHigherPriority, src)
}

// learn records the master and, for v3, its interval (RFC 5798 §6.4.2: a
// backup adopts the master's Adver Interval; v2 intervals must match and
// are checked by the filter).
func (m *machine) learn(a *advert, src netip.Addr) {
	if m.cfg.Version == 3 && a.Interval > 0 {
		m.masterInterval = a.Interval
	}
	m.masterAddr, m.masterPrio = src, a.Priority
}

// shutdown is the RFC Shutdown event: a master sends priority 0 and gives up
// the addresses at once. The Router uses resign (planned handover without
// a gap) or stop (crash-like) instead; shutdown is kept for the RFC table.
func (m *machine) shutdown(now time.Time) {
	switch m.state {
	case StateBackup:
		m.downTimer = time.Time{}
		m.transition(now, StateInitialize, ReasonShutdown, netip.Addr{})
	case StateMaster:
		m.adverTimer = time.Time{}
		m.fx.send(0)
		m.fx.release()
		m.resigning = false
		m.transition(now, StateInitialize, ReasonShutdown, netip.Addr{})
	}
}

// resign starts a planned handover. A master sends priority 0 (so the best
// backup takes over after only its Skew_Time) but keeps the addresses and
// keeps sending priority 0 every interval until it hears the new master, or
// until ResignTimeout; only then does it release them. A backup simply
// leaves. resigned reports when it is over.
func (m *machine) resign(now time.Time) {
	switch m.state {
	case StateInitialize:
		m.resigned = true
	case StateBackup:
		m.downTimer = time.Time{}
		m.resigned = true
		m.transition(now, StateInitialize, ReasonResigned, netip.Addr{})
	case StateMaster:
		if m.resigning {
			return
		}
		m.resigning = true
		m.resignDeadline = now.Add(m.cfg.ResignTimeout)
		m.fx.send(0)
		m.adverTimer = now.Add(m.cfg.Interval)
	}
}

func (m *machine) finishResign(now time.Time, peer netip.Addr) {
	m.adverTimer = time.Time{}
	m.resigning = false
	m.resigned = true
	m.fx.release()
	m.transition(now, StateInitialize, ReasonResigned, peer)
}

// stop is the crash-like end of Run: no priority 0, the peer notices our
// silence. The addresses are still removed so that this host does not keep
// answering ARP for them next to the new master.
func (m *machine) stop(now time.Time) {
	switch m.state {
	case StateMaster:
		m.fx.release()
		fallthrough
	case StateBackup:
		m.adverTimer, m.downTimer = time.Time{}, time.Time{}
		m.resigning = false
		m.transition(now, StateInitialize, ReasonStopped, netip.Addr{})
	}
}

// setPriority changes the effective priority (tracking). A master
// advertises the new priority at once so that a backup can preempt.
func (m *machine) setPriority(now time.Time, p uint8) {
	if p == m.prio {
		return
	}
	m.prio = p
	if m.state == StateMaster && !m.resigning {
		m.masterPrio = p
		m.fx.send(p)
		m.adverTimer = now.Add(m.cfg.Interval)
	}
}

// receive processes an advert that passed decodeDatagram and filter.check.
func (m *machine) receive(now time.Time, a *advert, src netip.Addr) {
	switch m.state {
	case StateBackup:
		m.receiveBackup(now, a, src)
	case StateMaster:
		m.receiveMaster(now, a, src)
	}
}

func (m *machine) receiveBackup(now time.Time, a *advert, src netip.Addr) {
	if a.Priority == 0 {
		// The master resigned: take over after Skew_Time only, so that the
		// highest-priority backup goes first.
		m.downTimer = now.Add(m.skew())
		m.downReason = ReasonPriorityZero
		m.masterAddr = src
		return
	}
	outranked := m.cfg.Preempt && a.Priority < m.prio
	if outranked && m.cfg.PreemptDelay > 0 {
		// Hold preemption until we have outranked the master for
		// PreemptDelay, so that a just-booted or flapping router does not
		// take the addresses at once.
		if m.preemptSince.IsZero() {
			m.preemptSince = now
		}
		if now.Sub(m.preemptSince) < m.cfg.PreemptDelay {
			outranked = false
		}
	} else if !outranked {
		m.preemptSince = time.Time{}
	}
	if outranked {
		// Discard: the Master_Down_Timer keeps running and fires.
		m.downReason = ReasonPreempt
		m.masterAddr, m.masterPrio = src, a.Priority
		return
	}
	m.learn(a, src)
	m.downTimer = now.Add(m.downInterval())
	m.downReason = ReasonMasterDown
}

func (m *machine) receiveMaster(now time.Time, a *advert, src netip.Addr) {
	if m.resigning {
		// Any live advert now comes from the new master: let its GARPs
		// land, then release.
		if a.Priority != 0 && m.releaseAt.IsZero() {
			m.releaseAt = now.Add(m.cfg.ResignGrace)
			m.masterAddr, m.masterPrio = src, a.Priority
		}
		return
	}
	if a.Priority == 0 {
		// RFC 5798 §6.4.3: another router resigned; advertise at once so
		// the backups hear a live master before their Skew_Time runs out.
		m.fx.send(m.prio)
		m.adverTimer = now.Add(m.cfg.Interval)
		return
	}
	if a.Priority > m.prio || (a.Priority == m.prio && src.Compare(m.cfg.Primary) > 0) {
		m.becomeBackup(now, a, src)
	}
	// Otherwise discard: we stay master and our next advert makes the
	// other side back off.
}

// tick fires every timer due at now.
func (m *machine) tick(now time.Time) {
	switch m.state {
	case StateBackup:
		if !m.downTimer.IsZero() && !now.Before(m.downTimer) {
			m.becomeMaster(now, m.downReason, m.masterAddr)
		}
	case StateMaster:
		if m.resigning {
			if (!m.releaseAt.IsZero() && !now.Before(m.releaseAt)) || !now.Before(m.resignDeadline) {
				peer := m.masterAddr
				if m.releaseAt.IsZero() {
					peer = netip.Addr{}
				}
				m.releaseAt = time.Time{}
				m.finishResign(now, peer)
				return
			}
		}
		if !m.adverTimer.IsZero() && !now.Before(m.adverTimer) {
			p := m.prio
			if m.resigning {
				p = 0
			}
			m.fx.send(p)
			next := m.adverTimer.Add(m.cfg.Interval)
			if !next.After(now) {
				next = now.Add(m.cfg.Interval)
			}
			m.adverTimer = next
		}
	}
}

// next returns the earliest pending deadline, or the zero time.
func (m *machine) next() time.Time {
	var t time.Time
	for _, d := range []time.Time{m.adverTimer, m.downTimer, m.releaseAt, m.resignDeadlineIfAny()} {
		if !d.IsZero() && (t.IsZero() || d.Before(t)) {
			t = d
		}
	}
	return t
}

func (m *machine) resignDeadlineIfAny() time.Time {
	if m.resigning {
		return m.resignDeadline
	}
	return time.Time{}
}
