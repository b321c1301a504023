package lab

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidegate/tidegate/internal/netnstest"
	"github.com/tidegate/tidegate/internal/testgate"
	"github.com/tidegate/tidegate/qemu"
	"github.com/tidegate/tidegate/qemu/awspeer"
	"github.com/tidegate/tidegate/services/status"
)

// TestBenchmark compares tidegate with the seed article's stack in the
// lab, the same way for both: boot-to-ready of a gateway (QEMU start to
// both its BGP sessions up at AWS, booted from its disk through SeaBIOS and
// GRUB), memory in use inside each guest, each idle VM's host CPU (the pair
// up, no traffic, for a minute: VRRP, BGP keepalives and each stack's own
// timers, all of which wake an emulated CPU), and the gap in VLAN host -> VPC
// replies when the master's VM is killed (case 2) and when it is shut down
// as for a reimage (case 6), at VRRP advert intervals of 1 s and 100 ms.
// It prints a table and asserts nothing; it takes about 10 minutes:
//
//	TIDEGATE_LAB_BENCH=1 go test ./qemu/lab -run TestBenchmark -v -timeout 40m
//
// gw-2 boots once gw-1's paths are AWS's choice, so that AWS sends to the
// master when it dies; with the seed's stack (no prepend) which gateway AWS
// prefers is otherwise a tie broken by whichever path came first.
func TestBenchmark(t *testing.T) {
	testgate.OptIn(t, "TIDEGATE_LAB_BENCH", "a benchmark")
	netnstest.NeedRoot(t)
	v2, err := LabSiteFrom("seed-keepalived-v2.yaml") // the article's VRRP: v2, 1 s, PASS
	if err != nil {
		t.Fatal(err)
	}
	v3, err := LabSite() // VRRP v3, which keepalived needs for 100 ms
	if err != nil {
		t.Fatal(err)
	}
	fast := []byte(strings.Replace(string(v3), "advert_interval: 1s", "advert_interval: 100ms", 1))
	runs := []struct {
		stack  string
		advert string
		site   []byte
	}{
		{"tidegate", "1s", v2}, {"seed stack", "1s", v2},
		{"tidegate", "100ms", fast}, {"seed stack", "100ms", fast},
	}
	var rows []benchRow
	for _, r := range runs {
		t.Run(r.stack+" "+r.advert, func(t *testing.T) {
			row := benchRow{stack: r.stack, advert: r.advert}
			benchOne(t, r.site, r.stack == "seed stack", &row)
			t.Logf("%+v", row)
			rows = append(rows, row)
		})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-10s %-6s %-14s %-16s %-16s %-10s %-28s %s\n", "stack", "advert", "boot to ready", "memory gw-1/gw-2", "idle CPU gw-1/-2", "crash gap", "AWS sent to / more-specifics", "planned reimage")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-10s %-6s %-14s %-16s %-16s %-10s %-28s %s\n", r.stack, r.advert,
			fmt.Sprintf("%.1f s", r.ready.Seconds()), fmt.Sprintf("%.0f/%.0f MiB", r.mem[0], r.mem[1]),
			fmt.Sprintf("%.1f/%.1f %%", r.idle[0], r.idle[1]),
			fmt.Sprintf("%.2f s", r.crashGap.Seconds()), fmt.Sprintf("%s / %d", r.awsVia, r.moreSpecifics),
			fmt.Sprintf("%d lost, gap %.0f ms", r.plannedLost, float64(r.plannedGap.Microseconds())/1000))
	}
	t.Log(b.String())
}

type benchRow struct {
	stack, advert string
	ready         time.Duration // gw-1's QEMU start to its tunnels and eBGP up at AWS
	mem           [2]float64    // MiB in use inside gw-1 and gw-2
	idle          [2]float64    // gw-1's and gw-2's VM, idle: host CPU, % of a core
	awsVia        string        // where AWS sent the VLAN prefix before the crash
	crashGap      time.Duration
	moreSpecifics int // at AWS once traffic flows again after the crash
	plannedLost   int
	plannedGap    time.Duration
}

func benchOne(t *testing.T, site []byte, seed bool, row *benchRow) {
	o := Options{SiteYAML: site, Later: []string{"vpn-gw-1", "vpn-gw-2"}}
	if seed {
		o.SeedStack = []string{"vpn-gw-1", "vpn-gw-2"}
	}
	l, ctx := startLab(t, o, 10*time.Minute)
	gw1, gw2 := l.Gateway("vpn-gw-1"), l.Gateway("vpn-gw-2")

	// Boot-to-ready: from gw-1's QEMU start, AWS ready and waiting, until
	// AWS has both of gw-1's BGP sessions (over its tunnels) established.
	if _, err := l.AWS.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.BootGateway(gw1); err != nil {
		t.Fatal(err)
	}
	for {
		m, _ := l.AWSSessions(ctx)
		if m["vpn-gw-1/vpn-1a"].State == "Established" && m["vpn-gw-1/vpn-1b"].State == "Established" {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("gw-1 never got its BGP sessions up")
		}
		time.Sleep(200 * time.Millisecond)
	}
	row.ready = time.Since(gw1.VM.Started)
	t.Logf("gw-1 ready %.1f s after its QEMU started", row.ready.Seconds())
	if err := l.BootGateway(gw2); err != nil {
		t.Fatal(err)
	}
	s := waitFor(ctx, t, l, "both gateways up, VIP on gw-1", func(s State) bool {
		return s.Ready(4) && s.VIPOwner == "vpn-gw-1"
	})
	row.awsVia = s.BestVia
	time.Sleep(5 * time.Second)
	for i, g := range []*Gateway{gw1, gw2} {
		m, err := l.MemoryUsed(ctx, g)
		if err != nil {
			t.Error(err)
		}
		row.mem[i] = m
	}
	idle0, idleStart := vmCPU(t, l), time.Now()
	time.Sleep(time.Minute)
	idle1, took := vmCPU(t, l), time.Since(idleStart)
	for i, name := range []string{"gw-1", "gw-2"} {
		row.idle[i] = 100 * (idle1[name] - idle0[name]).Seconds() / took.Seconds()
	}

	// Case 2: the master's VM dies.
	p := pinging(ctx, t, l, 100)
	start := time.Now()
	gw1.VM.Kill()
	waitFor(ctx, t, l, "VIP on gw-2", func(s State) bool { return s.VIPOwner == "vpn-gw-2" })
	if err := p.WaitReplies(ctx, 200); err != nil {
		t.Fatal(err)
	}
	row.crashGap, _ = p.LongestGap(start)
	row.moreSpecifics = l.State(ctx).MoreSpecifics
	p.Stop()

	// Case 6: gw-1 back, then shut down as a reimage does.
	if err := l.BootGateway(gw1); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, l, "gw-1 back and master", func(s State) bool {
		return s.Ready(4) && s.VIPOwner == "vpn-gw-1" && s.MoreSpecifics == 0
	})
	time.Sleep(3 * time.Second)
	p = pinging(ctx, t, l, 100)
	start = time.Now()
	if err := l.ShutDown(ctx, gw1, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, l, "VIP on gw-2", func(s State) bool { return s.VIPOwner == "vpn-gw-2" })
	time.Sleep(3 * time.Second)
	row.plannedLost = p.Lost(start)
	row.plannedGap, _ = p.LongestGap(start)
	if seed {
		if _, _, err := gw1.VM.WaitFor(ctx, 0, regexp.MustCompile(`seedstack: stopped`)); err != nil {
			t.Error(err)
		}
	}
}

// TestDataPlane measures what tidegate exists to do, carrying packets
// between the VLAN and the VPC, side by side with the seed article's stack
// booted the same way in the same run: iperf3 TCP from the VLAN host to the
// VPC host and back, 1 flow and 8 flows; ping RTT through the tunnels while
// the 8 flows run; and how the bytes split over the gateways and tunnels
// (the AWS peer's XFRM interface counters, the same for both stacks). QEMU
// is software-emulated here: compare ratios, not Mbit/s. It prints a table
// and asserts nothing:
//
//	TIDEGATE_LAB_BENCH=1 go test ./qemu/lab -run TestDataPlane -v -timeout 40m
func TestDataPlane(t *testing.T) {
	testgate.OptIn(t, "TIDEGATE_LAB_BENCH", "a benchmark")
	netnstest.NeedRoot(t)
	seed, err := LabSite()
	if err != nil {
		t.Fatal(err)
	}
	aa, ecmp := activeActiveSite(t, false), activeActiveSite(t, true)
	runs := []struct {
		name    string
		site    []byte
		seed    bool
		transit bool
	}{
		{"seed stack, active-standby, VGW", seed, true, false},
		{"tidegate, active-standby, VGW", seed, false, false},
		{"tidegate, active-active, VGW", aa, false, false},
		{"tidegate, active-active, TGW", ecmp, false, true},
	}
	var rows []dataRow
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			row := dataRow{name: r.name}
			dataOne(t, r.site, r.seed, r.transit, &row)
			rows = append(rows, row)
		})
	}
	t.Log("\n" + dataTable(rows))
}

// dataRow is one run's numbers. Throughput is in Mbit/s, by "up"
// (VLAN host -> VPC) and "down", 1 and 8 flows.
type dataRow struct {
	name           string
	up1, up8       float64
	down1, down8   float64
	rttP50, rttP99 time.Duration // under 8 flows up
	idleP50        time.Duration
	split          map[string]float64 // bytes by gateway and by tunnel, both directions, during the 8-flow runs
	// cpu is the host CPU each VM's QEMU used during the 8-flow upload,
	// by VM (gw-1, gw-2, aws): where the data path spends its time.
	cpu map[string]time.Duration
	// modes is gw-1's own account of the same seconds (/proc/stat), by
	// mode: softirq (forwarding, ESP), system, user (daemons).
	modes map[string]float64
}

func dataTable(rows []dataRow) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-34s %9s %9s %9s %9s %9s %15s %16s %15s %s\n", "stack", "up 1", "up 8", "down 1", "down 8", "idle RTT", "RTT p50/p99", "CPU s gw1/gw2/aws", "gw1 si/sys/usr", "bytes by gateway (tunnels)")
	var base *dataRow
	for i, r := range rows {
		if strings.HasPrefix(r.name, "seed") {
			base = &rows[i]
		}
	}
	ratio := func(v, b float64) string {
		if base == nil || b == 0 {
			return ""
		}
		return fmt.Sprintf(" %.2fx", v/b)
	}
	for _, r := range rows {
		var split []string
		for _, g := range []string{"vpn-gw-1", "vpn-gw-2"} {
			var tus []string
			for _, tu := range []string{"vpn-1a", "vpn-1b", "vpn-2a", "vpn-2b"} {
				if strings.HasPrefix(tu, "vpn-"+g[len(g)-1:]) {
					tus = append(tus, fmt.Sprintf("%.0f", r.split[tu]/1e6))
				}
			}
			split = append(split, fmt.Sprintf("%s %.0f MB (%s)", g[4:], r.split[g]/1e6, strings.Join(tus, "+")))
		}
		cpu := fmt.Sprintf("%.1f/%.1f/%.1f", r.cpu["gw-1"].Seconds(), r.cpu["gw-2"].Seconds(), r.cpu["aws"].Seconds())
		modes := fmt.Sprintf("%.1f/%.1f/%.1f", r.modes["softirq"], r.modes["system"], r.modes["user"])
		fmt.Fprintf(&b, "%-34s %9.1f %9.1f %9.1f %9.1f %9.1f %15s %16s %15s %s\n", r.name, r.up1, r.up8, r.down1, r.down8,
			ms(r.idleP50), fmt.Sprintf("%.1f/%.1f", ms(r.rttP50), ms(r.rttP99)), cpu, modes, strings.Join(split, ", "))
		if base != nil && !strings.HasPrefix(r.name, "seed") {
			fmt.Fprintf(&b, "%-34s %9s %9s %9s %9s\n", "  ratio to the seed stack", ratio(r.up1, base.up1), ratio(r.up8, base.up8),
				ratio(r.down1, base.down1), ratio(r.down8, base.down8))
		}
	}
	return b.String()
}

func dataOne(t *testing.T, site []byte, seed, transit bool, row *dataRow) {
	o := Options{SiteYAML: site, TransitGateway: transit}
	if seed {
		// As in TestBenchmark: the seed's stack does not prepend, so
		// which gateway AWS sends to is a tie broken by whose path came
		// first; gw-2 boots once gw-1's paths are AWS's choice.
		o.SeedStack, o.Later = []string{"vpn-gw-1", "vpn-gw-2"}, []string{"vpn-gw-2"}
	}
	l, ctx := startLab(t, o, 10*time.Minute)
	if seed {
		waitFor(ctx, t, l, "AWS sends to gw-1", func(s State) bool { return s.BestVia == "vpn-gw-1" })
		if err := l.BootGateway(l.Gateway("vpn-gw-2")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	// Measure the pair settled: each gateway master of its own virtual
	// IP and nobody holding the return path (a gateway that booted first
	// takes its twin's address for a while); active-standby: gw-1 master
	// and AWS's preferred path.
	if l.Site.ActiveActive() {
		for _, g := range l.Gateways {
			waitRoles(ctx, t, l, g, "master", "backup")
		}
		for _, g := range l.Gateways {
			waitStatus(ctx, t, l, g, "no return path held", func(d *status.Document) bool {
				return d.BGP != nil && d.BGP.ReturnPath == nil
			})
		}
	} else {
		waitFor(ctx, t, l, "gw-1 master and AWS's path", func(s State) bool {
			return s.VIPOwner == "vpn-gw-1" && s.BestVia == "vpn-gw-1" && s.MoreSpecifics == 0
		})
	}
	time.Sleep(3 * time.Second)

	srcs := hostAddrs()[:1]
	if l.Site.ActiveActive() {
		srcs = hostAddrs()
	}
	const secs = 10
	// run sends flows in all from the VLAN host's addresses, split evenly,
	// and returns the Mbit/s received.
	run := func(flows int, reverse bool) float64 {
		use := srcs
		if flows < len(use) {
			use = use[:flows]
		}
		var (
			mu    sync.Mutex
			total float64
			wg    sync.WaitGroup
		)
		for i, src := range use {
			wg.Go(func() {
				r, err := iperf(l, src, awspeer.IPerf3Ports[i], flows/len(use), secs*time.Second, reverse)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				total += r.received
				mu.Unlock()
			})
		}
		wg.Wait()
		return total * 8 / secs / 1e6
	}
	idle := rtts(t, l, 50)
	row.idleP50 = percentile(idle, 50)
	row.up1, row.down1 = run(1, false), run(1, true)

	before := espBytes(ctx, t, l)
	var under []time.Duration
	done := make(chan struct{})
	go func() { defer close(done); under = rtts(t, l, 40) }()
	gw1 := l.Gateway("vpn-gw-1")
	cpu, modes := vmCPU(t, l), guestCPU(ctx, t, l, gw1)
	row.up8 = run(8, false)
	row.cpu, row.modes = vmCPU(t, l), guestCPU(ctx, t, l, gw1)
	for k, v := range cpu {
		row.cpu[k] -= v
	}
	for k, v := range modes {
		row.modes[k] -= v
	}
	<-done
	row.down8 = run(8, true)
	after := espBytes(ctx, t, l)
	row.rttP50, row.rttP99 = percentile(under, 50), percentile(under, 99)
	row.split = map[string]float64{}
	for k, v := range after {
		if strings.HasSuffix(k, "/in") || strings.HasSuffix(k, "/out") {
			name := k[:strings.LastIndex(k, "/")]
			row.split[name] += v - before[k]
		}
	}
	t.Logf("%+v", *row)
}

// vmCPU is the host CPU time each of the lab's VMs has used so far, by
// gw-1, gw-2 and aws.
func vmCPU(t *testing.T, l *Lab) map[string]time.Duration {
	vms := map[string]*qemu.VM{"aws": l.AWS.VM}
	for _, g := range l.Gateways {
		vms[strings.TrimPrefix(g.Name, "vpn-")] = g.VM
	}
	m := map[string]time.Duration{}
	for name, vm := range vms {
		d, err := vm.CPUTime()
		if err != nil {
			t.Error(err)
		}
		m[name] = d
	}
	return m
}

// guestCPU is g's CPU time since boot by mode, as the guest counts it: the
// seed stack's /proc/stat through its shell, tidegate's
// tidegate_cpu_seconds_total (the same file) through /metrics.
func guestCPU(ctx context.Context, t *testing.T, l *Lab, g *Gateway) map[string]float64 {
	t.Helper()
	m := map[string]float64{}
	if g.Seed != nil {
		out, err := g.Seed.ShellOK(ctx, "head -n 1 /proc/stat")
		if err != nil {
			t.Errorf("%s /proc/stat: %v", g.Name, err)
			return m
		}
		for line := range strings.Lines(out) {
			f := strings.Fields(line)
			if len(f) < 9 || f[0] != "cpu" {
				continue
			}
			for i, mode := range []string{"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"} {
				ticks, _ := strconv.ParseFloat(f[i+1], 64)
				m[mode] = ticks / 100 // USER_HZ
			}
		}
		return m
	}
	body, err := l.GatewayMetrics(ctx, g)
	if err != nil {
		t.Errorf("%s /metrics: %v", g.Name, err)
		return m
	}
	for line := range strings.Lines(body) {
		rest, ok := strings.CutPrefix(line, `tidegate_cpu_seconds_total{mode="`)
		if !ok {
			continue
		}
		mode, value, _ := strings.Cut(rest, `"} `)
		m[mode], _ = strconv.ParseFloat(strings.TrimSpace(value), 64)
	}
	return m
}

// waitStatus waits until g's status document satisfies ok.
func waitStatus(ctx context.Context, t *testing.T, l *Lab, g *Gateway, what string, ok func(*status.Document) bool) {
	t.Helper()
	for ctx.Err() == nil {
		if d, _, err := l.GatewayStatus(ctx, g); err == nil && ok(d) {
			return
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("%s: %s: not reached", g.Name, what)
}

var rttLine = regexp.MustCompile(`time=([0-9.]+) ms`)

// rtts pings the VPC host from the VLAN host n times, 200 ms apart, and
// returns the round-trip times of the replies.
func rtts(t *testing.T, l *Lab, n int) []time.Duration {
	out, _ := l.Host.Command("ping", "-n", "-i", "0.2", "-c", strconv.Itoa(n), "-W", "2", VPCHost.String()).Output()
	var d []time.Duration
	for _, m := range rttLine.FindAllStringSubmatch(string(out), -1) {
		if v, err := strconv.ParseFloat(m[1], 64); err == nil {
			d = append(d, time.Duration(v*float64(time.Millisecond)))
		}
	}
	if len(d) < n/2 {
		t.Errorf("ping: %d of %d replies", len(d), n)
	}
	return d
}

// percentile returns the p-th percentile (nearest rank) of d.
func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := (p*len(s) + 99) / 100
	return s[max(i-1, 0)]
}

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
		// initInStatus: the init's start is /status's boot timeline's
		// (tidegate's clock line is the gateway's start); otherwise the
		// clock line is the init's.
		initInStatus bool
	}{
		{"tidegate", l.Gateway("vpn-gw-1"), regexp.MustCompile(`step=gateway since_boot=([0-9.]+)(m?s)`), true},
		{"seed stack", l.Gateway("vpn-gw-2"), regexp.MustCompile(`seedstack: init at ([0-9.]+) s`), false},
	}
	results := map[string][]bootTimes{}
	for i := 0; i < runs; i++ {
		order := slices.Clone(stacks)
		if i%2 == 1 { // neither stack always boots first, into a lab just settled
			slices.Reverse(order)
		}
		for _, s := range order {
			bt := bootOnce(ctx, t, l, s.gw, s.clock)
			if s.initInStatus {
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
	if err := l.BootGateway(g); err != nil {
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

// median is the median (percentile 50) of one step over the boots r.
func median(r []bootTimes, f func(bootTimes) time.Duration) time.Duration {
	v := make([]time.Duration, 0, len(r))
	for _, bt := range r {
		v = append(v, f(bt))
	}
	return percentile(v, 50)
}
