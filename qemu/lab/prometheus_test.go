package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidegate/tidegate/services/status"
)

// TestLabPrometheus runs a real Prometheus (Debian's) on the VLAN host,
// scraping both gateways over the VLAN with the alert rules of
// configs/prometheus on the lab's clock (scrapes every 2 s, for: 4 s), and
// crashes vpn-gw-1 as TestLab's scenario 2 does: TidegateGatewayDown must
// fire for vpn-gw-1 and not for vpn-gw-2, vpn-gw-2's own metrics must
// raise TidegateReturnPathHeld (it draws AWS's return traffic alone), and
// both must resolve once vpn-gw-1 is booted again; then no alert is left.
func TestLabPrometheus(t *testing.T) {
	l, ctx := startLab(t, Options{}, 15*time.Minute)
	if _, err := l.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	p, err := StartPrometheus(l, PrometheusOptions{Interval: 2 * time.Second, For: 4 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(p.Dir, "prometheus.log"))
			t.Logf("prometheus.log (last 4 KiB):\n%s", tail(string(b), 4<<10))
		}
	})
	t.Logf("Prometheus at http://%s on the VLAN host (%s)", p.Addr, l.Host.Name)
	gw1, gw2 := l.Gateway("vpn-gw-1"), l.Gateway("vpn-gw-2")
	target := func(g *Gateway) string { return netip.AddrPortFrom(g.VLAN.Addr(), status.Port).String() }

	// Both gateways scraped, with their tunnels up and one VRRP master.
	within(ctx, t, 2*time.Minute, "Prometheus scrapes both gateways, 2 tunnels up on each, one VRRP master", func() (bool, string) {
		up, err1 := p.Query(ctx, `up{job="tidegate"} == 1`)
		tunnels, err2 := p.Query(ctx, `sum by (gateway) (tidegate_tunnel_up) == 2`)
		masters, err3 := p.Query(ctx, `sum by (vrid) (tidegate_vrrp_state{state="master"}) == 1`)
		if err := errors.Join(err1, err2, err3); err != nil {
			return false, err.Error()
		}
		return len(up) == 2 && len(tunnels) == 2 && len(masters) == 1,
			fmt.Sprintf("up %v, tunnels %v, masters %v", up, tunnels, masters)
	})
	// Whatever the start left pending or firing has cleared: a healthy
	// pair raises no alert.
	within(ctx, t, 2*time.Minute, "no alert for the healthy pair", func() (bool, string) {
		as, err := p.Alerts(ctx)
		return err == nil && len(as) == 0, fmt.Sprintf("%v %v", as, err)
	})

	gw1.VM.Kill()
	killed := time.Now()
	var as []Alert
	within(ctx, t, time.Minute, "TidegateGatewayDown firing for vpn-gw-1", func() (bool, string) {
		var err error
		as, err = p.Alerts(ctx)
		return err == nil && find(as, "TidegateGatewayDown", "firing", target(gw1)) != nil, fmt.Sprintf("%v %v", as, err)
	})
	t.Logf("%.1f s after the kill: %v", time.Since(killed).Seconds(), as)
	a := find(as, "TidegateGatewayDown", "firing", target(gw1))
	if a.Labels["gateway"] != gw1.Name || a.Labels["site"] != l.Site.Site || a.Labels["severity"] != "warning" {
		t.Errorf("TidegateGatewayDown labels %v, want gateway %s, site %s, severity warning", a.Labels, gw1.Name, l.Site.Site)
	}
	if !strings.Contains(a.Annotations["summary"], target(gw1)) {
		t.Errorf("TidegateGatewayDown summary %q does not name %s", a.Annotations["summary"], target(gw1))
	}
	if find(as, "TidegateGatewayDown", "", target(gw2)) != nil {
		t.Errorf("TidegateGatewayDown for vpn-gw-2, which runs: %v", as)
	}
	// vpn-gw-2's own metrics: it holds the return path.
	within(ctx, t, time.Minute, "TidegateReturnPathHeld firing for vpn-gw-2", func() (bool, string) {
		as, err := p.Alerts(ctx)
		return err == nil && find(as, "TidegateReturnPathHeld", "firing", target(gw2)) != nil, fmt.Sprintf("%v %v", as, err)
	})

	if err := l.BootGateway(gw1); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	within(ctx, t, 5*time.Minute, "TidegateGatewayDown resolved", func() (bool, string) {
		as, err := p.Alerts(ctx)
		return err == nil && find(as, "TidegateGatewayDown", "", "") == nil, fmt.Sprintf("%v %v", as, err)
	})
	t.Logf("TidegateGatewayDown resolved %.1f s after vpn-gw-1's boot began", time.Since(back).Seconds())
	within(ctx, t, 5*time.Minute, "TidegateReturnPathHeld resolved (vpn-gw-2 lets go)", func() (bool, string) {
		as, err := p.Alerts(ctx)
		return err == nil && find(as, "TidegateReturnPathHeld", "", "") == nil, fmt.Sprintf("%v %v", as, err)
	})
	// The pair back to normal raises nothing: tunnels, sessions and VRRP
	// alerts of vpn-gw-1's return have cleared.
	within(ctx, t, 3*time.Minute, "no alert once the pair is whole again", func() (bool, string) {
		as, err := p.Alerts(ctx)
		return err == nil && len(as) == 0, fmt.Sprintf("%v %v", as, err)
	})
}

// within polls ok every second until it holds, failing t after d (or when
// ctx ends) with the last state ok described.
func within(ctx context.Context, t *testing.T, d time.Duration, what string, ok func() (bool, string)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	start := time.Now()
	for {
		done, state := ok()
		if done {
			t.Logf("%s after %.1f s", what, time.Since(start).Seconds())
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not within %v; last: %s", what, d, state)
		case <-time.After(time.Second):
		}
	}
}

// find returns the alert named name in state (any, if "") for instance
// (any, if ""), or nil.
func find(as []Alert, name, state, instance string) *Alert {
	for i, a := range as {
		if a.Name() == name && (state == "" || a.State == state) && (instance == "" || a.Labels["instance"] == instance) {
			return &as[i]
		}
	}
	return nil
}
