package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidegate/tidegate/qemu"
	"github.com/tidegate/tidegate/qemu/awspeer"
	"github.com/tidegate/tidegate/services/status"
)

// TestActiveActive boots an active-active pair (configs/examples/
// seed-active-active.yaml) once against a virtual private gateway and once
// against a transit gateway with VPN ECMP, as issue 14 asks: each gateway
// holds its own virtual IP, ESP bytes move on the tunnels of both while
// the VLAN host sends flows to the VPC from both its addresses, a DF
// packet too big for the tunnel gets the tunnel's MTU back, and when one
// gateway's VM dies (gw-2, then gw-1 in the other mode) the survivor takes
// its virtual IP and the traffic of both addresses comes back within the
// active-standby crash gap (against the virtual private gateway the
// survivor's own address loses nothing); the dead one boots again and
// takes its address back without a gap. TestFailoverUnderLoad measures
// the same with TCP flows.
func TestActiveActive(t *testing.T) {
	for _, tc := range []struct {
		name    string
		transit bool
	}{{"virtual private gateway", false}, {"transit gateway", true}} {
		t.Run(tc.name, func(t *testing.T) { testActiveActive(t, tc.transit) })
	}
}

func testActiveActive(t *testing.T, transit bool) {
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
	l, ctx := startLab(t, Options{SiteYAML: site, TransitGateway: transit}, 8*time.Minute)
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
		for i, src := range []string{HostAddr.Addr().String(), HostAddrUpper.Addr().String()} {
			port := awspeer.IPerf3Ports[i]
			go func() {
				n, err := iperf(l, src, port, 4, 5*time.Second, reverse)
				t.Logf("iperf3 from %s (reverse %v): %.1f MB", src, reverse, n/1e6)
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
	var pingers []*Pinger
	for _, src := range []string{HostAddr.Addr().String(), HostAddrUpper.Addr().String()} {
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
		// (pingers[0], gw-1's, when gw-2 dies) has its return path on the
		// survivor's tunnels, so it loses nothing. A transit gateway
		// hashes each flow's return over all four tunnels: a flow whose
		// return lands on the dead gateway's waits for the takeover,
		// whichever address it is from.
		if !transit && i == 0 && gap > time.Second {
			t.Errorf("the survivor's flow had a %v gap when %s died, want none (under 1 s)", gap, dead.Name)
		}
	}

	back := time.Now()
	if err := l.BootGateway(dead, qemu.Image()); err != nil {
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

// iperf runs iperf3 from the VLAN host's address src to the VPC host's
// iperf3 server on port: flows parallel TCP streams for d, from the VPC
// host when reverse. It returns the bytes received. An iperf3 server
// listens again only a moment after its previous test: a refused or
// empty test is tried again. coreutils' timeout bounds each try should
// the path stall.
func iperf(l *Lab, src string, port, flows int, d time.Duration, reverse bool) (float64, error) {
	secs := int(d.Seconds())
	args := []string{fmt.Sprint(secs + 30), "iperf3", "-c", VPCHost.String(), "-p", fmt.Sprint(port), "-B", src,
		"-P", fmt.Sprint(flows), "-t", fmt.Sprint(secs), "--connect-timeout", "5000", "-J"}
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
			Error string `json:"error"`
			End   struct {
				SumReceived struct {
					Bytes float64 `json:"bytes"`
				} `json:"sum_received"`
			} `json:"end"`
		}
		if jerr := json.Unmarshal(out, &res); jerr != nil {
			err = fmt.Errorf("iperf3 from %s (reverse %v): %v, %v\n%s", src, reverse, err, jerr, tail(string(out), 2000))
			continue
		}
		if res.Error != "" || res.End.SumReceived.Bytes == 0 {
			err = fmt.Errorf("iperf3 from %s (reverse %v): %v: %q, %.0f bytes", src, reverse, err, res.Error, res.End.SumReceived.Bytes)
			continue
		}
		return res.End.SumReceived.Bytes, nil
	}
	return 0, err
}
