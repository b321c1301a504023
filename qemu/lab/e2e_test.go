package lab

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidegate/tidegate/internal/netnstest"
	"github.com/tidegate/tidegate/qemu"
	"github.com/tidegate/tidegate/scripts/linode"
	"github.com/tidegate/tidegate/services/status"
)

func TestMain(m *testing.M) {
	qemu.Lock()
	os.Exit(m.Run())
}

// TestLab boots the reference scenario once and runs the end-to-end
// scenarios on it in order, each asserting from outside the gateways (the
// AWS peer's SAs and BGP table, the VLAN host's traffic).
func TestLab(t *testing.T) {
	l, ctx := startLab(t, Options{}, 10*time.Minute)
	// Each scenario starts from the lab the one before left; once one has
	// failed, the rest are skipped rather than failing for its sake.
	step := func(name string, f func(t *testing.T)) {
		t.Run(name, func(st *testing.T) {
			if t.Failed() {
				st.Skip("an earlier scenario failed")
			}
			f(st)
		})
	}

	step("1 ready", func(t *testing.T) {
		s, err := l.WaitReady(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("ready %.1f s after the lab started\n%s", time.Since(l.Started).Seconds(), s.Table())
		if s.ChildSAs != 4 || s.BGPUp != 4 {
			t.Errorf("AWS has %d CHILD_SAs and %d BGP sessions, want 4 and 4", s.ChildSAs, s.BGPUp)
		}
		// Whichever gateway has a path to AWS first may hold the VIP for a
		// moment (a gateway without one lowers its priority); gw-1
		// (priority 100) preempts once its own BGP sessions are up. gw-2
		// prepends while backup, so AWS then returns traffic through gw-1.
		s = waitFor(ctx, t, l, "VIP, first hop and AWS's best path on vpn-gw-1", func(s State) bool {
			return s.VIPOwner == "vpn-gw-1" && s.FirstHop == "vpn-gw-1" && s.BestVia == "vpn-gw-1"
		})
		if !s.VPCReach {
			t.Error("the VLAN host does not reach the VPC host")
		}
		// The gateways' own view, as tidegate-lab prints it.
		table := l.GatewayTable(ctx)
		t.Logf("\n%s", table)
		for _, want := range []string{"gw-1      tidegate   master prio 100", "gw-2      tidegate   backup prio 99"} {
			if !strings.Contains(table, want) {
				t.Errorf("gateway table lacks %q", want)
			}
		}
		// The status API and metrics, read from the VLAN host as an
		// operator would, agree; no secret appears in them.
		for _, g := range l.Gateways {
			want := map[string]string{"vpn-gw-1": "master", "vpn-gw-2": "backup"}[g.Name]
			d, body, err := l.GatewayStatus(ctx, g)
			if err != nil {
				t.Errorf("%s status API: %v", g.Name, err)
				continue
			}
			if d.Gateway != g.Name || d.Phase != "running" || d.VRRP == nil || d.VRRP.State != want {
				t.Errorf("%s /status: gateway %q phase %q vrrp %+v, want %s running %s", g.Name, d.Gateway, d.Phase, d.VRRP, g.Name, want)
			}
			up := 0
			if d.IPsec != nil {
				for _, tn := range d.IPsec.Tunnels {
					if tn.Up {
						up++
					}
				}
			}
			if up != 2 {
				t.Errorf("%s /status: %d tunnels up, want 2", g.Name, up)
			}
			metrics, err := l.GatewayMetrics(ctx, g)
			if err != nil {
				t.Errorf("%s metrics: %v", g.Name, err)
			}
			for _, tn := range l.Site.Gateways {
				for _, tt := range tn.Tunnels {
					if strings.Contains(string(body), tt.PSK.Reveal()) || strings.Contains(metrics, tt.PSK.Reveal()) {
						t.Errorf("%s: a pre-shared key is in the status API", g.Name)
					}
				}
			}
			if !strings.Contains(metrics, "tidegate_tunnel_up{") {
				t.Errorf("%s metrics lack tidegate_tunnel_up", g.Name)
			}
		}
	})

	step("3 one tunnel of gw-1 dies", func(t *testing.T) {
		p := pinging(ctx, t, l, 50)
		start := time.Now()
		// AWS's side terminates the first tunnel (as a tunnel endpoint
		// replacement does); tidegate initiates it again.
		if _, err := l.peerShell(ctx, "swanctl --terminate --ike vpn-1a --timeout 5"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		gap := gapUntil(ctx, t, p, start, 100)
		t.Logf("longest gap in replies while vpn-1a was down and back: %v", gap)
		if gap > 2*time.Second {
			t.Errorf("traffic stopped for %v with one of gw-1's two tunnels down; want it to stay up through the other", gap)
		}
		waitFor(ctx, t, l, "4 CHILD_SAs again (tidegate re-initiates)", func(s State) bool { return s.ChildSAs == 4 && s.BGPUp == 4 })
	})

	step("4 both tunnels of gw-1 die", func(t *testing.T) {
		p := pinging(ctx, t, l, 50)
		start := time.Now()
		// AWS takes both of gw-1's tunnels out of service: DELETEs, and
		// gw-1's attempts to bring them back are refused.
		if _, err := l.peerShell(ctx, "aws-tunnels-down vpn-1a vpn-1b"); err != nil {
			t.Fatal(err)
		}
		// The design: gw-1 has no path to AWS left, so its VRRP priority
		// drops below gw-2's and gw-2 takes the VIP; until then gw-1
		// forwards over iBGP to gw-2, and AWS has only gw-2's routes.
		waitFor(ctx, t, l, "VIP on vpn-gw-2 (gw-1 gave way)", func(s State) bool { return s.VIPOwner == "vpn-gw-2" })
		waitFor(ctx, t, l, "AWS sends to vpn-gw-2", func(s State) bool { return s.BestVia == "vpn-gw-2" })
		gap := gapUntil(ctx, t, p, start, 100)
		t.Logf("both of gw-1's tunnels down: longest gap in replies %v", gap)
		// Measured 3.4 s: until gw-1 gives way, return traffic AWS still
		// sends into the deleted tunnels is lost (the AWS peer keeps those
		// BGP sessions until their hold timer, as AWS does).
		if gap > 6*time.Second {
			t.Errorf("traffic stopped for %v with gw-1's tunnels down", gap)
		}
		if _, err := l.peerShell(ctx, "aws-tunnels-up"); err != nil {
			t.Fatal(err)
		}
		waitFor(ctx, t, l, "gw-1's tunnels back and gw-1 master again", func(s State) bool {
			return s.ChildSAs == 4 && s.BGPUp == 4 && s.VIPOwner == "vpn-gw-1" && s.BestVia == "vpn-gw-1"
		})
	})

	step("5 charon killed inside gw-1", func(t *testing.T) {
		gw1, gw2 := l.Gateway("vpn-gw-1"), l.Gateway("vpn-gw-2")
		before1, _, err1 := l.GatewayStatus(ctx, gw1)
		before2, _, err2 := l.GatewayStatus(ctx, gw2)
		if err := errors.Join(err1, err2); err != nil {
			t.Fatal(err)
		}
		if before1.IPsec == nil || before1.VRRP == nil || before2.VRRP == nil {
			t.Fatalf("status without IPsec or VRRP: %+v %+v", before1, before2)
		}
		p := pinging(ctx, t, l, 50)
		start := time.Now()
		// On gw-1's serial console, as an operator on Lish would.
		off := len(gw1.VM.Console())
		gw1.VM.Type("debug kill charon")
		if _, _, err := gw1.VM.WaitFor(ctx, off, regexp.MustCompile(`\[y/N\] `)); err != nil {
			t.Fatal(err)
		}
		gw1.VM.Type("y")
		if _, _, err := gw1.VM.WaitFor(ctx, off, regexp.MustCompile(`charon \(pid \d+\) killed`)); err != nil {
			t.Fatal(err)
		}
		// The tunnels return on their own: new IKE_SAs replace the dead
		// charon's at AWS (4 CHILD_SAs with a new charon on gw-1).
		waitUntil(ctx, t, "gw-1's tunnels negotiated again by a new charon", func() bool {
			d, _, err := l.GatewayStatus(ctx, gw1)
			if err != nil || d.IPsec == nil || d.IPsec.CharonPID == 0 || d.IPsec.CharonPID == before1.IPsec.CharonPID {
				return false
			}
			up := 0
			for _, tn := range d.IPsec.Tunnels {
				if tn.Up && tn.ChildState == "INSTALLED" {
					up++
				}
			}
			return up == 2
		})
		s := waitFor(ctx, t, l, "4 CHILD_SAs and 4 BGP sessions at AWS", func(s State) bool { return s.ChildSAs == 4 && s.BGPUp == 4 })
		time.Sleep(2 * time.Second)
		gap, _ := p.LongestGap(start)
		t.Logf("charon killed on gw-1: tunnels back %.1f s later, longest gap in replies %v, %d lost", time.Since(start).Seconds(), gap, p.Lost(start))
		// VRRP does not flap: both gateways made no transition and the VIP
		// stayed on gw-1.
		after1, _, err1 := l.GatewayStatus(ctx, gw1)
		after2, _, err2 := l.GatewayStatus(ctx, gw2)
		if err := errors.Join(err1, err2); err != nil {
			t.Fatal(err)
		}
		if after1.VRRP.Transitions != before1.VRRP.Transitions || after2.VRRP.Transitions != before2.VRRP.Transitions || s.VIPOwner != "vpn-gw-1" {
			t.Errorf("VRRP moved: gw-1 transitions %d -> %d, gw-2 %d -> %d, VIP on %s",
				before1.VRRP.Transitions, after1.VRRP.Transitions, before2.VRRP.Transitions, after2.VRRP.Transitions, s.VIPOwner)
		}
		if gap > time.Second {
			t.Errorf("traffic stopped for %v while charon was restarted, want the kernel's SAs to carry it", gap)
		}
	})

	step("2 gw-1 crashes", func(t *testing.T) {
		p := pinging(ctx, t, l, 50)
		gw1 := l.Gateway("vpn-gw-1")
		start := time.Now()
		gw1.VM.Kill()
		gap := gapUntil(ctx, t, p, start, 200)
		t.Logf("gw-1 killed: longest gap in VLAN host -> VPC replies: %.2f s", gap.Seconds())
		waitFor(ctx, t, l, "VIP on vpn-gw-2", func(s State) bool { return s.VIPOwner == "vpn-gw-2" })
		// Issue 9: gw-2 draws the return path with the halves at once,
		// although AWS still holds gw-1's routes until its DPD and hold
		// timers (30 s) expire.
		s := waitFor(ctx, t, l, "AWS has the more-specifics from vpn-gw-2", func(s State) bool { return s.MoreSpecifics >= 2 })
		if since := time.Since(start); since > 20*time.Second {
			t.Errorf("AWS learned the more-specifics %v after the crash, want within a few seconds", since)
		}
		t.Logf("AWS after the crash:\n%s", s.Table())
		// VRRP takeover (3 x 1 s + skew) plus half a second.
		if gap > 4500*time.Millisecond {
			t.Errorf("traffic gap %v after the master died, want under 4.5 s (VRRP takeover + 0.5 s)", gap)
		}
	})

	step("2b gw-1 comes back", func(t *testing.T) {
		p := pinging(ctx, t, l, 50)
		start := time.Now()
		if err := l.BootGateway(l.Gateway("vpn-gw-1")); err != nil {
			t.Fatal(err)
		}
		waitFor(ctx, t, l, "VIP back on vpn-gw-1 (preempt)", func(s State) bool { return s.VIPOwner == "vpn-gw-1" })
		s := waitFor(ctx, t, l, "AWS back to normal: via vpn-gw-1, no more-specifics",
			func(s State) bool { return s.BestVia == "vpn-gw-1" && s.MoreSpecifics == 0 && s.ChildSAs == 4 })
		time.Sleep(2 * time.Second)
		gap, _ := p.LongestGap(start)
		t.Logf("gw-1 back %.1f s after its boot began; longest gap in replies: %v\n%s", time.Since(start).Seconds(), gap, s.Table())
		if gap > time.Second {
			t.Errorf("gw-1's return cost %v of traffic, want no more than a planned handover", gap)
		}
	})

	step("6 rolling reimage of the pair through the Linode API", func(t *testing.T) {
		p := pinging(ctx, t, l, 100)
		start := time.Now()
		// tidegate linode rolling-reimage against a fake Linode API whose
		// instances are the lab's VMs: a shutdown presses the ACPI power
		// button (as Linode does) and waits for the VM to power off, a
		// boot boots the rebuilt disk with the user data the API was given.
		api := newLabLinode(t, l)
		newImage := api.AddImage("tidegate-next")
		c, err := linode.New(linode.Config{Token: api.Token(), BaseURL: api.URL(),
			PollInterval: time.Second, InstanceTimeout: 3 * time.Minute, Progress: testLog{t}})
		if err != nil {
			t.Fatal(err)
		}
		pair, _, err := linode.SiteGateways(l.opts.SiteYAML, linode.Gateway{Image: newImage, VLAN: "lab-vlan"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range pair {
			// From a host on the VLAN, as the README tells the operator.
			pair[i].StatusAddress = l.Gateway(pair[i].Label).VLAN.Addr().String()
		}
		err = c.RollingReimage(ctx, pair, status.HealthClient{Dial: l.Host.DialContext},
			linode.RollingOptions{HealthTimeout: 4 * time.Minute, HandoverTimeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("rolling reimage done in %.1f s; API calls:\n%s", time.Since(start).Seconds(), strings.Join(api.Calls(), "\n"))
		for _, g := range l.Gateways {
			if in, _ := api.Instance(g.Name); in.Image != newImage || in.Rebuilds != 1 {
				t.Errorf("%s: image %s after %d rebuilds, want %s after 1", g.Name, in.Image, in.Rebuilds, newImage)
			}
		}
		waitFor(ctx, t, l, "VIP back on vpn-gw-1 (preempt), AWS via vpn-gw-1", func(s State) bool {
			return s.VIPOwner == "vpn-gw-1" && s.BestVia == "vpn-gw-1" && s.ChildSAs == 4 && s.BGPUp == 4
		})
		time.Sleep(2 * time.Second)
		lost := p.Lost(start)
		gap, at := p.LongestGap(start)
		t.Logf("rolling reimage of both gateways at 100 pings/s: %d lost, longest reply gap %v (at +%.1f s)", lost, gap, at.Sub(start).Seconds())
		// A planned handover loses nothing: gw-1 keeps the VIP until gw-2's
		// first advert, and withdraws from AWS before it stops.
		if lost != 0 || gap > time.Second {
			t.Errorf("rolling reimage: %d pings lost at 100/s, longest gap %v; want 0 lost", lost, gap)
		}
	})

	step("split brain: gw-2 cut off from the VLAN", func(t *testing.T) {
		p := pinging(ctx, t, l, 50)
		start := time.Now()
		// gw-2's VLAN port leaves the switch: its link stays up, it hears
		// no adverts, becomes master too, and must not draw AWS's return
		// traffic into a VLAN it cannot reach.
		if err := l.Switch.IP("link", "set", "tap21", "nomaster"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := l.Gateway("vpn-gw-2").VM.WaitFor(ctx, 0, regexp.MustCompile(`vrrp role.*state=master.*reason="master-down timer"`)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		s := l.State(ctx)
		gap, _ := p.LongestGap(start)
		t.Logf("during the cut: %s; longest gap %v", s.Summary(), gap)
		if s.MoreSpecifics != 0 || s.BestVia != "vpn-gw-1" || !s.VPCReach {
			t.Errorf("split brain: AWS has %d more-specifics and sends to %q, VPC reachable %v; want none, vpn-gw-1, true", s.MoreSpecifics, s.BestVia, s.VPCReach)
		}
		if gap > time.Second {
			t.Errorf("traffic through gw-1 stopped for %v while gw-2 was cut off", gap)
		}
		if err := l.Switch.IP("link", "set", "tap21", "master", "vlan"); err != nil {
			t.Fatal(err)
		}
		s = waitFor(ctx, t, l, "one master again after the heal, normal announcements", func(s State) bool {
			return s.VIPOwner == "vpn-gw-1" && s.BestVia == "vpn-gw-1" && s.MoreSpecifics == 0 && s.BGPUp == 4
		})
		if gap, _ := p.LongestGap(start); gap > time.Second {
			t.Errorf("longest gap across the split brain and heal %v", gap)
		}
	})

	step("8 bad user data on gw-2", func(t *testing.T) {
		gw2 := l.Gateway("vpn-gw-2")
		good := l.opts.SiteYAML
		bad := strings.Replace(string(good), "vrid: 10", "vrid: 0", 1)
		gw2.Metadata.SetUserData([]byte(bad))
		gw2.VM.Kill()
		if err := l.BootGateway(gw2); err != nil {
			t.Fatal(err)
		}
		if _, _, err := gw2.VM.WaitFor(ctx, 0, regexp.MustCompile(`config: line \d+: vrrp\.vrid`)); err != nil {
			t.Fatal(err)
		}
		s := l.State(ctx)
		if !s.VPCReach || s.VIPOwner != "vpn-gw-1" {
			t.Errorf("with gw-2's user data broken, gw-1 must keep serving: %s", s.Summary())
		}
		gw2.Metadata.SetUserData(good)
		if _, _, err := gw2.VM.WaitFor(ctx, 0, regexp.MustCompile(`msg=configured .*gateway=vpn-gw-2`)); err != nil {
			t.Fatal(err)
		}
		waitFor(ctx, t, l, "gw-2's tunnels and BGP back after the fix", func(s State) bool { return s.ChildSAs == 4 && s.BGPUp == 4 })
	})
}

// startLab starts a lab for t, logging its progress to t, and closes it at
// the end, showing the guests' consoles when t failed; the context ends
// after timeout, or with t. A lab needs root (namespaces, TAP devices).
func startLab(t *testing.T, o Options, timeout time.Duration) (*Lab, context.Context) {
	t.Helper()
	netnstest.NeedRoot(t)
	o.Log, o.Dir = testLog{t}, t.TempDir()
	l, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, f := range []string{"aws", "vpn-gw-1", "vpn-gw-2"} {
				b, _ := os.ReadFile(filepath.Join(o.Dir, f+".console"))
				t.Logf("console of %s (last 6 KiB):\n%s", f, tail(string(b), 6<<10))
			}
		}
		l.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return l, ctx
}

// pinging starts the VLAN host pinging the VPC host every 10 ms, stopped
// at the end of the test, and waits until n replies came back.
func pinging(ctx context.Context, t *testing.T, l *Lab, n int) *Pinger {
	t.Helper()
	p, err := l.StartPinger(VPCHost.String(), 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	if err := p.WaitReplies(ctx, n); err != nil {
		t.Fatal(err)
	}
	return p
}

// gapUntil waits until n more replies came back and returns the longest
// gap in replies since start: the traffic's loss once it flows again.
func gapUntil(ctx context.Context, t *testing.T, p *Pinger, start time.Time, n int) time.Duration {
	t.Helper()
	if err := p.WaitReplies(ctx, n); err != nil {
		t.Fatal(err)
	}
	gap, _ := p.LongestGap(start)
	return gap
}

func waitFor(ctx context.Context, t *testing.T, l *Lab, what string, ok func(State) bool) State {
	t.Helper()
	start := time.Now()
	for {
		s := l.State(ctx)
		if ok(s) {
			t.Logf("%s after %.1f s", what, time.Since(start).Seconds())
			return s
		}
		if ctx.Err() != nil {
			t.Fatalf("%s: not reached: %s", what, s.Summary())
		}
		time.Sleep(time.Second)
	}
}

type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
