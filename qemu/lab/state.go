package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidegate/tidegate/services/status"
)

// State is what the lab looks like from outside the gateways: from the AWS
// peer (its SAs and BGP table) and from the VLAN host.
type State struct {
	ChildSAs      int               // CHILD_SAs installed on the AWS peer
	BGPUp         int               // AWS peer's established BGP sessions
	BGPPeers      map[string]string // AWS peer's neighbour -> state
	BGPPrefixes   map[string]int    // AWS peer's neighbour -> prefixes received
	BestVia       string            // gateway AWS sends 10.0.1.0/24 to
	BestASPath    string
	VIPOwner      string // gateway whose eth1 MAC answers for the VIP
	VPCReach      bool   // the VLAN host pings the VPC host
	FirstHop      string // tracepath's first hop from the VLAN host
	MoreSpecifics int    // prefixes one bit longer than the advertised one in AWS's table
}

// peerShell runs a command on the AWS peer's console.
func (l *Lab) peerShell(ctx context.Context, cmd string) (string, error) {
	l.shell.Lock()
	defer l.shell.Unlock()
	c, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	return l.AWS.ShellOK(c, cmd)
}

var installed = regexp.MustCompile(`INSTALLED`)

// State reads the lab's state; parts that cannot be read stay zero.
func (l *Lab) State(ctx context.Context) State {
	var s State
	if out, err := l.peerShell(ctx, "swanctl --list-sas"); err == nil {
		s.ChildSAs = len(installed.FindAllString(out, -1))
	}
	if sessions, err := l.AWSSessions(ctx); err == nil {
		s.BGPPeers, s.BGPPrefixes = map[string]string{}, map[string]int{}
		for name, p := range sessions {
			s.BGPPeers[name] = p.State
			s.BGPPrefixes[name] = p.Prefixes
			if p.State == "Established" {
				s.BGPUp++
			}
		}
	}
	prefix := l.Site.BGP.Advertise[0]
	if out, err := l.peerShell(ctx, "vtysh -c 'show ip bgp "+prefix.String()+" json'"); err == nil {
		var rt struct {
			Paths []struct {
				ASPath   struct{ String string } `json:"aspath"`
				BestPath *struct {
					Overall bool `json:"overall"`
				} `json:"bestpath"`
				Nexthops []struct{ IP string } `json:"nexthops"`
			} `json:"paths"`
		}
		if json.Unmarshal([]byte(jsonPart(out)), &rt) == nil {
			for _, p := range rt.Paths {
				if p.BestPath != nil && p.BestPath.Overall && len(p.Nexthops) > 0 {
					s.BestVia = l.gatewayOfInside(p.Nexthops[0].IP)
					s.BestASPath = p.ASPath.String
				}
			}
		}
	}
	// FRR's table lists each prefix once, its further paths on lines
	// without it: count the prefixes longer than the advertised one.
	longer := regexp.MustCompile(fmt.Sprintf(`/%d\s`, prefix.Bits()+1))
	if out, err := l.peerShell(ctx, "vtysh -c 'show ip bgp'"); err == nil {
		s.MoreSpecifics = len(longer.FindAllString(out, -1))
	}
	s.VPCReach = l.Host.Command("ping", "-c", "1", "-W", "1", VPCHost.String()).Run() == nil
	if out, err := l.Host.Command("ip", "neigh", "show", l.Site.VLAN.VirtualIP.String()).Output(); err == nil {
		for _, g := range l.Gateways {
			if strings.Contains(string(out), g.MACs[1]) {
				s.VIPOwner = g.Name
			}
		}
	}
	if out, err := l.Host.Command("tracepath", "-n", "-m", "2", VPCHost.String()).Output(); err == nil {
		if m := regexp.MustCompile(`(?m)^ 1:\s+(\d+\.\d+\.\d+\.\d+)`).FindStringSubmatch(string(out)); m != nil {
			s.FirstHop = l.gatewayOfVLAN(m[1])
		}
	}
	return s
}

// Session is one of the AWS peer's BGP sessions.
type Session struct {
	State    string // FRR's: Established, Active, ...
	Prefixes int    // received
}

// AWSSessions reads the AWS peer's BGP sessions, by "gateway/tunnel".
func (l *Lab) AWSSessions(ctx context.Context) (map[string]Session, error) {
	out, err := l.peerShell(ctx, "vtysh -c 'show bgp ipv4 unicast summary json'")
	if err != nil {
		return nil, err
	}
	var sum struct {
		Peers map[string]struct {
			State  string `json:"state"`
			PfxRcd int    `json:"pfxRcd"`
		} `json:"peers"`
	}
	if err := json.Unmarshal([]byte(jsonPart(out)), &sum); err != nil {
		return nil, fmt.Errorf("AWS peer's BGP summary: %w", err)
	}
	m := map[string]Session{}
	for addr, p := range sum.Peers {
		m[l.tunnelOf(addr)] = Session{State: p.State, Prefixes: p.PfxRcd}
	}
	return m, nil
}

// jsonPart cuts the JSON object out of a console transcript.
func jsonPart(s string) string {
	if i := strings.Index(s, "{"); i >= 0 {
		if j := strings.LastIndex(s, "}"); j > i {
			return s[i : j+1]
		}
	}
	return "{}"
}

// tunnelOf names the tunnel whose customer inside address is addr.
func (l *Lab) tunnelOf(addr string) string {
	for _, gw := range l.Site.Gateways {
		for _, t := range gw.Tunnels {
			if t.LocalInside().Addr().String() == addr {
				return gw.Name + "/" + t.Name
			}
		}
	}
	return addr
}

func (l *Lab) gatewayOfInside(addr string) string {
	name, _, _ := strings.Cut(l.tunnelOf(addr), "/")
	return name
}

func (l *Lab) gatewayOfVLAN(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	for _, g := range l.Gateways {
		if g.VLAN.Addr() == a {
			return g.Name
		}
	}
	if a == l.Site.VLAN.VirtualIP {
		return "VIP"
	}
	return addr
}

// Ready says whether the whole scenario works: every tunnel and BGP session
// up, the VIP held, and the VLAN host reaching the VPC.
func (s State) Ready(tunnels int) bool {
	return s.ChildSAs >= tunnels && s.BGPUp >= tunnels && s.VIPOwner != "" && s.VPCReach
}

// WaitReady polls State until Ready or ctx ends, logging progress. Where
// AWS should return traffic through the virtual IP's holder (returnsViaVIP),
// it also waits for that, on the holder's own unprepended path: a tidegate
// that becomes master at boot prepends until it sees VLAN traffic
// (services/gateway, failover.go), which the VLAN host's first ping is, so
// for a moment after it AWS may still prefer either gateway's prepended
// path, the master's among them when the tie falls its way.
func (l *Lab) WaitReady(ctx context.Context) (State, error) {
	tunnels := 0
	for _, gw := range l.Site.Gateways {
		tunnels += len(gw.Tunnels)
	}
	var last string
	for {
		s := l.State(ctx)
		if sum := s.Summary(); sum != last {
			l.logf("%s", sum)
			last = sum
		}
		settled := s.BestVia == s.VIPOwner && s.BestASPath == strconv.FormatUint(uint64(l.Site.BGP.ASN), 10)
		if s.Ready(tunnels) && (!l.returnsViaVIP() || settled) {
			return s, nil
		}
		select {
		case <-ctx.Done():
			return s, fmt.Errorf("lab not ready: %s: %w", s.Summary(), ctx.Err())
		case <-time.After(2 * time.Second):
		}
	}
}

// returnsViaVIP says whether AWS's best path for the site's prefix leads,
// once the pair has settled, to the gateway holding the virtual IP: in an
// active-standby pair of tidegates, yes. Active-active splits the return
// path by design, and the seed article's FRR announces without prepending,
// so with its stack in the pair AWS may prefer the backup.
func (l *Lab) returnsViaVIP() bool {
	if l.Site.ActiveActive() {
		return false
	}
	for _, g := range l.Gateways {
		if g.Seed != nil {
			return false
		}
	}
	return true
}

// Summary is one line of progress.
func (s State) Summary() string {
	vpc := "no"
	if s.VPCReach {
		vpc = "yes"
	}
	via := orDash(s.BestVia)
	if s.BestASPath != "" {
		via += " (AS path " + s.BestASPath + ")"
	}
	return fmt.Sprintf("CHILD_SAs %d, eBGP %d up, VIP on %s, AWS sends to %s, VLAN host -> VPC: %s",
		s.ChildSAs, s.BGPUp, orDash(s.VIPOwner), via, vpc)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Table renders the state for an operator.
func (s State) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-22s %-12s %s\n", "AWS BGP neighbour", "state", "prefixes received")
	for _, k := range slices.Sorted(maps.Keys(s.BGPPeers)) {
		fmt.Fprintf(&b, "%-22s %-12s %d\n", k, s.BGPPeers[k], s.BGPPrefixes[k])
	}
	fmt.Fprintf(&b, "CHILD_SAs installed on AWS: %d\n", s.ChildSAs)
	fmt.Fprintf(&b, "VRRP virtual IP held by:    %s\n", orDash(s.VIPOwner))
	fmt.Fprintf(&b, "AWS returns traffic to:     %s (AS path %q)\n", orDash(s.BestVia), s.BestASPath)
	fmt.Fprintf(&b, "VLAN host first hop:        %s\n", orDash(s.FirstHop))
	fmt.Fprintf(&b, "VLAN host reaches %s: %v\n", VPCHost, s.VPCReach)
	return b.String()
}

// GatewayStatus reads a gateway's status API from the VLAN host, where it
// is served (VLAN address, port status.Port).
func (l *Lab) GatewayStatus(ctx context.Context, g *Gateway) (*status.Document, []byte, error) {
	body, err := l.Host.HTTPGet(ctx, fmt.Sprintf("http://%s/status", netip.AddrPortFrom(g.VLAN.Addr(), status.Port)))
	if err != nil {
		return nil, nil, err
	}
	var d status.Document
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, body, fmt.Errorf("%s /status: %w", g.Name, err)
	}
	return &d, body, nil
}

// GatewayMetrics reads a gateway's Prometheus metrics from the VLAN host.
func (l *Lab) GatewayMetrics(ctx context.Context, g *Gateway) (string, error) {
	body, err := l.Host.HTTPGet(ctx, fmt.Sprintf("http://%s/metrics", netip.AddrPortFrom(g.VLAN.Addr(), status.Port)))
	return string(body), err
}

// GatewayTable renders one line per gateway, as each reports itself: tidegate
// through its status API (VRRP state and priority, tunnels up, iBGP, the
// return path held), the seed's stack through its shell (Keepalived's VIP,
// FRR's iBGP).
func (l *Lab) GatewayTable(ctx context.Context) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-9s %-10s %-18s %-8s %-12s %s\n", "gateway", "stack", "VRRP", "tunnels", "iBGP", "return path")
	for _, g := range l.Gateways {
		if g.VM == nil {
			continue
		}
		if g.Seed != nil {
			vrrp, ibgp := "-", "-"
			c, cancel := context.WithTimeout(ctx, 10*time.Second)
			if out, err := g.Seed.ShellOK(c, "ip -4 addr show dev "+l.Site.VLAN.Interface); err == nil {
				vrrp = "backup"
				if strings.Contains(out, l.Site.VLAN.VirtualIP.String()+"/") {
					vrrp = "master"
				}
			}
			if out, err := g.Seed.ShellOK(c, "vtysh -c 'show bgp ipv4 unicast summary json'"); err == nil {
				var sum struct {
					Peers map[string]struct {
						State string `json:"state"`
					} `json:"peers"`
				}
				if json.Unmarshal([]byte(jsonPart(out)), &sum) == nil {
					for addr, p := range sum.Peers {
						if a, err := netip.ParseAddr(addr); err == nil && l.Site.VLAN.Prefix.Contains(a) {
							ibgp = strings.ToLower(p.State)
						}
					}
				}
			}
			cancel()
			fmt.Fprintf(&b, "%-9s %-10s %-18s %-8s %-12s %s\n", strings.TrimPrefix(g.Name, "vpn-"), "seed", vrrp+" (keepalived)", "-", ibgp, "-")
			continue
		}
		d, _, err := l.GatewayStatus(ctx, g)
		if err != nil {
			fmt.Fprintf(&b, "%-9s %-10s no status: %v\n", strings.TrimPrefix(g.Name, "vpn-"), "tidegate", err)
			continue
		}
		vrrp, tunnels, ibgp, held := "-", "-", "-", "no"
		if d.VRRP != nil {
			vrrp = fmt.Sprintf("%s prio %d", d.VRRP.State, d.VRRP.EffectivePriority)
		}
		if d.IPsec != nil {
			up := 0
			for _, t := range d.IPsec.Tunnels {
				if t.Up {
					up++
				}
			}
			tunnels = fmt.Sprintf("%d/%d up", up, len(d.IPsec.Tunnels))
		}
		if d.BGP != nil {
			for _, p := range d.BGP.Peers {
				if a, err := netip.ParseAddr(p.Address); err == nil && l.Site.VLAN.Prefix.Contains(a) {
					ibgp = p.State
				}
			}
			if rp := d.BGP.ReturnPath; rp != nil {
				held = fmt.Sprintf("held since %s: %s", rp.Since.Format("15:04:05"), strings.Join(rp.Prefixes, " "))
			}
		}
		fmt.Fprintf(&b, "%-9s %-10s %-18s %-8s %-12s %s\n", strings.TrimPrefix(g.Name, "vpn-"), "tidegate", vrrp, tunnels, ibgp, held)
	}
	return b.String()
}
