package vrrp_test

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// Two tidegate routers on one LAN, v3 at 100 ms so that the suite is fast:
// Master_Down_Interval is 300 ms + skew.

const (
	pairInterval = 100 * time.Millisecond
	vipAddr      = "10.0.1.200"
)

func pairArgs(prio string, extra ...string) []string {
	return append([]string{"-version", "3", "-interval", pairInterval.String(), "-priority", prio,
		"-vip", vipAddr + "/24", "-garp-delay", "1s"}, extra...)
}

// startPair starts a (priority 100) and b (99) and waits for a to be master.
func startPair(t *testing.T, l *lab, aExtra, bExtra []string) (a, b *vrrpd) {
	t.Helper()
	a = startVRRPD(t, l, "a", pairArgs("100", aExtra...)...)
	b = startVRRPD(t, l, "b", pairArgs("99", bExtra...)...)
	a.waitState(0, "master", 5*time.Second)
	b.waitState(0, "backup", 5*time.Second)
	// Let b hear a few adverts: it must stay backup.
	time.Sleep(5 * pairInterval)
	if b.state() != "backup" {
		t.Fatalf("b is %s", b.state())
	}
	return a, b
}

// startB starts b (priority 99) alone in a new lab and waits for it to be
// master, for a (100) to join later.
func startB(t *testing.T) (*lab, *vrrpd) {
	t.Helper()
	l := newLab(t)
	b := startVRRPD(t, l, "b", pairArgs("99")...)
	b.waitState(0, "master", 5*time.Second)
	return l, b
}

// startElected starts a with args("100") and b with args("99"), and waits
// for a to be master and b backup.
func startElected(t testing.TB, l *lab, args func(prio string) []string) (a, b *vrrpd) {
	t.Helper()
	a = startVRRPD(t, l, "a", args("100")...)
	b = startVRRPD(t, l, "b", args("99")...)
	a.waitState(0, "master", 10*time.Second)
	b.waitState(0, "backup", 10*time.Second)
	return a, b
}

func TestPairElection(t *testing.T) {
	l := newLab(t)
	a, b := startPair(t, l, nil, nil)
	if err := l.vipOnlyOn("a"); err != nil {
		t.Fatal(err)
	}
	p := startPinger(t, l, vipAddr)
	time.Sleep(200 * time.Millisecond)
	if lost, _ := p.stop(); lost != 0 {
		t.Fatalf("lost %d pings to a stable master", lost)
	}
	sa, sb := a.status(), b.status()
	if sa.State != "master" || sa.Sent == 0 || sa.Master != "10.0.1.2" {
		t.Errorf("a status: %+v", sa)
	}
	if sb.State != "backup" || sb.Received == 0 || sb.Master != "10.0.1.2" || sb.MasterInterval != "100ms" {
		t.Errorf("b status: %+v", sb)
	}
	if len(sb.Drops) != 0 {
		t.Errorf("b dropped: %v", sb.Drops)
	}
}

// The master's box dies (its link goes silent): the backup takes over when
// its Master_Down_Timer fires, and says so.
func TestPairCrashFailover(t *testing.T) {
	l := newLab(t)
	a, b := startPair(t, l, nil, nil)
	_ = a
	n := b.count()
	p := startPinger(t, l, vipAddr)
	l.cut("a")
	cut := time.Now()
	_, ev := b.waitState(n, "master", 5*time.Second)
	if ev.Reason != "master-down timer" {
		t.Errorf("b became master for %q", ev.Reason)
	}
	// Master_Down_Interval at priority 99: 300 ms + 61 ms, plus slack for
	// a loaded CI machine.
	if d := ev.Time.Sub(cut); d > 500*time.Millisecond {
		t.Errorf("takeover %v after the cut", d)
	}
	time.Sleep(300 * time.Millisecond)
	lost, gap := p.stop()
	t.Logf("crash failover: %d pings lost, gap %v", lost, gap)
	if !l.hasVIP("b", vipAddr) {
		t.Error("b does not hold the VIP")
	}
	if gap > 500*time.Millisecond {
		t.Errorf("gap %v", gap)
	}
}

// Planned handover (SIGTERM, as on power-off): no ping is lost.
func TestPairPlannedHandover(t *testing.T) {
	l := newLab(t)
	a, b := startPair(t, l, nil, nil)
	n := b.count()
	p := startPinger(t, l, vipAddr)
	time.Sleep(100 * time.Millisecond)
	a.signal(syscall.SIGTERM)
	_, ev := b.waitState(n, "master", 5*time.Second)
	if ev.Reason != "priority 0 received" {
		t.Errorf("b became master for %q", ev.Reason)
	}
	_, aev := a.waitState(0, "initialize", 5*time.Second)
	if aev.Reason != "resigned" {
		t.Errorf("a left for %q", aev.Reason)
	}
	if aev.Time.Before(ev.Time) {
		t.Errorf("a released the VIP at %v, before b took over at %v", aev.Time, ev.Time)
	}
	a.wait(5 * time.Second)
	time.Sleep(300 * time.Millisecond)
	lost, gap := p.stop()
	if lost != 0 {
		t.Errorf("planned handover lost %d pings (gap %v)", lost, gap)
	}
	if err := l.vipOnlyOn("b"); err != nil {
		t.Error(err)
	}
}

// A higher-priority router that comes up later preempts.
func TestPairPreempt(t *testing.T) {
	l, b := startB(t)
	n := b.count()
	start := time.Now()
	a := startVRRPD(t, l, "a", pairArgs("100")...)
	_, ev := a.waitState(0, "master", 5*time.Second)
	if ev.Reason != "preempt" {
		t.Errorf("a became master for %q", ev.Reason)
	}
	_, bev := b.waitState(n, "backup", 5*time.Second)
	if bev.Reason != "higher priority advert" || bev.Peer != "10.0.1.2" {
		t.Errorf("b became backup: %+v", bev)
	}
	t.Logf("preempted %v after start", ev.Time.Sub(start))
	time.Sleep(3 * pairInterval)
	if err := l.vipOnlyOn("a"); err != nil {
		t.Error(err)
	}
}

func TestPairNoPreempt(t *testing.T) {
	l, b := startB(t)
	a := startVRRPD(t, l, "a", pairArgs("100", "-preempt=false")...)
	a.waitState(0, "backup", 5*time.Second)
	time.Sleep(10 * pairInterval)
	if a.state() != "backup" || b.state() != "master" {
		t.Fatalf("a %s, b %s", a.state(), b.state())
	}
}

func TestPairPreemptDelay(t *testing.T) {
	const delay = time.Second
	l, _ := startB(t)
	start := time.Now()
	a := startVRRPD(t, l, "a", pairArgs("100", "-preempt-delay", delay.String())...)
	_, ev := a.waitState(0, "master", 5*time.Second)
	took := ev.Time.Sub(start)
	t.Logf("preempted %v after start with a %v delay", took, delay)
	if ev.Reason != "preempt" || took < delay {
		t.Fatalf("a became master for %q after %v", ev.Reason, took)
	}
}

// Tracking: a gateway that loses its AWS path lowers its priority and the
// peer preempts; when the path is back it takes over again.
func TestPairTrack(t *testing.T) {
	l := newLab(t)
	a, b := startPair(t, l, nil, nil)
	n, na0 := b.count(), a.count()
	a.command("track aws -20")
	_, ev := b.waitState(n, "master", 5*time.Second)
	if ev.Reason != "preempt" {
		t.Errorf("b became master for %q", ev.Reason)
	}
	// a steps down when b's first advert as master arrives, a moment after
	// b's own transition.
	a.waitState(na0, "backup", 5*time.Second)
	if s := a.status(); s.EffectivePriority != 80 || s.State != "backup" {
		t.Errorf("a: %+v", s)
	}
	na := a.count()
	a.command("track aws 0")
	_, ev = a.waitState(na, "master", 5*time.Second)
	if ev.Reason != "preempt" {
		t.Errorf("a became master again for %q", ev.Reason)
	}
}

// Split brain: cut the VLAN so both become master, then heal: exactly one
// master within one interval. At 1 s, so that "one interval" is not at the
// mercy of scheduling on a loaded machine.
func TestPairSplitBrainHeal(t *testing.T) {
	const iv = time.Second
	l := newLab(t)
	args := func(prio string) []string {
		return []string{"-version", "3", "-interval", iv.String(), "-priority", prio, "-vip", vipAddr + "/24"}
	}
	a, b := startElected(t, l, args)
	n := b.count()
	l.cut("b")
	b.waitState(n, "master", 10*time.Second)
	if a.state() != "master" || !l.hasVIP("a", vipAddr) || !l.hasVIP("b", vipAddr) {
		t.Fatalf("not split: a %s, b %s", a.state(), b.state())
	}
	n = b.count()
	na := a.count()
	l.heal("b")
	healed := time.Now()
	_, ev := b.waitState(n, "backup", 5*time.Second)
	if d := ev.Time.Sub(healed); d > iv+100*time.Millisecond {
		t.Errorf("two masters for %v after the heal (interval %v)", d, iv)
	}
	time.Sleep(2 * iv)
	if a.state() != "master" || b.state() != "backup" || a.count() != na {
		t.Errorf("after heal: a %s, b %s, a changed %d times", a.state(), b.state(), a.count()-na)
	}
	if err := l.vipOnlyOn("a"); err != nil {
		t.Error(err)
	}
}

// The RFC virtual MAC: the VLAN's ARP entry for the VIP is
// 00:00:5e:00:01:0a and stays so across a failover.
func TestPairVirtualMAC(t *testing.T) {
	l := newLab(t)
	a, b := startPair(t, l, []string{"-vmac"}, []string{"-vmac"})
	_ = a
	p := startPinger(t, l, vipAddr)
	neigh := l.Run("ip", "-n", l.ns("c"), "neigh", "show", vipAddr)
	if want := "00:00:5e:00:01:0a"; !strings.Contains(neigh, want) {
		t.Fatalf("client's ARP entry %q, want %s", neigh, want)
	}
	n := b.count()
	l.cut("a")
	b.waitState(n, "master", 5*time.Second)
	time.Sleep(300 * time.Millisecond)
	lost, gap := p.stop()
	t.Logf("virtual MAC failover: %d lost, gap %v", lost, gap)
	if gap > 500*time.Millisecond {
		t.Errorf("gap %v", gap)
	}
	if neigh := l.Run("ip", "-n", l.ns("c"), "neigh", "show", vipAddr); !strings.Contains(neigh, "00:00:5e:00:01:0a") {
		t.Errorf("client's ARP entry after failover %q", neigh)
	}
	if !l.hasVIP("b", vipAddr) {
		t.Error("b does not hold the VIP")
	}
}

// A link flap on the backup does not stop its router: it times out while
// deaf, and steps back when it hears the master again.
func TestPairLinkFlap(t *testing.T) {
	l := newLab(t)
	a, b := startPair(t, l, nil, nil)
	n := b.count()
	l.Run("ip", "-n", l.ns("b"), "link", "set", "dev", "eth1", "down")
	b.waitState(n, "master", 5*time.Second)
	time.Sleep(3 * pairInterval)
	n = b.count()
	l.Run("ip", "-n", l.ns("b"), "link", "set", "dev", "eth1", "up")
	b.waitState(n, "backup", 5*time.Second)
	time.Sleep(5 * pairInterval)
	if a.state() != "master" || b.state() != "backup" {
		t.Fatalf("a %s, b %s", a.state(), b.state())
	}
	if s := b.status(); s.Received == 0 {
		t.Fatalf("b: %+v", s)
	}
}
