package gateway

import (
	"syscall"
	"testing"
	"time"
)

// The active-active pair: testdata/site.yaml with two virtual IPs.
const (
	vip2   = "10.0.1.201/24"
	loHalf = "10.0.1.0/25"
	hiHalf = "10.0.1.128/25"
)

// TestPairActiveActive runs an active-active pair against FRR playing a
// virtual private gateway: each gateway holds its own virtual IP and draws
// its half of the VLAN's return traffic (the other half prepended); when
// gw-2 dies gw-1 takes its virtual IP, its half unprepended and the
// quarters held; when gw-2 returns it takes its virtual IP back and gw-1
// releases.
func TestPairActiveActive(t *testing.T) {
	p := newPair(t)
	p.config = p.siteWith("  virtual_ip: 10.0.1.200\n", "  virtual_ips: [10.0.1.200, 10.0.1.201]\n")
	start := time.Now()
	gw1 := p.start(p.gw1, "vpn-gw-1")
	gw2 := p.start(p.gw2, "vpn-gw-2")

	p.holds(30*time.Second, map[string]string{vip: p.gw1, vip2: p.gw2})
	t.Logf("each gateway holds its own virtual IP %v after start", time.Since(start).Round(time.Millisecond))
	p.awsSeesPrefix(30*time.Second, loHalf, gw1Tun1, map[string]string{
		gw1Tun1: asPath, gw1Tun2: asPath, gw2Tun1: prepend2, gw2Tun2: prepend2,
	})
	p.awsSeesPrefix(5*time.Second, hiHalf, gw2Tun1, map[string]string{
		gw1Tun1: prepend2, gw1Tun2: prepend2, gw2Tun1: asPath, gw2Tun2: asPath,
	})
	t.Logf("AWS returns each half through its gateway %v after start", time.Since(start).Round(time.Millisecond))
	// Neither router counts the other's adverts as drops.
	for _, g := range []*gwProc{gw1, gw2} {
		if w := g.logLines("level=WARN", "vrrp"); len(w) > 0 {
			t.Errorf("%s warns: %q", g.name, w)
		}
	}

	// gw-2 dies: gw-1 takes 10.0.1.201 by the master-down timer, draws
	// the upper half and holds the quarters.
	killed := p.crash(gw2, p.gw1, vip2)
	vipAfter := time.Since(killed)
	gw1.waitLog(5*time.Second, `msg="vrrp role of the peer's virtual IP"`, "state=master", `reason="master-down timer"`)
	for _, q := range []string{"10.0.1.128/26", "10.0.1.192/26"} {
		p.awsSeesPrefix(10*time.Second, q, gw1Tun1, map[string]string{gw1Tun1: asPath, gw1Tun2: asPath})
	}
	p.awsSeesPrefix(10*time.Second, hiHalf, gw1Tun1, map[string]string{gw1Tun1: asPath, gw1Tun2: asPath})
	t.Logf("crash of gw-2: its virtual IP on gw-1 %v after SIGKILL, AWS returns its half through gw-1 %v after",
		vipAfter.Round(time.Millisecond), time.Since(killed).Round(time.Millisecond))

	// gw-2 returns: once it has paths to AWS it preempts its virtual IP;
	// gw-1 becomes its backup again and releases the hold.
	restarted := time.Now()
	gw2 = p.start(p.gw2, "vpn-gw-2")
	p.holds(40*time.Second, map[string]string{vip: p.gw1, vip2: p.gw2})
	p.awsSeesPrefix(15*time.Second, hiHalf, gw2Tun1, map[string]string{
		gw1Tun1: prepend2, gw1Tun2: prepend2, gw2Tun1: asPath, gw2Tun2: asPath,
	})
	for _, q := range []string{"10.0.1.128/26", "10.0.1.192/26"} {
		p.awsSeesPrefix(10*time.Second, q, "", map[string]string{})
	}
	t.Logf("gw-2 back: its virtual IP and half again %v after its restart", time.Since(restarted).Round(time.Millisecond))

	// A planned stop of gw-1 hands its virtual IP to gw-2 with no gap.
	gw1.Signal(syscall.SIGTERM)
	if p.handoverGap(p.gw1, p.gw2, vip) {
		t.Error("planned handover: neither gateway held 10.0.1.200 for a moment")
	}
	p.holds(5*time.Second, map[string]string{vip: p.gw2, vip2: p.gw2})
	if err := gw1.exited(14 * time.Second); err != nil {
		t.Errorf("gw-1 after SIGTERM: %v", err)
	}
	p.checkLogs()
}
