package gateway

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tidegate/tidegate/services/internal/frrtest"
)

// The lab's topology (testdata/site.yaml is the seed's scenario):
//
//	gw1 (vpn-gw-1, prio 100) eth1 10.0.1.2 --+
//	                                         br0 in "vlan" (VIP 10.0.1.200)
//	gw2 (vpn-gw-2, prio 99)  eth1 10.0.1.3 --+
//
//	gw1 vpn-1a 169.254.80.146/30 --- .145 aws (FRR bgpd, AS 64512, hold 30,
//	gw1 vpn-1b 169.254.81.150/30 --- .149      announces the "VPC" 10.0.0.0/24)
//	gw2 vpn-2a 169.254.82.154/30 --- .153
//	gw2 vpn-2b 169.254.83.158/30 --- .157
//
// The veths stand in for the XFRM interfaces (the host kernel has none):
// the gateways run in standalone mode, without XFRM interfaces, firewall or
// sysctls. charon runs and tries IKE toward the unreachable outside
// addresses, so no tunnel is ever reported up, and BGP runs over the veths.
const (
	vip      = "10.0.1.200/24"
	vlanNet  = "10.0.1.0/24"
	gw1Tun1  = "169.254.80.146"
	gw1Tun2  = "169.254.81.150"
	gw2Tun1  = "169.254.82.154"
	gw2Tun2  = "169.254.83.158"
	asPath   = "65000"
	prepend2 = "65000 65000 65000" // backup_prepend: 2
)

const awsConf = `router bgp 64512
 bgp router-id 169.254.80.145
 no bgp ebgp-requires-policy
 no bgp network import-check
 timers bgp 10 30
 neighbor 169.254.80.146 remote-as 65000
 neighbor 169.254.81.150 remote-as 65000
 neighbor 169.254.82.154 remote-as 65000
 neighbor 169.254.83.158 remote-as 65000
 neighbor 169.254.80.146 timers connect 1
 neighbor 169.254.81.150 timers connect 1
 neighbor 169.254.82.154 timers connect 1
 neighbor 169.254.83.158 timers connect 1
 address-family ipv4 unicast
  network 10.0.0.0/24
 exit-address-family
`

type pair struct {
	*lab
	bin, config    string
	vlan, gw1, gw2 string
	aws            *frrtest.FRR
	procs          []*gwProc // every gateway started
}

func newPair(t *testing.T) *pair {
	l := newLab(t)
	p := &pair{lab: l, config: "testdata/site.yaml"}
	p.bin = l.buildTidegate()
	p.vlan, p.gw1, p.gw2 = l.Netns("vlan"), l.Netns("gw1"), l.Netns("gw2")
	aws := l.Netns("aws")
	l.bridge(p.vlan, "eth1", p.gw1, p.gw2)
	l.Wire(p.gw1, "vpn-1a", gw1Tun1+"/30", aws, "vpn-1a", "169.254.80.145/30")
	l.Wire(p.gw1, "vpn-1b", gw1Tun2+"/30", aws, "vpn-1b", "169.254.81.149/30")
	l.Wire(p.gw2, "vpn-2a", gw2Tun1+"/30", aws, "vpn-2a", "169.254.82.153/30")
	l.Wire(p.gw2, "vpn-2b", gw2Tun2+"/30", aws, "vpn-2b", "169.254.83.157/30")
	p.aws = frrtest.Start(t, aws, "aws", awsConf)
	return p
}

func (p *pair) start(ns, name string) *gwProc {
	return p.startWith(ns, p.config, name)
}

// startWith starts gateway name in ns from the site in config.
func (p *pair) startWith(ns, config, name string) *gwProc {
	g := p.startGateway(p.bin, ns, config, name)
	p.procs = append(p.procs, g)
	return g
}

// siteWith writes a copy of p's site with its line old replaced by new
// and returns the copy's path; old must be in the site.
func (p *pair) siteWith(old, new string) string {
	p.t.Helper()
	site, err := os.ReadFile(p.config)
	if err != nil {
		p.t.Fatal(err)
	}
	if !strings.Contains(string(site), old) {
		p.t.Fatalf("%q not in %s", old, p.config)
	}
	f := filepath.Join(p.t.TempDir(), "site.yaml")
	if err := os.WriteFile(f, []byte(strings.Replace(string(site), old, new, 1)), 0o600); err != nil {
		p.t.Fatal(err)
	}
	return f
}

// awsSeesPrefix waits until FRR has prefix exactly from the neighbours in
// want, with those AS paths, and picks best.
func (p *pair) awsSeesPrefix(timeout time.Duration, prefix, best string, want map[string]string) time.Duration {
	p.t.Helper()
	return eventually(p.t, timeout, fmt.Sprintf("AWS's paths to %s: best %s, %v", prefix, best, want), func() error {
		paths, b, err := p.aws.Paths(prefix)
		if err != nil {
			return err
		}
		have := map[string]string{}
		for nbr, path := range paths {
			have[nbr] = path.ASPath.String
		}
		if fmt.Sprint(have) != fmt.Sprint(want) || b != best {
			return fmt.Errorf("have best %s, %v", b, have)
		}
		return nil
	})
}

// holds waits until each virtual IP is on the gateway named for it only.
func (p *pair) holds(timeout time.Duration, owners map[string]string) time.Duration {
	p.t.Helper()
	return eventually(p.t, timeout, fmt.Sprintf("virtual IPs held by %v", owners), func() error {
		for addr, owner := range owners {
			for _, g := range []string{p.gw1, p.gw2} {
				if p.has(g, "eth1", addr) != (g == owner) {
					return fmt.Errorf("%s: %s has %v", addr, g, p.addrs(g, "eth1"))
				}
			}
		}
		return nil
	})
}

// awsSees waits until FRR has the VLAN prefix exactly from the neighbours in
// want, with those AS paths, and picks best as its best path.
func (p *pair) awsSees(timeout time.Duration, best string, want map[string]string) time.Duration {
	p.t.Helper()
	return p.awsSeesPrefix(timeout, vlanNet, best, want)
}

// holder waits until the VIP is on ns's eth1 and on no other gateway.
func (p *pair) holder(timeout time.Duration, ns string) time.Duration {
	p.t.Helper()
	return p.holds(timeout, map[string]string{vip: ns})
}

// crash SIGKILLs g and waits until addr is on ns's eth1. The killed
// gateway's addresses stay on its interface (nothing removes them; on a
// Linode the box would be gone): only ns is checked. It returns when g was
// killed.
func (p *pair) crash(g *gwProc, ns, addr string) time.Time {
	p.t.Helper()
	killed := time.Now()
	g.Signal(syscall.SIGKILL)
	g.exited(5 * time.Second)
	eventually(p.t, 10*time.Second, addr+" on "+ns, func() error {
		if !p.has(ns, "eth1", addr) {
			return fmt.Errorf("%s has %v", ns, p.addrs(ns, "eth1"))
		}
		return nil
	})
	return killed
}

// handoverGap watches addr move from ns from to ns to, as a gateway in from
// resigns, for up to 10 s, and says whether it was on neither for a moment.
func (p *pair) handoverGap(from, to, addr string) bool {
	for began := time.Now(); time.Since(began) < 10*time.Second && !p.has(to, "eth1", addr); {
		if !p.has(from, "eth1", addr) {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// checkLogs fails the test if a gateway logged a secret or the race
// detector (go test -race) found a race in one.
func (p *pair) checkLogs() {
	p.t.Helper()
	for _, g := range p.procs {
		if strings.Contains(g.logText(), "EXAMPLE.psk") {
			p.t.Errorf("%s logged a pre-shared key", g.name)
		}
		if strings.Contains(g.logText(), "DATA RACE") {
			p.t.Errorf("%s: the race detector found a race: see %s", g.name, g.Log())
		}
	}
}

// TestPair runs two tidegate gateways against FRR playing AWS: election,
// the backup's prepend, crash failover, the rebooted master waiting for its
// own AWS paths before it preempts, and the planned handover on SIGTERM.
func TestPair(t *testing.T) {
	p := newPair(t)
	start := time.Now()
	gw1 := p.start(p.gw1, "vpn-gw-1")
	gw2 := p.start(p.gw2, "vpn-gw-2")

	// Election: gw-1 (100) is master; every session to AWS comes up; AWS
	// prefers gw-1's first tunnel (MED) and sees gw-2's paths prepended.
	eventually(t, 30*time.Second, "BGP sessions to AWS", func() error {
		s, err := p.aws.Sessions()
		if err != nil {
			return err
		}
		for _, a := range []string{gw1Tun1, gw1Tun2, gw2Tun1, gw2Tun2} {
			if s[a] != "Established" {
				return fmt.Errorf("%v", s)
			}
		}
		return nil
	})
	t.Logf("4 BGP sessions to AWS established %v after start", time.Since(start).Round(time.Millisecond))
	p.holder(15*time.Second, p.gw1)
	t.Logf("gw-1 holds the VIP %v after start", time.Since(start).Round(time.Millisecond))
	p.awsSees(15*time.Second, gw1Tun1, map[string]string{
		gw1Tun1: asPath, gw1Tun2: asPath, gw2Tun1: prepend2, gw2Tun2: prepend2,
	})
	gw1.waitLog(5*time.Second, `msg="AWS health"`, "healthy=true", "aws_paths=1", "vrrp_weight=0")
	gw2.waitLog(5*time.Second, `msg="AWS health"`, "healthy=true", "aws_paths=1", "vrrp_weight=0")
	// The effective priorities are the configured ones once healthy.
	gw1.waitLog(5*time.Second, "effective priority changed", "priority=100")
	gw2.waitLog(5*time.Second, "effective priority changed", "priority=99")
	// Started in the same instant, both may time out as master together
	// (their skew times differ by 1/256 s); gw-2 yields at gw-1's first
	// advert, so only the settled state is checked: gw-2 is backup.
	gw2.waitLog(time.Second, `msg="vrrp role"`, "state=backup")
	if st := gw2.logLines(`msg="vrrp role"`); !strings.Contains(st[len(st)-1], "state=backup") {
		t.Errorf("gw-2's last role: %s", st[len(st)-1])
	}

	// Crash: SIGKILL gw-1. gw-2 takes over when its master-down timer fires
	// and stops prepending; AWS loses gw-1's sessions with the process.
	killed := p.crash(gw1, p.gw2, vip)
	vipAfter := time.Since(killed)
	p.awsSees(10*time.Second, gw2Tun1, map[string]string{gw2Tun1: asPath, gw2Tun2: asPath})
	awsAfter := time.Since(killed)
	gw2.waitLog(time.Second, `msg="vrrp role"`, "state=master", `reason="master-down timer"`)
	t.Logf("crash failover: VIP on gw-2 %v after SIGKILL, AWS's best path un-prepended via gw-2 %v after",
		vipAfter.Round(time.Millisecond), awsAfter.Round(time.Millisecond))

	// Restart gw-1: it boots without AWS paths (priority 90 < 99) and stays
	// backup until its sessions bring them; then it preempts, and gw-2 goes
	// back to prepending.
	restarted := time.Now()
	gw1 = p.start(p.gw1, "vpn-gw-1")
	p.holder(30*time.Second, p.gw1)
	t.Logf("restarted gw-1 preempted %v after its start", time.Since(restarted).Round(time.Millisecond))
	p.awsSees(15*time.Second, gw1Tun1, map[string]string{
		gw1Tun1: asPath, gw1Tun2: asPath, gw2Tun1: prepend2, gw2Tun2: prepend2,
	})
	gw2.waitLog(time.Second, `msg="vrrp role"`, "state=backup", `reason="higher priority advert"`)
	healthy := gw1.logIndex(`msg="AWS health"`, "healthy=true")
	master := gw1.logIndex(`msg="vrrp role"`, "state=master")
	if healthy < 0 || master < 0 || master < healthy {
		t.Errorf("the restarted gw-1 became master (at %d) before it had a path to AWS (at %d)", master, healthy)
	}

	// Planned handover: SIGTERM gw-1. It resigns (priority 0), gw-2 takes
	// over at once, gw-1 keeps the VIP until then: the VIP is never absent.
	termed := time.Now()
	gw1.Signal(syscall.SIGTERM)
	if p.handoverGap(p.gw1, p.gw2, vip) {
		t.Error("planned handover: neither gateway held the VIP for a moment")
	}
	p.holder(5*time.Second, p.gw2)
	vipAfter = time.Since(termed)
	if err := gw1.exited(14 * time.Second); err != nil {
		t.Errorf("gw-1 after SIGTERM: %v", err)
	}
	exitAfter := time.Since(termed)
	p.awsSees(10*time.Second, gw2Tun1, map[string]string{gw2Tun1: asPath, gw2Tun2: asPath})
	awsAfter = time.Since(termed)
	gw1.waitLog(time.Second, `msg="vrrp resigned"`, "was=master")
	gw2.waitLog(time.Second, `msg="vrrp role"`, "state=master", `reason="priority 0 received"`)
	t.Logf("planned handover: VIP on gw-2 %v after SIGTERM, gw-1 exited after %v, AWS's best path un-prepended via gw-2 after %v",
		vipAfter.Round(time.Millisecond), exitAfter.Round(time.Millisecond), awsAfter.Round(time.Millisecond))

	p.checkLogs()
}

// TestPairLearnsPeer: each gateway's configuration gives its own
// vlan_address only, as on Linodes whose addresses come from their
// Metadata Services. iBGP comes up anyway: the backup learns the master's
// address from its VRRP adverts and connects, the master accepts it from
// the VLAN prefix. After a crash and restart of the master the pair finds
// itself again, and the survivor's failover hold ends.
func TestPairLearnsPeer(t *testing.T) {
	p := newPair(t)
	// Each leaves out the other's vlan_address.
	cfg1 := p.siteWith("    vlan_address: 10.0.1.3/24\n", "")
	cfg2 := p.siteWith("    vlan_address: 10.0.1.2/24\n", "")
	up := func(g *gwProc, peer string, from int) {
		t.Helper()
		eventually(t, 30*time.Second, g.name+": iBGP established with "+peer, func() error {
			lines := strings.Split(g.logText(), "\n")
			if i := logIndex(lines[from:], []string{`msg="bgp peer state"`, "peer=ibgp", "address=" + peer, "state=established"}); i < 0 {
				return fmt.Errorf("not yet")
			}
			return nil
		})
	}

	began := time.Now()
	gw1 := p.startWith(p.gw1, cfg1, "vpn-gw-1")
	gw2 := p.startWith(p.gw2, cfg2, "vpn-gw-2")
	for _, g := range []*gwProc{gw1, gw2} {
		g.waitLog(10*time.Second, "iBGP: accepted from 10.0.1.0/24")
		if w := g.logLines("level=WARN", "iBGP"); len(w) > 0 {
			t.Errorf("%s warns: %q", g.name, w)
		}
	}
	p.holder(15*time.Second, p.gw1)
	gw2.waitLog(10*time.Second, "iBGP peer learned from the VRRP master's adverts", "peer=10.0.1.2")
	up(gw2, "10.0.1.2", 0)
	up(gw1, "10.0.1.3", 0)
	t.Logf("iBGP established on both %v after start", time.Since(began).Round(time.Millisecond))

	// The master crashes; gw-2 takes over and ignores gw-1's iBGP paths.
	// The restarted gw-1 is backup at first (no AWS paths yet), learns
	// gw-2 from its adverts, and the session comes back. gw-2 releases
	// when it sees its peer back (PeerBack, checked every second) or, if
	// gw-1 preempts first, when it becomes backup.
	gw1.Signal(syscall.SIGKILL)
	gw1.exited(5 * time.Second)
	gw2.waitLog(10*time.Second, "peer went silent")
	from := len(strings.Split(gw2.logText(), "\n"))
	restarted := time.Now()
	gw1 = p.startWith(p.gw1, cfg1, "vpn-gw-1")
	up(gw1, "10.0.1.3", 0)
	up(gw2, "10.0.1.2", from-1)
	released := gw2.waitLog(30*time.Second, "return path released")
	t.Logf("after gw-1's restart: iBGP up and gw-2 released %v after (%s)", time.Since(restarted).Round(time.Millisecond), released)
	p.holder(30*time.Second, p.gw1)
}
