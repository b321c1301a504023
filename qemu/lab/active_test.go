package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidegate/tidegate/internal/netnstest"
	"github.com/tidegate/tidegate/internal/testgate"
	"github.com/tidegate/tidegate/qemu/awspeer"
	"github.com/tidegate/tidegate/services/status"
)

// TestActiveActive boots an active-active pair (configs/examples/
// seed-active-active.yaml) once against a virtual private gateway and once
// against a transit gateway with VPN ECMP: each gateway holds its own
// virtual IP, ESP bytes move on the tunnels of both while the VLAN host
// sends flows to the VPC from both its addresses, a DF packet too big for
// the tunnel gets the tunnel's MTU back, and when one gateway's VM dies
// (gw-2, then gw-1 in the other mode) the survivor takes its virtual IP and
// the traffic of both addresses comes back within the active-standby crash
// gap (against the virtual private gateway the survivor's own address loses
// nothing); the dead one boots again and takes its address back without a
// gap. TestFailoverUnderLoad measures the same with TCP flows.
func TestActiveActive(t *testing.T) {
	for _, tc := range []struct {
		name    string
		transit bool
	}{{"virtual private gateway", false}, {"transit gateway", true}} {
		t.Run(tc.name, func(t *testing.T) { testActiveActive(t, tc.transit) })
	}
}

// activeActiveSite is configs/examples/seed-active-active.yaml for the lab:
// against a virtual private gateway as it is (the halves, the other one
// prepended), against a transit gateway with bgp.ecmp instead.
func activeActiveSite(t *testing.T, transit bool) []byte {
	t.Helper()
	site, err := LabSiteFrom("seed-active-active.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if transit {
		const prepend = "  backup_prepend: 2\n"
		if !strings.Contains(string(site), prepend) {
			t.Fatalf("%q not in the example", prepend)
		}
		site = []byte(strings.Replace(string(site), prepend, "  ecmp: true\n", 1))
	}
	return site
}

func testActiveActive(t *testing.T, transit bool) {
	l, ctx := startLab(t, Options{SiteYAML: activeActiveSite(t, transit), TransitGateway: transit}, 8*time.Minute)
	if _, err := l.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	gw1, gw2 := l.Gateway("vpn-gw-1"), l.Gateway("vpn-gw-2")
	for _, g := range []*Gateway{gw1, gw2} {
		waitRoles(ctx, t, l, g, "master", "backup")
	}
	t.Logf("both gateways master of their own virtual IP %.1f s after the lab started", time.Since(l.Started).Seconds())
	for _, g := range []*Gateway{gw1, gw2} {
		checkBootTimeline(ctx, t, l, g)
	}

	// AWS's view: with a virtual private gateway each half of the VLAN
	// has its gateway; a transit gateway spreads over all four tunnels.
	if transit {
		waitAWS(ctx, t, l, "ip route show 10.0.1.0/24", "four next hops", func(out string) bool {
			return strings.Count(out, "nexthop") == 4
		})
	} else {
		for half, via := range map[string]string{"10.0.1.0/25": "vpn-gw-1", "10.0.1.128/25": "vpn-gw-2"} {
			waitAWS(ctx, t, l, "vtysh -c 'show ip bgp "+half+" bestpath json'", half+" via "+via, func(out string) bool {
				m := regexp.MustCompile(`"ip":"(169\.254\.\d+\.\d+)"`).FindStringSubmatch(out)
				return m != nil && l.gatewayOfInside(m[1]) == via
			})
		}
	}

	// Traffic from both VLAN host addresses, 4 TCP flows each, both ways.
	before := espBytes(ctx, t, l)
	for _, reverse := range []bool{false, true} {
		errs := make(chan error, 2)
		for i, src := range hostAddrs() {
			port := awspeer.IPerf3Ports[i]
			go func() {
				r, err := iperf(l, src, port, 4, 5*time.Second, reverse)
				t.Logf("iperf3 from %s (reverse %v): %.1f MB", src, reverse, r.received/1e6)
				errs <- err
			}()
		}
		for range 2 {
			if err := <-errs; err != nil {
				out, _ := l.peerShell(ctx, "ps; tail -n 20 /var/log/iperf3-*.log")
				t.Fatalf("%v\nthe AWS peer's processes and iperf3 logs:\n%s", err, out)
			}
		}
	}
	after := espBytes(ctx, t, l)
	for _, tu := range []string{"vpn-1a", "vpn-1b", "vpn-2a", "vpn-2b"} {
		t.Logf("tunnel %s: %.1f MB in, %.1f MB out", tu, (after[tu+"/in"]-before[tu+"/in"])/1e6, (after[tu+"/out"]-before[tu+"/out"])/1e6)
	}
	for _, g := range []string{"vpn-gw-1", "vpn-gw-2"} {
		in, out := after[g+"/in"]-before[g+"/in"], after[g+"/out"]-before[g+"/out"]
		t.Logf("%s carried %.1f MB in and %.1f MB out through its tunnels", g, in/1e6, out/1e6)
		if in < 100e3 || out < 100e3 {
			t.Errorf("%s carried %.0f bytes in and %.0f out: want both gateways carrying traffic both ways", g, in, out)
		}
	}

	// Path MTU: the VLAN host (MTU 1500) sends DF packets bigger than the
	// tunnels' MTU (tracepath's probes); a gateway answers "fragmentation
	// needed" with the tunnel's MTU, which tracepath reports.
	if err := l.Host.IP("route", "flush", "cache"); err != nil {
		t.Fatal(err)
	}
	out, _ := l.Host.Command("tracepath", "-n", "-m", "3", VPCHost.String()).CombinedOutput()
	if want := fmt.Sprintf("pmtu %d", l.Site.Gateways[0].Tunnels[0].MTU()); !strings.Contains(string(out), want) {
		t.Errorf("tracepath from the VLAN host does not report %q (PMTU discovery through a gateway):\n%s", want, out)
	}

	// One gateway's VM dies while both addresses ping the VPC host: gw-2
	// against the virtual private gateway, gw-1 against the transit
	// gateway, so that each is killed once. Then it boots again and takes
	// its virtual IP back, as a planned handover does: nothing lost.
	dead, survivor := gw2, gw1
	if transit {
		dead, survivor = gw1, gw2
	}
	pingers := pingEach(ctx, t, l, pinAddresses(t, l))
	killed := time.Now()
	dead.VM.Kill()
	waitRoles(ctx, t, l, survivor, "master", "master")
	for _, p := range pingers {
		if err := p.WaitReplies(ctx, 100); err != nil {
			t.Fatal(err)
		}
	}
	for i, p := range pingers {
		gap, _ := p.LongestGap(killed)
		t.Logf("%s killed: longest gap in replies to the VLAN host's %s: %.2f s", dead.Name, []string{"lower", "upper"}[i], gap.Seconds())
		// The active-standby goal: VRRP takeover (3 x 1 s + skew) plus
		// half a second.
		if gap > 4500*time.Millisecond {
			t.Errorf("traffic gap %v after %s died, want under 4.5 s", gap, dead.Name)
		}
		// Against the virtual private gateway the survivor's address
		// (pingers[0], gw-1's, when gw-2 dies) crosses only the survivor,
		// both ways (pinAddresses), so it loses nothing. A transit
		// gateway hashes each flow's return over all four tunnels: a flow
		// whose return lands on the dead gateway's waits for the
		// takeover, whichever address it is from.
		if !transit && i == 0 && gap > time.Second {
			t.Errorf("the survivor's flow had a %v gap when %s died, want none (under 1 s)", gap, dead.Name)
		}
	}

	back := time.Now()
	if err := l.BootGateway(dead); err != nil {
		t.Fatal(err)
	}
	waitRoles(ctx, t, l, dead, "master", "backup")
	waitRoles(ctx, t, l, survivor, "master", "backup")
	for _, g := range l.Gateways {
		waitStatus(ctx, t, l, g, "no return path held", func(d *status.Document) bool {
			return d.BGP != nil && d.BGP.ReturnPath == nil
		})
	}
	time.Sleep(2 * time.Second)
	for i, p := range pingers {
		gap, _ := p.LongestGap(back)
		lost := p.Lost(back)
		t.Logf("%s back %.1f s after its boot began: %d lost, longest gap %.0f ms to the VLAN host's %s address",
			dead.Name, time.Since(back).Seconds(), lost, ms(gap), []string{"lower", "upper"}[i])
		if gap > time.Second {
			t.Errorf("%s's return cost a %v gap, want no more than a planned handover", dead.Name, gap)
		}
	}
}

// TestFailoverUnderLoad is the active-active failover with TCP flows
// running, where TestActiveActive uses pings. 8 TCP flows go up, 4 from
// each of the VLAN host's addresses, and both addresses ping every 50 ms.
// Each address is routed through one gateway's virtual IP (pinAddresses),
// so each gateway carries its own four. One gateway's VM is killed 8 s in
// (gw-2 against the virtual private gateway, gw-1 against the transit
// gateway, as in TestActiveActive); later it boots again and takes its
// address back, under the same load.
//
// For each address it reports whether all four flows lived to the end
// (iperf3 reports no error), the longest stall of any of them (0.5 s
// intervals in which its sender moved under 1 % of its median rate) and
// when it began, and the pings' longest gap. TCP backs off its
// retransmissions while a path is dead, so the dead gateway's flows stall
// longer than its pings. It prints a table and fails only when a flow
// dies:
//
//	TIDEGATE_LAB_BENCH=1 go test ./qemu/lab -run TestFailoverUnderLoad -v -timeout 40m
func TestFailoverUnderLoad(t *testing.T) {
	testgate.OptIn(t, "TIDEGATE_LAB_BENCH", "a benchmark")
	netnstest.NeedRoot(t)
	var rows []string
	for _, r := range []struct {
		name    string
		transit bool
	}{{"active-active, VGW", false}, {"active-active, TGW", true}} {
		t.Run(r.name, func(t *testing.T) {
			rows = append(rows, failoverUnderLoad(t, r.name, r.transit)...)
		})
	}
	t.Logf("\n%-20s %-22s %-10s %-10s %-16s %s\n%s", "mode", "event", "address", "flows", "flow stall (at)", "ping gap", strings.Join(rows, "\n"))
}

// failoverUnderLoad runs one mode and returns its table rows.
func failoverUnderLoad(t *testing.T, mode string, transit bool) []string {
	l, ctx := startLab(t, Options{SiteYAML: activeActiveSite(t, transit), TransitGateway: transit}, 10*time.Minute)
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
	addrs := pinAddresses(t, l)
	owner := map[string]*Gateway{addrs[0]: gw1, addrs[1]: gw2}

	var rows []string
	run := func(event string, secs int, at time.Duration, act func()) {
		pingers := pingEach(ctx, t, l, addrs)
		for _, p := range pingers {
			defer p.Stop() // the second run has its own
		}
		type result struct {
			iperfResult
			err error
		}
		results := make([]chan result, len(addrs))
		started := time.Now()
		for i, src := range addrs {
			results[i] = make(chan result, 1)
			go func() {
				r, err := iperf(l, src, awspeer.IPerf3Ports[i], 4, time.Duration(secs)*time.Second, false)
				results[i] <- result{r, err}
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
			stall, began := longestStall(r.streams, mark.Sub(started))
			gap, _ := pingers[i].LongestGap(mark)
			who := "survivor's"
			if owner[src] == dead {
				who = "dead's"
			}
			rows = append(rows, fmt.Sprintf("%-20s %-22s %-10s %-10s %-16s %.2f s", mode, event, who, flows,
				stallText(stall, began), gap.Seconds()))
		}
	}

	run(dead.Name+" killed", 30, 8*time.Second, func() {
		dead.VM.Kill()
		waitRoles(ctx, t, l, survivor, "master", "master")
	})
	// Its boot and the takeback fall within the flows' 60 s.
	run(dead.Name+" back", 60, 2*time.Second, func() {
		if err := l.BootGateway(dead); err != nil {
			t.Fatal(err)
		}
		waitRoles(ctx, t, l, dead, "master", "backup")
		waitRoles(ctx, t, l, survivor, "master", "backup")
	})
	return rows
}

// pingEach starts the VLAN host pinging the VPC host every 50 ms from each
// of addrs, stopped at the end of the test at the latest, and waits until
// each has 20 replies.
func pingEach(ctx context.Context, t *testing.T, l *Lab, addrs []string) []*Pinger {
	t.Helper()
	var pingers []*Pinger
	for _, src := range addrs {
		p, err := l.StartPingerFrom(src, VPCHost.String(), 50*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Stop)
		if err := p.WaitReplies(ctx, 20); err != nil {
			t.Fatal(err)
		}
		pingers = append(pingers, p)
	}
	return pingers
}

// pinAddresses routes each of the VLAN host's addresses through one
// virtual IP, as a host that routes through one address does: the lower
// (in gw-1's half) through gw-1's, the upper through gw-2's. Its ECMP
// route would send each flow up through either gateway by a hash whose
// seed the host's kernel draws at boot. So against the virtual private
// gateway each address crosses one gateway, both ways. It returns the
// two addresses, lower first.
func pinAddresses(t *testing.T, l *Lab) []string {
	t.Helper()
	addrs := hostAddrs()
	for i, src := range addrs {
		table := fmt.Sprint(100 + i)
		for _, args := range [][]string{
			{"rule", "add", "from", src, "table", table},
			{"route", "add", "10.0.0.0/24", "via", l.Site.VLAN.VirtualIPs[i].String(), "table", table},
		} {
			if err := l.Host.IP(args...); err != nil {
				t.Fatal(err)
			}
		}
	}
	return addrs
}

// stallText is a stall for the table: how long, and how long after the
// event it began.
func stallText(stall, began time.Duration) string {
	if stall == 0 {
		return "0.0 s"
	}
	return fmt.Sprintf("%.1f s (+%.1f)", stall.Seconds(), max(began, 0).Seconds())
}

// longestStall is the longest run, over the streams, of 0.5 s intervals
// from at on in which a stream's sender moved under 1 % of its median
// before at (one flow stalled shows even while the others run), and when
// after at it began.
func longestStall(streams [][]float64, at time.Duration) (stall, began time.Duration) {
	const step = 500 * time.Millisecond
	first := int(at / step)
	var longest, start int
	for _, intervals := range streams {
		first := min(first, len(intervals))
		before := slices.Clone(intervals[:first])
		if len(before) == 0 {
			continue
		}
		slices.Sort(before)
		floor := before[len(before)/2] / 100
		run := 0
		for i, b := range intervals[first:] {
			if b >= floor {
				run = 0
				continue
			}
			if run++; run > longest {
				longest, start = run, i-run+1
			}
		}
	}
	return time.Duration(longest) * step, time.Duration(start)*step + time.Duration(first)*step - at
}

// checkBootTimeline checks that g's /status has the boot timeline's steps
// from PID 1 to the first AWS path, in order, and logs it.
func checkBootTimeline(ctx context.Context, t *testing.T, l *Lab, g *Gateway) {
	t.Helper()
	d, _, err := l.GatewayStatus(ctx, g)
	if err != nil {
		t.Fatal(err)
	}
	at := map[string]float64{}
	var line []string
	for _, m := range d.Boot {
		at[m.Name] = m.Seconds
		line = append(line, fmt.Sprintf("%s %.1f", m.Name, m.Seconds))
	}
	t.Logf("%s boot timeline (s since the kernel booted): %s", g.Name, strings.Join(line, ", "))
	order := []string{"init", "modules", "gateway", "dhcp", "metadata", "firewall", "services", "charon", "tunnel", "aws paths"}
	for i, step := range order {
		v, ok := at[step]
		switch {
		case !ok:
			t.Errorf("%s: boot timeline lacks %q", g.Name, step)
		case i > 0 && v < at[order[i-1]]:
			t.Errorf("%s: boot step %q at %.3f s, before %q at %.3f s", g.Name, step, v, order[i-1], at[order[i-1]])
		}
	}
}

// waitRoles waits until g's status API reports its own virtual IP's VRRP
// state own and the peer's peer.
func waitRoles(ctx context.Context, t *testing.T, l *Lab, g *Gateway, own, peer string) {
	t.Helper()
	var last string
	for ctx.Err() == nil {
		d, _, err := l.GatewayStatus(ctx, g)
		if err == nil && d.VRRP != nil && d.PeerVRRP != nil {
			if d.VRRP.State == own && d.PeerVRRP.State == peer {
				return
			}
			last = d.VRRP.State + "/" + d.PeerVRRP.State
		} else if err != nil {
			last = err.Error()
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("%s: want VRRP %s of its virtual IP and %s of the peer's, have %s", g.Name, own, peer, last)
}

// waitAWS runs cmd on the AWS peer until ok accepts its output.
func waitAWS(ctx context.Context, t *testing.T, l *Lab, cmd, what string, ok func(string) bool) {
	t.Helper()
	var out string
	for ctx.Err() == nil {
		var err error
		if out, err = l.peerShell(ctx, cmd); err == nil && ok(out) {
			return
		}
		time.Sleep(2 * time.Second)
	}
	// What AWS's BGP holds and what its kernel was given, for the log:
	// ctx is over, so on a context of their own.
	dctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, c := range []string{"vtysh -c 'show bgp ipv4 unicast'", "ip nexthop show"} {
		d, err := l.peerShell(dctx, c)
		t.Logf("AWS: %s (%v):\n%s", c, err, d)
	}
	t.Fatalf("AWS: %s: not reached; %s says:\n%s", what, cmd, out)
}

// espBytes reads the AWS peer's XFRM interfaces' counters, at once and
// from outside the gateways: by "tunnel/direction" and, summed over each
// gateway's tunnels, by "gateway/direction", direction as the gateway
// sees it (in: from AWS).
func espBytes(ctx context.Context, t *testing.T, l *Lab) map[string]float64 {
	t.Helper()
	out, err := l.peerShell(ctx, "ip -j -s link show")
	if err != nil {
		t.Fatalf("AWS peer's interfaces: %v", err)
	}
	var links []struct {
		Alias string `json:"ifalias"`
		Stats struct {
			RX, TX struct {
				Bytes float64 `json:"bytes"`
			}
		} `json:"stats64"`
	}
	if err := json.Unmarshal([]byte(jsonArray(out)), &links); err != nil {
		t.Fatalf("AWS peer's interfaces: %v\n%s", err, out)
	}
	sum := map[string]float64{}
	for _, link := range links {
		for _, gw := range l.Site.Gateways {
			for _, tu := range gw.Tunnels {
				if tu.Name != link.Alias {
					continue
				}
				sum[tu.Name+"/in"] += link.Stats.TX.Bytes
				sum[tu.Name+"/out"] += link.Stats.RX.Bytes
				sum[gw.Name+"/in"] += link.Stats.TX.Bytes
				sum[gw.Name+"/out"] += link.Stats.RX.Bytes
			}
		}
	}
	return sum
}

// jsonArray cuts the JSON array out of a console transcript.
func jsonArray(s string) string {
	i, j := strings.Index(s, "["), strings.LastIndex(s, "]")
	if i < 0 || j < i {
		return s
	}
	return s[i : j+1]
}

// An iperfResult is one iperf3 test's: the bytes received, and each
// stream's sender's bytes in every half second.
type iperfResult struct {
	received float64
	streams  [][]float64
}

// iperf runs iperf3 from the VLAN host's address src to the VPC host's
// iperf3 server on port: flows parallel TCP streams for d, from the VPC
// host when reverse. An iperf3 server listens again only a moment after
// its previous test: a test that did not start or moved nothing is tried
// again; one that failed on its way is the error, with what it measured.
// coreutils' timeout bounds each try should the path stall.
func iperf(l *Lab, src string, port, flows int, d time.Duration, reverse bool) (iperfResult, error) {
	secs := int(d.Seconds())
	args := []string{fmt.Sprint(secs + 30), "iperf3", "-c", VPCHost.String(), "-p", fmt.Sprint(port), "-B", src,
		"-P", fmt.Sprint(flows), "-t", fmt.Sprint(secs), "-i", "0.5", "--connect-timeout", "5000", "-J"}
	if reverse {
		args = append(args, "-R")
	}
	var err error
	for try := 0; try < 5; try++ {
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
			End struct {
				SumReceived struct {
					Bytes float64 `json:"bytes"`
				} `json:"sum_received"`
			} `json:"end"`
		}
		if jerr := json.Unmarshal(out, &res); jerr != nil {
			err = fmt.Errorf("iperf3 from %s (reverse %v): %v, %v\n%s", src, reverse, err, jerr, tail(string(out), 2000))
			continue
		}
		r := iperfResult{received: res.End.SumReceived.Bytes, streams: make([][]float64, flows)}
		var moved float64
		for _, in := range res.Intervals {
			for j, st := range in.Streams {
				if j < flows {
					r.streams[j] = append(r.streams[j], st.Bytes)
					moved += st.Bytes
				}
			}
		}
		if moved == 0 {
			err = fmt.Errorf("iperf3 from %s (reverse %v) did not start: %v: %q", src, reverse, err, res.Error)
			continue
		}
		if err != nil || res.Error != "" {
			return r, fmt.Errorf("iperf3 from %s (reverse %v): %v: %q after %d intervals", src, reverse, err, res.Error, len(res.Intervals))
		}
		return r, nil
	}
	return iperfResult{}, err
}
