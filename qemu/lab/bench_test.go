package lab

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidegate/tidegate/internal/netnstest"
	"github.com/tidegate/tidegate/qemu"
)

// TestBenchmark compares tidegate with the seed article's stack in the
// lab, the same way for both: boot-to-ready of a gateway (QEMU start to
// both its BGP sessions up at AWS, booted from its disk through SeaBIOS and
// GRUB), memory in use inside each guest, and the gap in VLAN host -> VPC
// replies when the master's VM is killed (case 2) and when it is shut down
// as for a reimage (case 6), at VRRP advert intervals of 1 s and 100 ms.
// It prints a table and asserts nothing; it takes about 8 minutes:
//
//	TIDEGATE_LAB_BENCH=1 go test ./qemu/lab -run TestBenchmark -v -timeout 40m
//
// gw-2 boots once gw-1's paths are AWS's choice, so that AWS sends to the
// master when it dies; with the seed's stack (no prepend) which gateway AWS
// prefers is otherwise a tie broken by whichever path came first.
func TestBenchmark(t *testing.T) {
	if os.Getenv("TIDEGATE_LAB_BENCH") == "" {
		t.Skip("a benchmark: set TIDEGATE_LAB_BENCH=1")
	}
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
	fmt.Fprintf(&b, "\n%-10s %-6s %-14s %-16s %-10s %-28s %s\n", "stack", "advert", "boot to ready", "memory gw-1/gw-2", "crash gap", "AWS sent to / more-specifics", "planned reimage")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-10s %-6s %-14s %-16s %-10s %-28s %s\n", r.stack, r.advert,
			fmt.Sprintf("%.1f s", r.ready.Seconds()), fmt.Sprintf("%.0f/%.0f MiB", r.mem[0], r.mem[1]),
			fmt.Sprintf("%.2f s", r.crashGap.Seconds()), fmt.Sprintf("%s / %d", r.awsVia, r.moreSpecifics),
			fmt.Sprintf("%d lost, gap %.0f ms", r.plannedLost, float64(r.plannedGap.Microseconds())/1000))
	}
	t.Log(b.String())
}

type benchRow struct {
	stack, advert string
	ready         time.Duration // gw-1's QEMU start to its tunnels and eBGP up at AWS
	mem           [2]float64    // MiB in use inside gw-1 and gw-2
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
	l := startLab(t, o)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	gw1, gw2 := l.Gateway("vpn-gw-1"), l.Gateway("vpn-gw-2")

	// Boot-to-ready: from gw-1's QEMU start, AWS ready and waiting, until
	// AWS has both of gw-1's BGP sessions (over its tunnels) established.
	if _, err := l.AWS.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.BootGateway(gw1, qemu.Image()); err != nil {
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
	if err := l.BootGateway(gw2, qemu.Image()); err != nil {
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

	// Case 2: the master's VM dies.
	p := pinging(ctx, t, l, 100)
	start := time.Now()
	gw1.VM.Kill()
	waitFor(ctx, t, l, "VIP on gw-2", func(s State) bool { return s.VIPOwner == "vpn-gw-2" })
	if err := p.WaitReplies(ctx, p.Replies()+200); err != nil {
		t.Fatal(err)
	}
	row.crashGap, _ = p.LongestGap(start)
	row.moreSpecifics = l.State(ctx).MoreSpecifics
	p.Stop()

	// Case 6: gw-1 back, then shut down as a reimage does.
	if err := l.BootGateway(gw1, qemu.Image()); err != nil {
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
