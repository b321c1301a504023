package vrrp_test

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mdlayher/packet"
	"github.com/tidegate/tidegate/internal/netnstest"
	"github.com/tidegate/tidegate/internal/testgate"
)

// TestFailoverBenchmark measures, side by side, the traffic gap a client
// pinging the VIP every 10 ms sees when the master (a, priority 100) goes
// away and the backup (b, priority 99) takes over, for tidegate and for
// Debian's keepalived, VRRPv3, at several advert intervals:
//
//   - crash: the master's link goes silent (its bridge port is detached);
//   - planned: the master is stopped with SIGTERM (power-off, reimage).
//
// It prints a table. It takes a few minutes, so it runs only when asked:
//
//	TGVRRP_BENCH=1 go test ./services/vrrp -run TestFailoverBenchmark -v -timeout 30m
//
// TGVRRP_BENCH_TRIALS sets the trials per cell [3], TGVRRP_BENCH_INTERVALS
// the intervals [1s,100ms,20ms]. The master is cut or
// stopped half an interval after one of its adverts, the same phase for
// both implementations.
func TestFailoverBenchmark(t *testing.T) {
	testgate.OptIn(t, "TGVRRP_BENCH", "a benchmark of a few minutes")
	netnstest.NeedRoot(t)
	needKeepalived(t)
	trials := 3
	if s := os.Getenv("TGVRRP_BENCH_TRIALS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("TGVRRP_BENCH_TRIALS=%q", s)
		}
		trials = n
	}
	type cell struct {
		impl, scenario string
		interval       time.Duration
		gaps           []time.Duration
		lost           []int
	}
	var cells []*cell
	intervals := []time.Duration{time.Second, 100 * time.Millisecond, 20 * time.Millisecond}
	if s := os.Getenv("TGVRRP_BENCH_INTERVALS"); s != "" {
		intervals = nil
		for _, f := range strings.Split(s, ",") {
			d, err := time.ParseDuration(f)
			if err != nil {
				t.Fatalf("TGVRRP_BENCH_INTERVALS=%q: %v", s, err)
			}
			intervals = append(intervals, d)
		}
	}
	for _, iv := range intervals {
		for _, scenario := range []string{"crash", "planned"} {
			for _, impl := range []string{"tidegate", "keepalived"} {
				c := &cell{impl: impl, scenario: scenario, interval: iv}
				cells = append(cells, c)
				for i := range trials {
					var lost int
					var gap time.Duration
					t.Run(fmt.Sprintf("%s/%v/%s/%d", impl, iv, scenario, i), func(t *testing.T) {
						lost, gap = failoverTrial(t, impl, scenario, iv)
					})
					c.gaps = append(c.gaps, gap)
					c.lost = append(c.lost, lost)
				}
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nFailover gap seen by a client pinging the VIP every 10 ms (VRRPv3, priorities 100/99, %d trials per row)\n\n", trials)
	fmt.Fprintf(&b, "| interval | scenario | implementation | gap mean | gap min..max | lost pings (mean) |\n")
	fmt.Fprintf(&b, "|---|---|---|---|---|---|\n")
	for _, c := range cells {
		var sum time.Duration
		lost := 0
		for i, g := range c.gaps {
			sum += g
			lost += c.lost[i]
		}
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		fmt.Fprintf(&b, "| %v | %s | %s | %.0f ms | %.0f..%.0f ms | %.1f |\n", c.interval, c.scenario, c.impl,
			ms(sum/time.Duration(len(c.gaps))), ms(slices.Min(c.gaps)), ms(slices.Max(c.gaps)),
			float64(lost)/float64(len(c.lost)))
	}
	fmt.Print(b.String())
	t.Log(b.String())
}

// failoverTrial runs one master/backup pair of impl at interval, starts the
// pinger, makes the master go away and returns the lost pings and the gap.
func failoverTrial(t *testing.T, impl, scenario string, iv time.Duration) (int, time.Duration) {
	l := newLab(t)
	var (
		waitBackupMaster func(from int)
		backupLines      func() int
		plannedStop      func()
	)
	switch impl {
	case "tidegate":
		args := func(prio string) []string {
			return []string{"-version", "3", "-interval", iv.String(), "-priority", prio, "-vip", vipAddr + "/32"}
		}
		a, b := startElected(t, l, args)
		waitBackupMaster = func(from int) { b.waitState(from, "master", 10*time.Second) }
		backupLines = b.count
		plannedStop = func() { a.signal(syscall.SIGTERM) }
	case "keepalived":
		a := startKeepalived(t, l, "a", v3Conf("MASTER", 100, iv))
		b := startKeepalived(t, l, "b", v3Conf("BACKUP", 99, iv))
		a.waitState(0, "master", 10*time.Second)
		b.waitState(0, "backup", 10*time.Second)
		waitBackupMaster = func(from int) { b.waitState(from, "master", 10*time.Second) }
		backupLines = b.count
		plannedStop = func() { a.signal(syscall.SIGTERM) }
	}
	// Settle, then act half an interval after one of the master's adverts,
	// so that both implementations are hit at the same phase and the gaps
	// compare like for like.
	time.Sleep(3*iv + 200*time.Millisecond)
	p := startPinger(t, l, vipAddr)
	w := watchAdverts(t, l.ns("c"))
	time.Sleep(200 * time.Millisecond)
	w.wait(t, "10.0.1.2", 5*time.Second)
	time.Sleep(iv / 2)
	n := backupLines()
	switch scenario {
	case "crash":
		l.cut("a")
	case "planned":
		plannedStop()
	}
	waitBackupMaster(n)
	time.Sleep(500*time.Millisecond + iv)
	lost, gap := p.stop()
	t.Logf("%s %v %s: %d lost, gap %v", impl, iv, scenario, lost, gap)
	return lost, gap
}

// advertWatcher reads VRRP adverts on eth1 of a namespace from a packet
// socket opened inside it.
type advertWatcher struct{ c *packet.Conn }

// watchAdverts opens the socket inside ns, which binds it to ns for good.
func watchAdverts(t *testing.T, ns string) *advertWatcher {
	t.Helper()
	var c *packet.Conn
	if err := netnstest.In(ns, func() error {
		ifi, err := net.InterfaceByName("eth1")
		if err != nil {
			return err
		}
		c, err = packet.Listen(ifi, packet.Datagram, 0x0800, nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &advertWatcher{c: c}
}

// wait returns when an advert from src arrives.
func (w *advertWatcher) wait(t *testing.T, src string, timeout time.Duration) {
	t.Helper()
	want := netip.MustParseAddr(src).As4()
	deadline := time.Now().Add(timeout)
	_ = w.c.SetReadDeadline(deadline)
	buf := make([]byte, 1500)
	for {
		n, _, err := w.c.ReadFrom(buf)
		if err != nil {
			t.Fatalf("waiting for an advert from %s: %v", src, err)
		}
		if n >= 20 && buf[9] == 112 && [4]byte(buf[12:16]) == want {
			return
		}
	}
}
