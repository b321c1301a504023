package firewall_test

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tidegate/tidegate/internal/netnstest"
	"github.com/tidegate/tidegate/services/firewall"
)

// The attack lab, on documentation and link-local addresses:
//
//	inet 192.0.2.2 (management), .3 (anyone) --- eth0 192.0.2.1   gw
//	vlan 10.0.1.3 (the peer), .10 (a host)   --- eth1 10.0.1.2    gw
//	aws 169.254.10.1, VPC host 198.51.100.2  --- xfrm1 169.254.10.2 gw
//
// xfrm1 is a veth named like the gateway's XFRM interfaces: the host
// kernel has none, and the table matches names only. The gateway listens
// on every port the table mentions and on some it does not, on all its
// addresses; each neighbour then tries them all.
const (
	statusPort = 9911
	otherPort  = 2222
	// tunnelMSS is the tunnel's clamp, as configs gives the default
	// proposals (AWS's 1438 less 40).
	tunnelMSS = 1398
)

var (
	gwUplink  = netip.MustParseAddr("192.0.2.1")
	mgmt      = netip.MustParseAddr("192.0.2.2")
	stranger  = netip.MustParseAddr("192.0.2.3")
	gwVLAN    = netip.MustParseAddr("10.0.1.2")
	peerAddr  = netip.MustParseAddr("10.0.1.3")
	vlanHost  = netip.MustParseAddr("10.0.1.10")
	gwTunnel  = netip.MustParseAddr("169.254.10.2")
	awsInside = netip.MustParseAddr("169.254.10.1")
	vpcHost   = netip.MustParseAddr("198.51.100.2")
)

type lab struct {
	*netnstest.Lab
	gw, inet, vlan, aws string
}

func newLab(t *testing.T) *lab {
	l := &lab{Lab: netnstest.NewLab(t, "fw")}
	l.gw, l.inet, l.vlan, l.aws = l.Netns("gw"), l.Netns("inet"), l.Netns("vlan"), l.Netns("aws")
	l.Wire(l.gw, "eth0", "192.0.2.1/24", l.inet, "eth0", "192.0.2.2/24")
	l.Run("ip", "-n", l.inet, "addr", "add", "192.0.2.3/24", "dev", "eth0")
	l.Wire(l.gw, "eth1", "10.0.1.2/24", l.vlan, "eth0", "10.0.1.3/24")
	l.Run("ip", "-n", l.vlan, "addr", "add", "10.0.1.10/24", "dev", "eth0")
	l.Wire(l.gw, "xfrm1", "169.254.10.2/30", l.aws, "eth0", "169.254.10.1/30")
	l.Run("ip", "-n", l.aws, "addr", "add", "198.51.100.2/24", "dev", "lo")
	// Routes as the gateway's would be: the VPC through the tunnel; the
	// neighbours send everything to the gateway (inside the lab only).
	l.Run("ip", "-n", l.gw, "route", "add", "198.51.100.0/24", "via", "169.254.10.1", "dev", "xfrm1")
	for _, dst := range []string{"198.51.100.0/24", "192.0.2.0/24", "169.254.10.0/30"} {
		l.Run("ip", "-n", l.vlan, "route", "add", dst, "via", "10.0.1.2")
	}
	l.Run("ip", "-n", l.aws, "route", "add", "10.0.1.0/24", "via", "169.254.10.2")
	l.Run("ip", "-n", l.aws, "route", "add", "192.0.2.0/24", "via", "169.254.10.2")
	l.Run("ip", "-n", l.inet, "route", "add", "10.0.1.0/24", "via", "192.0.2.1")
	l.Run("ip", "-n", l.inet, "route", "add", "198.51.100.0/24", "via", "192.0.2.1")
	l.Run("ip", "-n", l.inet, "route", "add", "169.254.10.0/30", "via", "192.0.2.1")
	l.Exec(l.gw, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	return l
}

func (l *lab) install(t *testing.T, cfg firewall.Config) {
	t.Helper()
	if err := netnstest.In(l.gw, func() error { return firewall.Install(cfg) }); err != nil {
		t.Fatal(err)
	}
}

func (l *lab) counters(t *testing.T) map[string]uint64 {
	t.Helper()
	var m map[string]uint64
	if err := netnstest.In(l.gw, func() (err error) { m, err = firewall.Counters(); return err }); err != nil {
		t.Fatal(err)
	}
	return m
}

// conntrack is the gateway's connection tracking table; the test is
// skipped where the kernel does not show it.
func (l *lab) conntrack(t *testing.T) string {
	t.Helper()
	var table []byte
	if err := netnstest.In(l.gw, func() (err error) {
		table, err = os.ReadFile("/proc/net/nf_conntrack")
		return err
	}); err != nil {
		t.Skipf("no conntrack table to read: %v", err)
	}
	return string(table)
}

// fullConfig is the table of a gateway whose role is known.
func fullConfig() firewall.Config {
	return firewall.Config{
		Uplink: "eth0", VLAN: "eth1",
		VLANPrefix: netip.MustParsePrefix("10.0.1.0/24"),
		Peer:       peerAddr,
		Tunnels:    []firewall.Tunnel{{Device: "xfrm1", Remote: awsInside, MSS: tunnelMSS}},
		StatusPort: statusPort,
		Management: []netip.Prefix{netip.MustParsePrefix("192.0.2.2/32")},
	}
}

type probe struct {
	who     string
	ns      string
	src     netip.Addr
	proto   string // tcp or udp
	dst     netip.Addr
	port    uint16
	answers bool
}

func (l *lab) check(t *testing.T, probes []probe) {
	t.Helper()
	for _, p := range probes {
		addr := netip.AddrPortFrom(p.dst, p.port).String()
		var got bool
		if p.proto == "udp" {
			got = netnstest.UDPReaches(t, p.ns, p.src, l.gw, addr)
		} else {
			got = netnstest.TCPReaches(p.ns, p.src, addr)
		}
		if got != p.answers {
			t.Errorf("%s (%v) -> %s %s: reaches %v, want %v", p.who, p.src, p.proto, addr, got, p.answers)
		}
	}
}

// TestAttackFromOutside: every neighbour tries every port on every address
// of the gateway; only the documented ones answer.
func TestAttackFromOutside(t *testing.T) {
	l := newLab(t)
	for _, port := range []uint16{firewall.PortBGP, statusPort, otherPort} {
		netnstest.ListenTCP(t, l.gw, fmt.Sprintf("0.0.0.0:%d", port), true)
	}
	l.install(t, fullConfig())

	var probes []probe
	tcp := func(who, ns string, src, dst netip.Addr, port uint16, answers bool) {
		probes = append(probes, probe{who, ns, src, "tcp", dst, port, answers})
	}
	for _, dst := range []netip.Addr{gwUplink, gwVLAN, gwTunnel} {
		// The internet: nothing over TCP, the status port to management.
		tcp("internet", l.inet, stranger, dst, firewall.PortBGP, false)
		tcp("internet", l.inet, stranger, dst, statusPort, false)
		tcp("internet", l.inet, stranger, dst, otherPort, false)
		tcp("management", l.inet, mgmt, dst, statusPort, true)
		tcp("management", l.inet, mgmt, dst, firewall.PortBGP, false)
		// The VLAN: BGP from the peer only, the status API to all.
		tcp("peer", l.vlan, peerAddr, dst, firewall.PortBGP, true)
		tcp("VLAN host", l.vlan, vlanHost, dst, firewall.PortBGP, false)
		tcp("VLAN host", l.vlan, vlanHost, dst, statusPort, true)
		tcp("VLAN host", l.vlan, vlanHost, dst, otherPort, false)
		// Through the tunnel: BGP from AWS's inside address, nothing
		// from the VPC.
		tcp("AWS", l.aws, awsInside, dst, firewall.PortBGP, true)
		tcp("AWS", l.aws, awsInside, dst, statusPort, false)
		tcp("VPC host", l.aws, vpcHost, dst, firewall.PortBGP, false)
		tcp("VPC host", l.aws, vpcHost, dst, statusPort, false)
		tcp("VPC host", l.aws, vpcHost, dst, otherPort, false)
	}
	for _, c := range []struct {
		port    uint16
		answers bool
	}{{firewall.PortIKE, true}, {firewall.PortNATT, true}, {5000, false}, {53, false}} {
		probes = append(probes, probe{"internet", l.inet, stranger, "udp", gwUplink, c.port, c.answers})
		probes = append(probes, probe{"VLAN host", l.vlan, vlanHost, "udp", gwVLAN, c.port, false})
		probes = append(probes, probe{"VPC host", l.aws, vpcHost, "udp", gwTunnel, c.port, false})
	}
	l.check(t, probes)

	// ICMP from everywhere.
	l.Exec(l.inet, "ping", "-c1", "-W2", "192.0.2.1")
	l.Exec(l.vlan, "ping", "-c1", "-W2", "10.0.1.2")
	l.Exec(l.aws, "ping", "-c1", "-W2", "-I", "198.51.100.2", "169.254.10.2")

	// The gateway's own connections out of eth0 get their replies.
	netnstest.ListenTCP(t, l.inet, "192.0.2.2:8080", true)
	if !netnstest.TCPReaches(l.gw, netip.Addr{}, "192.0.2.2:8080") {
		t.Errorf("the gateway's own connection out of eth0 got no reply")
	}

	c := l.counters(t)
	for _, name := range []string{firewall.DropUplink, firewall.DropVLAN, firewall.DropTunnel} {
		if c[name] == 0 {
			t.Errorf("drop counter %s: 0 after the attacks (%v)", name, c)
		}
	}
	t.Logf("drop counters: %v", c)
}

// TestForwarding: the VLAN and the VPC reach each other through the
// gateway, with the MSS clamped both ways; nothing else is forwarded.
func TestForwarding(t *testing.T) {
	l := newLab(t)
	vpcL := netnstest.ListenTCP(t, l.aws, "198.51.100.2:8080", false)
	netnstest.ListenTCP(t, l.vlan, "10.0.1.10:8080", true)
	netnstest.ListenTCP(t, l.inet, "192.0.2.2:8080", true)
	if mss := netnstest.PeerMSS(t, l.vlan, "198.51.100.2:8080", vpcL); mss <= tunnelMSS {
		t.Fatalf("before the clamp the MSS is already %d", mss)
	}
	l.install(t, fullConfig())

	for _, c := range []struct {
		who, ns string
		src     netip.Addr
		addr    string
		want    bool
	}{
		{"VLAN host to the VPC", l.vlan, vlanHost, "198.51.100.2:8080", true},
		{"VPC to a VLAN host", l.aws, vpcHost, "10.0.1.10:8080", true},
		{"internet to a VLAN host", l.inet, stranger, "10.0.1.10:8080", false},
		{"internet into the tunnel", l.inet, stranger, "198.51.100.2:8080", false},
		{"VPC to the internet", l.aws, vpcHost, "192.0.2.2:8080", false},
	} {
		if c.want {
			// The VPC listener accepts by hand below; use another port.
			continue
		}
		if got := netnstest.TCPReaches(c.ns, c.src, c.addr); got != c.want {
			t.Errorf("%s: forwarded %v, want %v", c.who, got, c.want)
		}
	}
	if !netnstest.TCPReaches(l.aws, vpcHost, "10.0.1.10:8080") {
		t.Errorf("VPC to a VLAN host: not forwarded")
	}

	// SYN into the tunnel and the SYN-ACK out of it are both clamped.
	done := make(chan int, 1)
	go func() {
		a, err := vpcL.Accept()
		if err != nil {
			done <- 0
			return
		}
		defer a.Close()
		done <- netnstest.LocalMSS(t, a)
	}()
	conn, err := netnstest.DialTCP(l.vlan, vlanHost, "198.51.100.2:8080", 2*time.Second)
	if err != nil {
		t.Fatalf("VLAN host to the VPC: %v", err)
	}
	defer conn.Close()
	// A socket's MSS leaves out its TCP options: 12 bytes of timestamps.
	clamped := func(mss int) bool { return mss <= tunnelMSS && mss >= tunnelMSS-12 }
	if mss := netnstest.LocalMSS(t, conn); !clamped(mss) {
		t.Errorf("SYN-ACK out of the tunnel: MSS %d, want the tunnel's %d", mss, tunnelMSS)
	}
	if mss := <-done; !clamped(mss) {
		t.Errorf("SYN into the tunnel: MSS %d, want the tunnel's %d", mss, tunnelMSS)
	}
	if c := l.counters(t); c[firewall.DropForward] == 0 {
		t.Errorf("forward drops not counted: %v", c)
	}

	// The forwarded connections are not tracked (raw notrack): the
	// gateway's conntrack table holds none of the VLAN <-> VPC flows.
	table := l.conntrack(t)
	for _, flow := range []string{"dst=198.51.100.2", "dst=10.0.1.10"} {
		if strings.Contains(table, flow) {
			t.Errorf("conntrack tracks a forwarded flow (%s):\n%s", flow, table)
		}
	}
}

// TestESPNotTracked: the ESP the gateway sends (the outer packets of every
// forwarded one, which pass the output hook after encryption) is not
// tracked either: a conntrack lookup per packet on the data path is work
// for nothing when ESP is accepted by protocol both ways.
func TestESPNotTracked(t *testing.T) {
	l := newLab(t)
	l.install(t, fullConfig())
	if err := netnstest.In(l.gw, func() error {
		c, err := net.ListenPacket("ip4:50", gwUplink.String())
		if err != nil {
			return err
		}
		defer c.Close()
		// An ESP header (SPI, sequence) and some payload: the kernel
		// sends it as is, the way xfrm's output is sent.
		_, err = c.WriteTo(make([]byte, 64), &net.IPAddr{IP: net.IP(mgmt.AsSlice())})
		return err
	}); err != nil {
		t.Fatalf("sending ESP: %v", err)
	}
	for line := range strings.Lines(l.conntrack(t)) {
		if f := strings.Fields(line); len(f) > 3 && f[3] == "50" {
			t.Errorf("conntrack tracks the gateway's ESP: %s", line)
		}
	}
}

// TestBootTable: before the role is known only DHCP, ICMP and the
// gateway's own connections get in; no BGP, no status API, from anyone.
func TestBootTable(t *testing.T) {
	l := newLab(t)
	for _, port := range []uint16{firewall.PortBGP, statusPort} {
		netnstest.ListenTCP(t, l.gw, fmt.Sprintf("0.0.0.0:%d", port), true)
	}
	l.install(t, firewall.Config{Uplink: "eth0", VLAN: "eth1"})
	l.check(t, []probe{
		{"peer", l.vlan, peerAddr, "tcp", gwVLAN, firewall.PortBGP, false},
		{"VLAN host", l.vlan, vlanHost, "tcp", gwVLAN, statusPort, false},
		{"AWS", l.aws, awsInside, "tcp", gwTunnel, firewall.PortBGP, false},
		{"internet", l.inet, stranger, "tcp", gwUplink, statusPort, false},
	})
	l.Exec(l.vlan, "ping", "-c1", "-W2", "10.0.1.2")
}

// TestBootTableWithoutVLAN: a VLAN interface that does not exist (yet)
// is matched by name, as rules for the NICs that exist are by index: the
// table installs, and the uplink is filtered as ever.
func TestBootTableWithoutVLAN(t *testing.T) {
	l := newLab(t)
	netnstest.ListenTCP(t, l.gw, fmt.Sprintf("0.0.0.0:%d", statusPort), true)
	l.install(t, firewall.Config{Uplink: "eth0", VLAN: "eth7"})
	l.check(t, []probe{
		{"internet", l.inet, stranger, "tcp", gwUplink, statusPort, false},
		{"VLAN host", l.vlan, vlanHost, "tcp", gwVLAN, statusPort, false},
	})
	l.Exec(l.inet, "ping", "-c1", "-W2", gwUplink.String())
	if c := l.counters(t); c[firewall.DropUplink] == 0 || c[firewall.DropOther] == 0 {
		t.Errorf("drops not counted by interface: %v", c)
	}
}

// TestInstallRefusesBadConfig: a table that cannot be right is refused
// whole, and the previous one stays.
func TestInstallRefusesBadConfig(t *testing.T) {
	l := newLab(t)
	netnstest.ListenTCP(t, l.gw, fmt.Sprintf("0.0.0.0:%d", statusPort), true)
	l.install(t, fullConfig())
	for _, tc := range []struct {
		what   string
		tunnel firewall.Tunnel
	}{
		{"a tunnel device name longer than IFNAMSIZ", firewall.Tunnel{Device: "xfrm-with-a-far-too-long-name", Remote: awsInside, MSS: tunnelMSS}},
		{"a tunnel without an MSS", firewall.Tunnel{Device: "xfrm2", Remote: awsInside}},
		{"an MSS bigger than Ethernet's", firewall.Tunnel{Device: "xfrm2", Remote: awsInside, MSS: 1500}},
	} {
		bad := fullConfig()
		bad.Tunnels = append(bad.Tunnels, tc.tunnel)
		if err := netnstest.In(l.gw, func() error { return firewall.Install(bad) }); err == nil {
			t.Errorf("%s was accepted", tc.what)
		}
	}
	if !netnstest.TCPReaches(l.vlan, vlanHost, net.JoinHostPort("10.0.1.2", fmt.Sprint(statusPort))) {
		t.Errorf("the previous table is gone after a refused install")
	}
}
