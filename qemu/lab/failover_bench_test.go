package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidegate/tidegate/internal/netnstest"
	"github.com/tidegate/tidegate/internal/testgate"
	"github.com/tidegate/tidegate/qemu"
	"github.com/tidegate/tidegate/qemu/awspeer"
)

// TestFailoverUnderLoad is issue 14's active-active failover with TCP
// flows running, where TestActiveActive uses pings: 8 TCP flows go up,
// 4 from each of the VLAN host's addresses (so each gateway carries its
// own four), and pings from both addresses every 50 ms. One gateway's VM
// is killed 8 s in (gw-2 against the virtual private gateway, gw-1 against
// the transit gateway, as in TestActiveActive); later it boots again and
// takes its address back, under the same load. For each address it
// reports whether all four flows lived to the end (iperf3 reports no
// error), the longest stall of any of them (0.5 s intervals in which its
// sender moved under 1 % of its median rate), and the pings' longest gap. TCP
// backs off its retransmissions while a path is dead, so the dead
// gateway's flows stall longer than its pings. It prints a table and
// fails only when a flow dies:
//
//	TIDEGATE_LAB_BENCH=1 go test ./qemu/lab -run TestFailoverUnderLoad -v -timeout 40m
func TestFailoverUnderLoad(t *testing.T) {
	testgate.OptIn(t, "TIDEGATE_LAB_BENCH", "a benchmark")
	netnstest.NeedRoot(t)
	aa, err := LabSiteFrom("seed-active-active.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ecmp := []byte(strings.Replace(string(aa), "  backup_prepend: 2\n", "  ecmp: true\n", 1))
	var rows []string
	for _, r := range []struct {
		name    string
		site    []byte
		transit bool
	}{{"active-active, VGW", aa, false}, {"active-active, TGW", ecmp, true}} {
		t.Run(r.name, func(t *testing.T) {
			rows = append(rows, failoverUnderLoad(t, r.name, r.site, r.transit)...)
		})
	}
	t.Logf("\n%-20s %-22s %-8s %-10s %-12s %s\n%s", "mode", "event", "address", "flows", "flow stall", "ping gap", strings.Join(rows, "\n"))
}

// failoverUnderLoad runs one mode and returns its table rows.
func failoverUnderLoad(t *testing.T, mode string, site []byte, transit bool) []string {
	l, ctx := startLab(t, Options{SiteYAML: site, TransitGateway: transit}, 10*time.Minute)
	if _, err := l.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	for _, g := range l.Gateways {
		waitRoles(ctx, t, l, g, "master", "backup")
	}
	gw1, gw2 := l.Gateway("vpn-gw-1"), l.Gateway("vpn-gw-2")
	dead, survivor := gw2, gw1
	if transit {
		dead, survivor = gw1, gw2
	}
	// The lower address routes through gw-1's virtual IP, the upper
	// through gw-2's.
	addrs := []string{HostAddr.Addr().String(), HostAddrUpper.Addr().String()}
	owner := map[string]*Gateway{addrs[0]: gw1, addrs[1]: gw2}

	var rows []string
	run := func(event string, secs int, at time.Duration, act func()) {
		var pingers []*Pinger
		for _, src := range addrs {
			p, err := l.StartPingerFrom(src, VPCHost.String(), 50*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Stop()
			if err := p.WaitReplies(ctx, 20); err != nil {
				t.Fatal(err)
			}
			pingers = append(pingers, p)
		}
		type result struct {
			intervals [][]float64
			err       error
		}
		results := make([]chan result, len(addrs))
		started := time.Now()
		for i, src := range addrs {
			results[i] = make(chan result, 1)
			go func() {
				iv, err := iperfIntervals(ctx, l, src, awspeer.IPerf3Ports[i], 4, secs)
				results[i] <- result{iv, err}
			}()
		}
		time.Sleep(at)
		mark := time.Now()
		act()
		for i, src := range addrs {
			r := <-results[i]
			flows := "4/4 lived"
			if r.err != nil {
				flows = "DIED"
				t.Errorf("%s, %s: the flows from %s did not live to the end: %v", mode, event, src, r.err)
			}
			stall := longestStall(r.intervals, mark.Sub(started))
			gap, _ := pingers[i].LongestGap(mark)
			who := "survivor's"
			if owner[src] == dead {
				who = "dead's"
			}
			rows = append(rows, fmt.Sprintf("%-20s %-22s %-8s %-10s %-12s %.2f s", mode, event, who, flows,
				fmt.Sprintf("%.1f s", stall.Seconds()), gap.Seconds()))
		}
	}

	run(dead.Name+" killed", 30, 8*time.Second, func() {
		dead.VM.Kill()
		waitRoles(ctx, t, l, survivor, "master", "master")
	})
	// Its boot and the takeback fall within the flows' 60 s.
	run(dead.Name+" back", 60, 2*time.Second, func() {
		if err := l.BootGateway(dead, qemu.Image()); err != nil {
			t.Fatal(err)
		}
		waitRoles(ctx, t, l, dead, "master", "backup")
		waitRoles(ctx, t, l, survivor, "master", "backup")
	})
	return rows
}

// iperfIntervals runs iperf3 from the VLAN host's address src to the VPC
// host's server on port, flows parallel TCP streams up for secs seconds,
// and returns the bytes its sender moved in each 0.5 s, by stream. Unlike iperf, it
// tries again only when the test did not start (the server still busy
// with its previous one): a flow that dies on the way is the error.
func iperfIntervals(ctx context.Context, l *Lab, src string, port, flows, secs int) ([][]float64, error) {
	args := []string{fmt.Sprint(secs + 30), "iperf3", "-c", VPCHost.String(), "-p", fmt.Sprint(port), "-B", src,
		"-P", fmt.Sprint(flows), "-t", fmt.Sprint(secs), "-i", "0.5", "--connect-timeout", "5000", "-J"}
	var err error
	for try := 0; try < 5 && ctx.Err() == nil; try++ {
		if try > 0 {
			time.Sleep(time.Second)
		}
		var out []byte
		out, err = l.Host.Command("timeout", args...).Output()
		var res struct {
			Error     string `json:"error"`
			Intervals []struct {
				Streams []struct {
					Bytes float64 `json:"bytes"`
				} `json:"streams"`
			} `json:"intervals"`
		}
		if jerr := json.Unmarshal(out, &res); jerr != nil {
			err = fmt.Errorf("iperf3 from %s: %v, %v\n%s", src, err, jerr, tail(string(out), 2000))
			continue
		}
		iv := make([][]float64, flows)
		for _, in := range res.Intervals {
			for j, st := range in.Streams {
				if j < flows {
					iv[j] = append(iv[j], st.Bytes)
				}
			}
		}
		if len(res.Intervals) == 0 {
			err = fmt.Errorf("iperf3 from %s did not start: %v: %q", src, err, res.Error)
			continue
		}
		if res.Error != "" || err != nil {
			return iv, fmt.Errorf("iperf3 from %s: %v: %q after %d intervals", src, err, res.Error, len(res.Intervals))
		}
		return iv, nil
	}
	return nil, err
}

// longestStall is the longest run, over the streams, of 0.5 s intervals
// from at on in which a stream's sender moved under 1 % of its median
// before at: one flow stalled shows even while the others run.
func longestStall(streams [][]float64, at time.Duration) time.Duration {
	var longest int
	for _, intervals := range streams {
		first := min(int(at/(500*time.Millisecond)), len(intervals))
		before := slices.Clone(intervals[:first])
		if len(before) == 0 {
			continue
		}
		slices.Sort(before)
		floor := before[len(before)/2] / 100
		run := 0
		for _, b := range intervals[first:] {
			if b < floor {
				run++
				longest = max(longest, run)
			} else {
				run = 0
			}
		}
	}
	return time.Duration(longest) * 500 * time.Millisecond
}
