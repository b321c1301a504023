package vrrp

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// recorder records the machine's effects as short strings, in order.
type recorder struct{ log []string }

func (r *recorder) send(p uint8) { r.log = append(r.log, fmt.Sprintf("send %d", p)) }
func (r *recorder) takeover()    { r.log = append(r.log, "takeover") }
func (r *recorder) release()     { r.log = append(r.log, "release") }
func (r *recorder) changed(sc StateChange) {
	r.log = append(r.log, fmt.Sprintf("%s->%s (%s)", sc.From, sc.State, sc.Reason))
}

func (r *recorder) take() string {
	s := strings.Join(r.log, "; ")
	r.log = nil
	return s
}

// harness drives a machine with a fake clock.
type harness struct {
	t   *testing.T
	m   *machine
	rec *recorder
	now time.Time
	t0  time.Time
}

var (
	peerLow  = netip.MustParseAddr("10.0.1.1") // lower address than gw1
	peerHigh = netip.MustParseAddr("10.0.1.3") // higher address than gw1
)

func newHarness(t *testing.T, version int, interval time.Duration, prio uint8, mod func(*machineConfig)) *harness {
	t.Helper()
	cfg := machineConfig{
		Version: version, Interval: interval, Preempt: true, Primary: gw1,
		ResignTimeout: 5 * interval, ResignGrace: 50 * time.Millisecond,
	}
	if mod != nil {
		mod(&cfg)
	}
	rec := &recorder{}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return &harness{t: t, m: newMachine(cfg, prio, rec), rec: rec, now: t0, t0: t0}
}

// advance moves the fake clock by d, firing every timer at its exact time.
func (h *harness) advance(d time.Duration) {
	end := h.now.Add(d)
	for {
		n := h.m.next()
		if n.IsZero() || n.After(end) {
			break
		}
		h.now = n
		h.m.tick(h.now)
	}
	h.now = end
}

func (h *harness) advert(src netip.Addr, prio uint8, interval time.Duration) {
	h.m.receive(h.now, &advert{Version: h.m.cfg.Version, VRID: 10, Priority: prio, Interval: interval,
		Addresses: []netip.Addr{vip}}, src)
}

func (h *harness) expect(want string) {
	h.t.Helper()
	if got := h.rec.take(); got != want {
		h.t.Fatalf("at +%v effects:\n got %q\nwant %q", h.now.Sub(h.t0), got, want)
	}
}

// expectAt advances by d and checks that nothing happened until its last
// nanosecond and that want happened at it.
func (h *harness) expectAt(d time.Duration, want string) {
	h.t.Helper()
	h.advance(d - time.Nanosecond)
	h.expect("")
	h.advance(time.Nanosecond)
	h.expect(want)
}

// adverts receives n adverts from src, one every interval.
func (h *harness) adverts(n int, src netip.Addr, prio uint8, interval time.Duration) {
	for range n {
		h.advance(interval)
		h.advert(src, prio, interval)
	}
}

func (h *harness) expectState(s State) {
	h.t.Helper()
	if h.m.state != s {
		h.t.Fatalf("at +%v state %v, want %v", h.now.Sub(h.t0), h.m.state, s)
	}
}

// toBackup starts the machine and checks the Initialize -> Backup row.
func (h *harness) toBackup() {
	h.t.Helper()
	h.m.startup(h.now)
	h.expect("initialize->backup (startup)")
}

// toMaster starts the machine and lets its down timer fire.
func (h *harness) toMaster() {
	h.t.Helper()
	h.toBackup()
	h.advance(h.m.downInterval())
	h.expect(fmt.Sprintf("send %d; takeover; backup->master (master-down timer)", h.m.prio))
}

func TestSkewAndDownInterval(t *testing.T) {
	tests := []struct {
		version  int
		interval time.Duration
		prio     uint8
		skew     time.Duration
	}{
		// v2: (256-p)/256 s whatever the interval.
		{2, time.Second, 100, 609375 * time.Microsecond},
		{2, 3 * time.Second, 99, 613281250},
		{2, time.Second, 254, 7812500},
		// v3: scaled by the interval.
		{3, time.Second, 99, 613281250},
		{3, 100 * time.Millisecond, 99, 61328125},
		{3, 20 * time.Millisecond, 100, 12187500},
	}
	for _, tt := range tests {
		h := newHarness(t, tt.version, tt.interval, tt.prio, nil)
		if got := h.m.skew(); got != tt.skew {
			t.Errorf("v%d %v prio %d: skew %v, want %v", tt.version, tt.interval, tt.prio, got, tt.skew)
		}
		if got, want := h.m.downInterval(), 3*tt.interval+tt.skew; got != want {
			t.Errorf("v%d %v prio %d: down interval %v, want %v", tt.version, tt.interval, tt.prio, got, want)
		}
	}
}

// The RFC's state tables (RFC 5798 §6.4 / RFC 3768 §6.4), one test per row,
// for both versions.
func TestStateTables(t *testing.T) {
	const iv = time.Second
	rows := []struct {
		name string
		run  func(h *harness)
	}{
		{"Initialize: Startup, priority 255 -> Master", func(h *harness) {
			h.m.prio = 255
			h.m.startup(h.now)
			h.expect("send 255; takeover; initialize->master (address owner)")
			h.advance(iv)
			h.expect("send 255")
		}},
		{"Initialize: Startup -> Backup, Master_Down_Timer = Master_Down_Interval", func(h *harness) {
			h.toBackup()
			h.expectAt(h.m.downInterval(), "send 100; takeover; backup->master (master-down timer)")
		}},
		{"Backup: Shutdown -> Initialize", func(h *harness) {
			h.toBackup()
			h.m.shutdown(h.now)
			h.expect("backup->initialize (shutdown)")
			h.advance(time.Minute)
			h.expect("")
		}},
		{"Backup: Master_Down_Timer fires -> Master (advert, then ARP)", func(h *harness) {
			h.toMaster()
			h.expectState(StateMaster)
		}},
		{"Backup: priority 0 -> Master_Down_Timer = Skew_Time", func(h *harness) {
			h.toBackup()
			h.advance(iv)
			h.advert(peerHigh, 0, iv)
			h.expectAt(h.m.skew(), "send 100; takeover; backup->master (priority 0 received)")
		}},
		{"Backup: higher priority -> reset Master_Down_Timer", func(h *harness) {
			h.toBackup()
			h.adverts(10, peerLow, 200, iv)
			h.expect("")
			h.expectState(StateBackup)
			h.advance(h.m.downInterval())
			h.expect("send 100; takeover; backup->master (master-down timer)")
		}},
		{"Backup: equal priority -> reset timer, no preemption on ties", func(h *harness) {
			h.toBackup()
			h.adverts(10, peerLow, 100, iv)
			h.expect("")
		}},
		{"Backup: lower priority, preempt off -> reset timer", func(h *harness) {
			h.m.cfg.Preempt = false
			h.toBackup()
			h.adverts(10, peerHigh, 50, iv)
			h.expect("")
			h.expectState(StateBackup)
		}},
		{"Backup: lower priority, preempt on -> discard, preempt", func(h *harness) {
			h.toBackup()
			h.advance(iv)
			h.advert(peerHigh, 100, iv) // accepted: equal
			accepted := h.now
			for h.now.Sub(accepted) < h.m.downInterval()-iv {
				h.advance(iv)
				h.advert(peerHigh, 50, iv) // the master's priority dropped
			}
			h.expect("")
			h.advance(accepted.Add(h.m.downInterval()).Sub(h.now))
			h.expect("send 100; takeover; backup->master (preempt)")
		}},
		{"Master: Shutdown -> priority 0, release, Initialize", func(h *harness) {
			h.toMaster()
			h.m.shutdown(h.now)
			h.expect("send 0; release; master->initialize (shutdown)")
			h.advance(time.Minute)
			h.expect("")
		}},
		{"Master: Adver_Timer fires -> advert", func(h *harness) {
			h.toMaster()
			h.expectAt(iv, "send 100")
			h.advance(3 * iv)
			h.expect("send 100; send 100; send 100")
		}},
		{"Master: priority 0 received -> advert at once, reset Adver_Timer", func(h *harness) {
			h.toMaster()
			h.advance(iv / 2)
			h.advert(peerHigh, 0, iv)
			h.expect("send 100")
			h.expectAt(iv, "send 100")
		}},
		{"Master: higher priority -> Backup", func(h *harness) {
			h.toMaster()
			h.advert(peerLow, 101, iv)
			h.expect("release; master->backup (higher priority advert)")
			h.advance(h.m.downInterval())
			h.expect("send 100; takeover; backup->master (master-down timer)")
		}},
		{"Master: equal priority, higher address -> Backup", func(h *harness) {
			h.toMaster()
			h.advert(peerHigh, 100, iv)
			h.expect("release; master->backup (higher priority advert)")
		}},
		{"Master: equal priority, lower address -> discard", func(h *harness) {
			h.toMaster()
			h.advert(peerLow, 100, iv)
			h.expect("")
			h.expectState(StateMaster)
		}},
		{"Master: lower priority -> discard", func(h *harness) {
			h.toMaster()
			h.advert(peerHigh, 99, iv)
			h.expect("")
			h.expectState(StateMaster)
		}},
	}
	for _, version := range []int{2, 3} {
		for _, row := range rows {
			t.Run(fmt.Sprintf("v%d/%s", version, row.name), func(t *testing.T) {
				row.run(newHarness(t, version, iv, 100, nil))
			})
		}
	}
}

// A v3 backup adopts the master's interval for Master_Down_Interval; a v2
// backup never needs to (the filter rejects another interval).
func TestLearnInterval(t *testing.T) {
	h := newHarness(t, 3, time.Second, 99, nil)
	h.toBackup()
	h.advance(100 * time.Millisecond)
	h.advert(peerHigh, 100, 20*time.Millisecond)
	if h.m.masterInterval != 20*time.Millisecond {
		t.Fatalf("master interval %v", h.m.masterInterval)
	}
	want := 60*time.Millisecond + 20*time.Millisecond*157/256
	if got := h.m.downInterval(); got != want {
		t.Fatalf("down interval %v, want %v", got, want)
	}
	h.advance(want)
	h.expect("send 99; takeover; backup->master (master-down timer)")
	// As master it advertises its own interval, not the learned one.
	h.advance(time.Second)
	h.expect("send 99")
}

func TestPreemptDelay(t *testing.T) {
	const iv = time.Second
	h := newHarness(t, 3, iv, 100, func(c *machineConfig) { c.PreemptDelay = 10 * time.Second })
	h.toBackup()
	start := h.now
	// A lower-priority master keeps advertising: its adverts are accepted
	// for the delay, then discarded, and the down timer fires.
	for h.m.state == StateBackup && h.now.Sub(start) < 30*time.Second {
		h.advance(iv)
		if h.m.state == StateBackup {
			h.advert(peerHigh, 99, iv)
		}
	}
	h.expect("send 100; takeover; backup->master (preempt)")
	// First advert at +1 s, delay 10 s, then up to Master_Down_Interval.
	if d := h.now.Sub(start); d < 11*time.Second || d > 11*time.Second+h.m.downInterval()+iv {
		t.Fatalf("preempted after %v", d)
	}

	// The delay restarts when we stop outranking the master.
	h = newHarness(t, 3, iv, 100, func(c *machineConfig) { c.PreemptDelay = 5 * time.Second })
	h.toBackup()
	for i := range 30 {
		h.advance(iv)
		prio := uint8(99)
		if i%4 == 3 {
			prio = 150 // the master's priority flaps back above ours
		}
		h.advert(peerHigh, prio, iv)
	}
	h.expect("")
	h.expectState(StateBackup)
}

func TestResign(t *testing.T) {
	const iv = time.Second
	t.Run("new master heard", func(t *testing.T) {
		h := newHarness(t, 3, iv, 100, nil)
		h.toMaster()
		h.m.resign(h.now)
		h.expect("send 0")
		h.expectState(StateMaster)
		// Still master, still priority 0 each interval, addresses kept.
		h.advance(iv)
		h.expect("send 0")
		h.advert(peerHigh, 99, iv)
		h.expectAt(h.m.cfg.ResignGrace, "release; master->initialize (resigned)")
		if !h.m.resigned {
			t.Fatal("not resigned")
		}
		h.advance(time.Minute)
		h.expect("")
	})
	t.Run("priority 0 echoes ignored", func(t *testing.T) {
		h := newHarness(t, 3, iv, 100, nil)
		h.toMaster()
		h.m.resign(h.now)
		h.advert(peerHigh, 0, iv)
		h.expect("send 0")
		h.expectState(StateMaster)
	})
	t.Run("timeout", func(t *testing.T) {
		h := newHarness(t, 3, iv, 100, nil)
		h.toMaster()
		h.m.resign(h.now)
		h.advance(h.m.cfg.ResignTimeout - time.Nanosecond)
		h.expect("send 0; send 0; send 0; send 0; send 0")
		h.advance(time.Nanosecond)
		h.expect("release; master->initialize (resigned)")
	})
	t.Run("backup", func(t *testing.T) {
		h := newHarness(t, 3, iv, 100, nil)
		h.toBackup()
		h.m.resign(h.now)
		h.expect("backup->initialize (resigned)")
		if !h.m.resigned {
			t.Fatal("not resigned")
		}
	})
	// The peer side of a planned handover: a backup takes over after its
	// skew and the resigning master leaves after the grace; in between both
	// hold the address, so no packet is lost.
	t.Run("pair", func(t *testing.T) {
		a := newHarness(t, 3, iv, 100, nil)
		b := newHarness(t, 3, iv, 99, func(c *machineConfig) { c.Primary = peerHigh })
		a.toMaster()
		b.toBackup()
		b.advert(gw1, 100, iv)
		a.m.resign(a.now)
		a.expect("send 0")
		b.advert(gw1, 0, iv)
		b.advance(b.m.skew())
		b.expect("send 99; takeover; backup->master (priority 0 received)")
		a.advance(b.m.skew())
		a.advert(peerHigh, 99, iv)
		a.advance(a.m.cfg.ResignGrace)
		a.expect("release; master->initialize (resigned)")
	})
}

func TestStop(t *testing.T) {
	h := newHarness(t, 3, time.Second, 100, nil)
	h.toMaster()
	h.m.stop(h.now)
	h.expect("release; master->initialize (stopped)")
	h = newHarness(t, 3, time.Second, 100, nil)
	h.toBackup()
	h.m.stop(h.now)
	h.expect("backup->initialize (stopped)")
	h.m.startup(h.now)
	h.expect("initialize->backup (startup)")
}

func TestSetPriority(t *testing.T) {
	h := newHarness(t, 3, time.Second, 100, nil)
	h.toMaster()
	h.m.setPriority(h.now, 80)
	h.expect("send 80")
	h.m.setPriority(h.now, 80)
	h.expect("")
	// A backup that now outranks the master preempts.
	h = newHarness(t, 3, time.Second, 90, nil)
	h.toBackup()
	h.advance(time.Second)
	h.advert(peerHigh, 100, time.Second)
	h.m.setPriority(h.now, 120)
	h.adverts(4, peerHigh, 100, time.Second)
	h.expect("send 120; takeover; backup->master (preempt)")
}

// Split brain healing: two masters that hear each other again agree within
// one interval.
func TestSplitBrainHeal(t *testing.T) {
	a := newHarness(t, 3, time.Second, 100, nil)
	b := newHarness(t, 3, time.Second, 99, func(c *machineConfig) { c.Primary = peerHigh })
	a.toMaster()
	b.toMaster()
	b.advert(gw1, 100, time.Second)
	b.expect("release; master->backup (higher priority advert)")
	a.advert(peerHigh, 99, time.Second)
	a.expect("")
	a.expectState(StateMaster)
}
