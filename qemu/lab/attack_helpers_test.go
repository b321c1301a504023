package lab

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tidegate/tidegate/internal/deathsig"
	"github.com/tidegate/tidegate/qemu"
	"github.com/tidegate/tidegate/qemu/awspeer"
	"github.com/tidegate/tidegate/services/status"
)

// The attacker's tools for TestTrustBoundaries: what the AWS peer
// announces, a rogue host on the VLAN, a port scanner, and readers for the
// counters the gateways publish about what they refused.

// awsASN is the AWS peer's AS, as its bgpd.conf has it.
func (l *Lab) awsASN() uint32 {
	if a := l.AWS.Config.ASN; a != 0 {
		return a
	}
	return awspeer.DefaultASN
}

// awsConfigure types one vtysh invocation into the AWS peer's console:
// "configure terminal", then cmds in order. vtysh exits non-zero when a
// command fails.
func (l *Lab) awsConfigure(ctx context.Context, cmds ...string) error {
	args := []string{"vtysh", "-c 'configure terminal'"}
	for _, c := range cmds {
		args = append(args, "-c '"+c+"'")
	}
	_, err := l.peerShell(ctx, strings.Join(args, " "))
	return err
}

// awsBGP configures cmds in the AWS peer's BGP, address family IPv4
// unicast.
func (l *Lab) awsBGP(ctx context.Context, cmds ...string) error {
	return l.awsConfigure(ctx, append([]string{fmt.Sprintf("router bgp %d", l.awsASN()), "address-family ipv4 unicast"}, cmds...)...)
}

// awsAnnounce makes the AWS peer originate (or, withdraw set, stop
// originating) prefixes to every neighbour, whether or not its own
// routing table has them: "no bgp network import-check" lets bgpd
// announce what it cannot reach, as a misconfigured or hostile AWS would.
func (l *Lab) awsAnnounce(ctx context.Context, prefixes []netip.Prefix, withdraw bool) error {
	cmds := []string{fmt.Sprintf("router bgp %d", l.awsASN()), "no bgp network import-check", "address-family ipv4 unicast"}
	for _, p := range prefixes {
		c := "network " + p.String()
		if withdraw {
			c = "no " + c
		}
		cmds = append(cmds, c)
	}
	return l.awsConfigure(ctx, cmds...)
}

// Flood: floodRoutes /32s in 198.18.0.0/15 (RFC 2544's benchmarking
// range, which nothing in the lab uses) on a dummy interface of the AWS
// guest, redistributed into BGP through a route map that lets only them
// through. Under TCG the guest's kernel and zebra take about 15 s to add
// them (as many vtysh "network" lines would take minutes), so they are
// added while the lab boots (awsFloodPrepare, in the background), and the
// flood itself is one "redistribute kernel" (awsFloodStart), which bgpd
// takes in within about 20 s. The kernel routes stay after the flood:
// they lead nowhere but into the dummy interface.
const floodRoutes = 20000

func (l *Lab) awsFloodPrepare(ctx context.Context) error {
	// Booting: longer than peerShell waits for a command.
	if _, err := l.AWS.WaitReady(ctx); err != nil {
		return err
	}
	if err := l.awsConfigure(ctx, "ip prefix-list tg-flood seq 5 permit 198.18.0.0/15 le 32",
		"route-map tg-flood permit 10", "match ip address prefix-list tg-flood"); err != nil {
		return err
	}
	gen := fmt.Sprintf(`awk 'BEGIN{for(i=0;i<%d;i++) printf "route add 198.%%d.%%d.%%d/32 dev flood0\n", 18+int(i/65536), int(i/256)%%256, i%%256}' >/tmp/flood.batch`, floodRoutes)
	// "& echo": the shell's wrapper puts the command in braces, where a
	// trailing & would need a command after it.
	_, err := l.peerShell(ctx, "ip link add flood0 type dummy && ip link set flood0 up && "+gen+
		" && (ip -batch /tmp/flood.batch && echo done >/tmp/flood.ready) </dev/null >/dev/null 2>&1 & echo preparing")
	return err
}

// awsFloodWait waits until the flood's routes are in the AWS guest's
// kernel.
func (l *Lab) awsFloodWait(ctx context.Context) error {
	for {
		out, err := l.peerShell(ctx, "cat /tmp/flood.ready 2>/dev/null; true")
		if err == nil && strings.Contains(out, "done") {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the flood's routes are not in the AWS guest's kernel: %w", ctx.Err())
		case <-time.After(2 * time.Second):
		}
	}
}

func (l *Lab) awsFloodStart(ctx context.Context) error {
	return l.awsBGP(ctx, "redistribute kernel route-map tg-flood")
}

func (l *Lab) awsFloodStop(ctx context.Context) error {
	return l.awsBGP(ctx, "no redistribute kernel route-map tg-flood")
}

// awsRIBCount is how many paths the AWS peer's BGP table holds.
func (l *Lab) awsRIBCount(ctx context.Context) (int, error) {
	out, err := l.peerShell(ctx, "vtysh -c 'show ip bgp summary json'")
	if err != nil {
		return 0, err
	}
	var sum struct {
		IPv4 struct {
			RIBCount int `json:"ribCount"`
		} `json:"ipv4Unicast"`
	}
	err = json.Unmarshal([]byte(jsonPart(out)), &sum)
	return sum.IPv4.RIBCount, err
}

// hostilePrefixes are the routes a hostile or misconfigured AWS announces
// in scenario 1, each named for the log: every kind the import filter
// must refuse. publics are the gateways' public addresses.
func (l *Lab) hostilePrefixes(publics []netip.Addr) map[netip.Prefix]string {
	m := map[netip.Prefix]string{
		netip.MustParsePrefix("0.0.0.0/0"):          "default route",
		netip.MustParsePrefix("0.0.0.0/1"):          "lower half of the Internet",
		netip.MustParsePrefix("128.0.0.0/1"):        "upper half of the Internet",
		netip.MustParsePrefix("169.254.169.254/32"): "Metadata Service",
	}
	vlan := l.Site.VLAN.Prefix.Masked()
	lo, hi := halves(vlan)
	m[lo], m[hi] = "VLAN lower half", "VLAN upper half"
	m[netip.PrefixFrom(l.Site.VLAN.VirtualIP, 32)] = "virtual IP"
	for _, gw := range l.Site.Gateways {
		for _, t := range gw.Tunnels {
			m[netip.PrefixFrom(t.OutsideAddress, 32)] = "outside address of " + t.Name
		}
	}
	for i, a := range publics {
		m[netip.PrefixFrom(a, 32)] = "public address of " + l.Gateways[i].Name
	}
	return m
}

// halves are p's two more-specifics.
func halves(p netip.Prefix) (netip.Prefix, netip.Prefix) {
	a := p.Masked().Addr().As4()
	v := binary.BigEndian.Uint32(a[:]) | 1<<(31-p.Bits())
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return netip.PrefixFrom(p.Masked().Addr(), p.Bits()+1), netip.PrefixFrom(netip.AddrFrom4(b), p.Bits()+1)
}

// gatewayView is a gateway's /status with its BGP neighbours by name
// (vpn-1a, ..., ibgp).
type gatewayView struct {
	Doc   *status.Document
	Peers map[string]status.Peer
}

func (l *Lab) gatewayView(ctx context.Context, g *Gateway) (*gatewayView, error) {
	c, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	d, _, err := l.GatewayStatus(c, g)
	if err != nil {
		return nil, err
	}
	v := &gatewayView{Doc: d, Peers: map[string]status.Peer{}}
	if d.BGP != nil {
		for _, p := range d.BGP.Peers {
			v.Peers[p.Name] = p
		}
	}
	return v, nil
}

// tunnelNames are gateway g's tunnels, as its BGP neighbours are named.
func (l *Lab) tunnelNames(g *Gateway) []string {
	var names []string
	for _, gw := range l.Site.Gateways {
		if gw.Name == g.Name {
			for _, t := range gw.Tunnels {
				names = append(names, t.Name)
			}
		}
	}
	return names
}

// routes is the set of prefixes the gateway's /status lists as installed
// in its kernel.
func (v *gatewayView) routes() map[string]bool {
	m := map[string]bool{}
	for _, r := range v.Doc.Routes {
		m[r.Prefix] = true
	}
	return m
}

// metrics is a Prometheus text exposition, parsed: the value of each
// series by its name and labels as written ("name{a=\"b\"}").
type metrics map[string]float64

var metricLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?)\s+(\S+)`)

func parseMetrics(text string) metrics {
	m := metrics{}
	s := bufio.NewScanner(strings.NewReader(text))
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		if sub := metricLine.FindStringSubmatch(s.Text()); sub != nil {
			if v, err := strconv.ParseFloat(sub[2], 64); err == nil {
				m[sub[1]] = v
			}
		}
	}
	return m
}

// get returns the series name with exactly these labels (in any order).
func (m metrics) get(name string, labels map[string]string) (float64, bool) {
	for k, v := range m {
		n, rest, _ := strings.Cut(k, "{")
		if n != name {
			continue
		}
		got := map[string]string{}
		for _, kv := range strings.Split(strings.TrimSuffix(rest, "}"), ",") {
			if key, val, ok := strings.Cut(kv, "="); ok {
				got[key] = strings.Trim(val, `"`)
			}
		}
		if len(got) == len(labels) && func() bool {
			for lk, lv := range labels {
				if got[lk] != lv {
					return false
				}
			}
			return true
		}() {
			return v, true
		}
	}
	return 0, false
}

func (l *Lab) gatewayMetrics(ctx context.Context, g *Gateway) (metrics, error) {
	c, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	text, err := l.GatewayMetrics(c, g)
	if err != nil {
		return nil, err
	}
	return parseMetrics(text), nil
}

// vlanNamespace attaches a new namespace to the lab's VLAN switch, as the
// VLAN host is: eth0 with addr, its peer port in the switch's vlan bridge.
// It is removed at the end of the test.
func (l *Lab) vlanNamespace(t *testing.T, suffix string, addr netip.Prefix) *qemu.Netns {
	t.Helper()
	ns, err := qemu.NewNetns(l.Switch.Name + "-" + suffix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	port := suffix + "0"
	steps := []struct {
		ns   *qemu.Netns
		args []string
	}{
		{ns, []string{"link", "add", "eth0", "type", "veth", "peer", "name", port, "netns", l.Switch.Name}},
		{ns, []string{"addr", "add", addr.String(), "dev", "eth0"}},
		{ns, []string{"link", "set", "eth0", "up"}},
		{l.Switch, []string{"link", "set", port, "master", "vlan"}},
		{l.Switch, []string{"link", "set", port, "up"}},
	}
	for _, st := range steps {
		if err := st.ns.IP(st.args...); err != nil {
			t.Fatal(err)
		}
	}
	return ns
}

// keepalived is Debian's keepalived run in a namespace in the foreground,
// VRRP only, from its own configuration file; it never reads
// /etc/keepalived.
type keepalived struct {
	cmd  *exec.Cmd
	dir  string
	log  string
	done chan struct{}
}

const keepalivedBin = "/usr/sbin/keepalived"

func startKeepalived(t *testing.T, ns *qemu.Netns, conf string) *keepalived {
	t.Helper()
	if _, err := os.Stat(keepalivedBin); err != nil {
		t.Fatalf("keepalived is required (Debian package keepalived): %v", err)
	}
	k := &keepalived{dir: t.TempDir(), done: make(chan struct{})}
	cf := filepath.Join(k.dir, "keepalived.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	k.log = filepath.Join(k.dir, "keepalived.log")
	out, err := os.Create(k.log)
	if err != nil {
		t.Fatal(err)
	}
	k.cmd = ns.Command(keepalivedBin, "--dont-fork", "--log-console", "--log-detail", "--no-syslog", "--vrrp",
		"--use-file", cf, "--pid", filepath.Join(k.dir, "keepalived.pid"), "--vrrp_pid", filepath.Join(k.dir, "vrrp.pid"))
	k.cmd.Stdout, k.cmd.Stderr = out, out
	if err := deathsig.Start(k.cmd); err != nil {
		t.Fatal(err)
	}
	go func() { k.cmd.Wait(); out.Close(); close(k.done) }()
	t.Cleanup(k.stop)
	return k
}

// stop ends keepalived (SIGTERM: it stops its VRRP child), and kills the
// child itself if it outlived it.
func (k *keepalived) stop() {
	k.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-k.done:
	case <-time.After(5 * time.Second):
		k.cmd.Process.Kill()
		<-k.done
	}
	if b, err := os.ReadFile(filepath.Join(k.dir, "vrrp.pid")); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
			if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil && strings.HasPrefix(string(comm), "keepalived") {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
}

func (k *keepalived) output() string {
	b, _ := os.ReadFile(k.log)
	return string(b)
}

// waitMaster waits for keepalived's "Entering MASTER STATE".
func (k *keepalived) waitMaster(ctx context.Context) error {
	for !strings.Contains(k.output(), "Entering MASTER STATE") {
		select {
		case <-ctx.Done():
			return fmt.Errorf("keepalived never became master:\n%s", tail(k.output(), 2<<10))
		case <-k.done:
			return fmt.Errorf("keepalived exited:\n%s", tail(k.output(), 2<<10))
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

// target is one address a scan probes, named for the report.
type target struct {
	Name string
	Addr netip.Addr
}

// scanResult is what answered a scan: per target, the open ports (a
// connection was made; for UDP: none, UDP cannot tell) and the ports that
// answered with a refusal (a TCP RST or an ICMP port unreachable), which
// shows a packet got through the filter to a port nothing listens on.
type scanResult struct {
	Open, Refused map[string][]int
}

func (r scanResult) String() string {
	var b strings.Builder
	for _, m := range []struct {
		what string
		ps   map[string][]int
	}{{"open", r.Open}, {"refused", r.Refused}} {
		for _, name := range slices.Sorted(maps.Keys(m.ps)) {
			if ports := m.ps[name]; len(ports) > 0 {
				fmt.Fprintf(&b, "%s %s %v; ", name, m.what, ports)
			}
		}
	}
	if b.Len() == 0 {
		return "nothing answered"
	}
	return strings.TrimSuffix(b.String(), "; ")
}

// scanPorts are the ports every scan probes: the well-known ones and the
// status API's.
func scanPorts() []int {
	ports := make([]int, 0, 1025)
	for p := 1; p <= 1024; p++ {
		ports = append(ports, p)
	}
	return append(ports, int(status.Port))
}

// scan probes every port of every target from namespace ns over network
// ("tcp4": a connection attempt; "udp4": one datagram, then a read that
// fails with "connection refused" if an ICMP port unreachable came back),
// at most parallel at a time, each for timeout.
func scan(ctx context.Context, ns *qemu.Netns, network string, targets []target, timeout time.Duration, parallel int) scanResult {
	res := scanResult{Open: map[string][]int{}, Refused: map[string][]int{}}
	var mu sync.Mutex
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for _, tg := range targets {
		for _, port := range scanPorts() {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				open, refused := probe(ctx, ns, network, netip.AddrPortFrom(tg.Addr, uint16(port)), timeout)
				mu.Lock()
				defer mu.Unlock()
				if open {
					res.Open[tg.Name] = append(res.Open[tg.Name], port)
				}
				if refused {
					res.Refused[tg.Name] = append(res.Refused[tg.Name], port)
				}
			}()
		}
	}
	wg.Wait()
	for _, m := range []map[string][]int{res.Open, res.Refused} {
		for k := range m {
			slices.Sort(m[k])
		}
	}
	return res
}

func probe(ctx context.Context, ns *qemu.Netns, network string, dst netip.AddrPort, timeout time.Duration) (open, refused bool) {
	c, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := ns.DialContext(c, network, dst.String())
	if err != nil {
		return false, errors.Is(err, syscall.ECONNREFUSED)
	}
	defer conn.Close()
	if network == "tcp4" {
		return true, false
	}
	conn.SetDeadline(time.Now().Add(timeout))
	if _, err := conn.Write([]byte{0}); err != nil {
		return false, errors.Is(err, syscall.ECONNREFUSED)
	}
	_, err = conn.Read(make([]byte, 64))
	return false, errors.Is(err, syscall.ECONNREFUSED)
}

// bgpOpen tries to open a BGP session to dst from ns as AS asn: TCP, then
// an OPEN. It returns what came of it: "timeout", "refused", or what the
// other side sent back (an OPEN would be a session coming up).
func bgpOpen(ctx context.Context, ns *qemu.Netns, dst netip.AddrPort, asn uint16, id netip.Addr) string {
	c, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	conn, err := ns.DialContext(c, "tcp4", dst.String())
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case err != nil:
		return "timeout"
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(3 * time.Second))
	// RFC 4271 4.2: marker, length 29, type OPEN, version 4, AS, hold
	// time 90, BGP identifier, no optional parameters.
	msg := make([]byte, 29)
	for i := range 16 {
		msg[i] = 0xff
	}
	binary.BigEndian.PutUint16(msg[16:], 29)
	msg[18], msg[19] = 1, 4
	binary.BigEndian.PutUint16(msg[20:], asn)
	binary.BigEndian.PutUint16(msg[22:], 90)
	a := id.As4()
	copy(msg[24:28], a[:])
	if _, err := conn.Write(msg); err != nil {
		return "connected, write failed: " + err.Error()
	}
	hdr := make([]byte, 19)
	if _, err := io.ReadFull(conn, hdr); err != nil {
		return "connected, no answer: " + err.Error()
	}
	switch hdr[18] {
	case 1:
		return "connected, OPEN received"
	case 3:
		return "connected, NOTIFICATION received"
	}
	return fmt.Sprintf("connected, message type %d received", hdr[18])
}
