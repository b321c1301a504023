package lab

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidegate/tidegate/internal/testgate"
	"github.com/tidegate/tidegate/qemu"
)

// TestBootBenchmark times boot to ready for tidegate and the seed
// article's stack, booted alternately in one lab (gw-1 runs tidegate, gw-2
// the seed stack, one at a time, each from its disk through SeaBIOS and
// GRUB; which one boots first alternates), and splits each boot at the
// kernel's start and at the init's:
//
//	TIDEGATE_LAB_BENCH=1 go test ./qemu/lab -run TestBootBenchmark -v -timeout 40m
//
// Ready is what TestBenchmark measures: QEMU start to both of the
// gateway's BGP sessions Established at AWS. The kernel's start is read
// from the console: the line that says how long after the kernel booted it
// was printed (tidegate's "boot timeline" step=gateway, the seed init's
// "init at"), taken from the time the line arrived. TIDEGATE_BOOT_RUNS
// sets the boots per stack (3). It prints a table and asserts nothing but
// that each boot gets ready.
func TestBootBenchmark(t *testing.T) {
	testgate.OptIn(t, "TIDEGATE_LAB_BENCH", "a benchmark")
	runs := 3
	if n, err := strconv.Atoi(os.Getenv("TIDEGATE_BOOT_RUNS")); err == nil && n > 0 {
		runs = n
	}
	site, err := LabSiteFrom("seed-keepalived-v2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	l, ctx := startLab(t, Options{SiteYAML: site, SeedStack: []string{"vpn-gw-2"}, Later: []string{"vpn-gw-1", "vpn-gw-2"}}, 30*time.Minute)
	if _, err := l.AWS.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	stacks := []struct {
		name  string
		gw    *Gateway
		clock *regexp.Regexp // a console line giving seconds since the kernel booted
		init  string         // that line is: "init" or "gateway" (tidegate: init comes from /status)
	}{
		{"tidegate", l.Gateway("vpn-gw-1"), regexp.MustCompile(`step=gateway since_boot=([0-9.]+)(m?s)`), "gateway"},
		{"seed stack", l.Gateway("vpn-gw-2"), regexp.MustCompile(`seedstack: init at ([0-9.]+) s`), "init"},
	}
	results := map[string][]bootTimes{}
	for i := 0; i < runs; i++ {
		order := slices.Clone(stacks)
		if i%2 == 1 { // neither stack always boots first, into a lab just settled
			slices.Reverse(order)
		}
		for _, s := range order {
			bt := bootOnce(ctx, t, l, s.gw, s.clock)
			if s.init == "gateway" {
				if d, _, err := l.GatewayStatus(ctx, s.gw); err == nil {
					for _, m := range d.Boot {
						if m.Name == "init" {
							bt.init = bt.kernel + seconds(m.Seconds)
						}
					}
					t.Logf("%s boot %d timeline: %v", s.name, i+1, d.Boot)
				}
			} else {
				bt.init = bt.kernel + bt.clockLine
			}
			t.Logf("%s boot %d: kernel %.2f s, init %.2f s, ready %.2f s", s.name, i+1,
				bt.kernel.Seconds(), bt.init.Seconds(), bt.ready.Seconds())
			results[s.name] = append(results[s.name], bt)
			s.gw.VM.Kill()
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nmedian of %d boots, seconds since QEMU start\n%-11s %-9s %-9s %-9s %s\n", runs, "stack", "kernel", "init", "ready", "ready, each boot")
	for _, s := range stacks {
		r := results[s.name]
		var each []string
		for _, bt := range r {
			each = append(each, fmt.Sprintf("%.1f", bt.ready.Seconds()))
		}
		fmt.Fprintf(&b, "%-11s %-9.2f %-9.2f %-9.2f %s\n", s.name,
			median(r, func(bt bootTimes) time.Duration { return bt.kernel }).Seconds(),
			median(r, func(bt bootTimes) time.Duration { return bt.init }).Seconds(),
			median(r, func(bt bootTimes) time.Duration { return bt.ready }).Seconds(), strings.Join(each, " "))
	}
	td := median(results["tidegate"], func(bt bootTimes) time.Duration { return bt.ready })
	sd := median(results["seed stack"], func(bt bootTimes) time.Duration { return bt.ready })
	fmt.Fprintf(&b, "tidegate / seed stack, ready: %.2f×\n", td.Seconds()/sd.Seconds())
	t.Log(b.String())
}

// bootTimes are one boot's steps, since its QEMU started.
type bootTimes struct {
	kernel    time.Duration // the kernel began
	clockLine time.Duration // the console's clock line, since the kernel began
	init      time.Duration // the init began
	ready     time.Duration // both BGP sessions Established at AWS
}

// bootOnce boots g once AWS holds none of its sessions (a killed gateway's
// stay Established until AWS's hold timer ends), and times it.
func bootOnce(ctx context.Context, t *testing.T, l *Lab, g *Gateway, clock *regexp.Regexp) bootTimes {
	t.Helper()
	gw, err := l.Site.Gateway(g.Name)
	if err != nil {
		t.Fatal(err)
	}
	tunnels := make([]string, 0, 2)
	for _, tu := range gw.Tunnels {
		tunnels = append(tunnels, g.Name+"/"+tu.Name)
	}
	established := func() int {
		m, _ := l.AWSSessions(ctx)
		n := 0
		for _, name := range tunnels {
			if m[name].State == "Established" {
				n++
			}
		}
		return n
	}
	waitUntil(ctx, t, g.Name+"'s sessions down at AWS", func() bool { return established() == 0 })
	if err := l.BootGateway(g, qemu.Image()); err != nil {
		t.Fatal(err)
	}
	var bt bootTimes
	clocked := make(chan struct{})
	go func() {
		defer close(clocked)
		line, _, err := g.VM.WaitFor(ctx, 0, clock)
		at := time.Since(g.VM.Started)
		if err != nil {
			return
		}
		m := clock.FindStringSubmatch(line)
		v, _ := strconv.ParseFloat(m[1], 64)
		if len(m) > 2 && m[2] == "ms" {
			v /= 1000
		}
		bt.clockLine = seconds(v)
		bt.kernel = at - bt.clockLine
	}()
	for established() < len(tunnels) {
		if ctx.Err() != nil {
			t.Fatalf("%s never got its BGP sessions up", g.Name)
		}
		time.Sleep(200 * time.Millisecond)
	}
	bt.ready = time.Since(g.VM.Started)
	<-clocked
	return bt
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func median(r []bootTimes, f func(bootTimes) time.Duration) time.Duration {
	v := make([]time.Duration, 0, len(r))
	for _, bt := range r {
		v = append(v, f(bt))
	}
	slices.Sort(v)
	if len(v) == 0 {
		return 0
	}
	return v[len(v)/2]
}
