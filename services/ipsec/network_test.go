package ipsec_test

import (
	"errors"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tidegate/tidegate/services/ipsec"
	vnetns "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// inNS runs fn on a thread inside the named namespace; sockets fn opens
// stay there.
func inNS(t testing.TB, ns string, fn func() error) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		h, err := vnetns.GetFromName(ns)
		if err != nil {
			errc <- err
			return
		}
		defer h.Close()
		if err := vnetns.Set(h); err != nil {
			errc <- err
			return
		}
		errc <- fn()
	}()
	return <-errc
}

func listenTCP(t testing.TB, ns, addr string) net.Listener {
	t.Helper()
	var l net.Listener
	if err := inNS(t, ns, func() (err error) { l, err = net.Listen("tcp4", addr); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func dialTCP(t testing.TB, ns, addr string) (net.Conn, error) {
	t.Helper()
	var c net.Conn
	err := inNS(t, ns, func() (err error) { c, err = net.DialTimeout("tcp4", addr, time.Second); return err })
	return c, err
}

// udpReaches sends a datagram from ns "from" to addr, where a socket in ns
// "to" listens, and reports whether it arrived.
func udpReaches(t testing.TB, from, to, addr string) bool {
	t.Helper()
	var pc net.PacketConn
	if err := inNS(t, to, func() (err error) { pc, err = net.ListenPacket("udp4", addr); return err }); err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	var c net.Conn
	if err := inNS(t, from, func() (err error) { c, err = net.Dial("udp4", addr); return err }); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 3 {
		_, _ = c.Write([]byte("hello"))
	}
	_ = pc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	_, _, err := pc.ReadFrom(make([]byte, 16))
	return err == nil
}

// peerMSS connects from ns to addr (served by l) and returns the MSS the
// accepted side uses, which is at most what the SYN advertised.
func peerMSS(t testing.TB, ns, addr string, l net.Listener) int {
	t.Helper()
	c, err := dialTCP(t, ns, addr)
	if err != nil {
		t.Fatalf("connecting to %s: %v", addr, err)
	}
	defer c.Close()
	a, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	raw, err := a.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var mss int
	var serr error
	if err := raw.Control(func(fd uintptr) { mss, serr = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_MAXSEG) }); err != nil {
		t.Fatal(err)
	}
	if serr != nil {
		t.Fatal(serr)
	}
	return mss
}

func readSysctl(t testing.TB, ns, key string) string {
	t.Helper()
	var v []byte
	if err := inNS(t, ns, func() (err error) {
		v, err = os.ReadFile("/proc/sys/" + strings.ReplaceAll(key, ".", "/"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(v))
}

// TestNetwork checks the uplink firewall, the MSS clamp and the sysctls in
// a small topology around the gateway:
//
//	internet (192.0.2.2) --eth0-- gw --eth1-- vlan host (10.0.1.10)
//	                               \--xfrm9-- aws host (198.51.100.2)
//
// xfrm9 is a veth standing in for an XFRM interface (the host kernel has
// none): the clamp matches tunnel interfaces by their "xfrm" name prefix.
func TestNetwork(t *testing.T) {
	needRoot(t)
	gw, inet, host, aws := netns(t, "gw"), netns(t, "inet"), netns(t, "host"), netns(t, "aws")
	run(t, "ip", "link", "add", "eth0", "netns", gw, "type", "veth", "peer", "name", "eth0", "netns", inet)
	run(t, "ip", "link", "add", "eth1", "netns", gw, "type", "veth", "peer", "name", "eth1", "netns", host)
	run(t, "ip", "link", "add", "xfrm9", "netns", gw, "type", "veth", "peer", "name", "eth0", "netns", aws)
	for _, c := range [][]string{
		{gw, "eth0", "192.0.2.1/24"}, {inet, "eth0", "192.0.2.2/24"},
		{gw, "eth1", "10.0.1.2/24"}, {host, "eth1", "10.0.1.10/24"},
		{gw, "xfrm9", "198.51.100.1/24"}, {aws, "eth0", "198.51.100.2/24"},
	} {
		run(t, "ip", "-n", c[0], "addr", "add", c[2], "dev", c[1])
		run(t, "ip", "-n", c[0], "link", "set", c[1], "up")
	}
	// Everyone routes through the gateway (inside the lab only).
	run(t, "ip", "-n", inet, "route", "add", "10.0.1.0/24", "via", "192.0.2.1")
	run(t, "ip", "-n", inet, "route", "add", "198.51.100.0/24", "via", "192.0.2.1")
	run(t, "ip", "-n", host, "route", "add", "198.51.100.0/24", "via", "10.0.1.2")
	run(t, "ip", "-n", aws, "route", "add", "10.0.1.0/24", "via", "198.51.100.1")
	// Forwarding on by hand for the baseline; the service must keep it.
	run(t, "ip", "netns", "exec", gw, "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=1")

	awsL := listenTCP(t, aws, "198.51.100.2:8080")
	hostL := listenTCP(t, host, "10.0.1.10:8080")
	// Before: the internet reaches anything, and SYNs keep their MSS.
	if c, err := dialTCP(t, inet, "192.0.2.1:22"); err == nil || !errors.Is(err, unix.ECONNREFUSED) {
		t.Fatalf("before the firewall, a closed port should refuse: %v", err)
		c.Close()
	}
	if mss := peerMSS(t, host, "198.51.100.2:8080", awsL); mss <= ipsec.MSS {
		t.Fatalf("before the clamp the MSS is already %d", mss)
	} else {
		t.Logf("MSS without the clamp: %d", mss)
	}

	// First the firewall alone, so that no charon holds the IKE ports.
	if err := ipsec.InstallFirewall("/run/netns/"+gw, "eth0"); err != nil {
		t.Fatal(err)
	}
	t.Run("uplink input", func(t *testing.T) {
		for _, c := range []struct {
			port string
			want bool
		}{{"500", true}, {"4500", true}, {"5000", false}, {"53", false}} {
			if got := udpReaches(t, inet, gw, "192.0.2.1:"+c.port); got != c.want {
				t.Errorf("UDP %s from the internet reaches the gateway: %v, want %v", c.port, got, c.want)
			}
		}
		// Other interfaces are not filtered.
		if !udpReaches(t, host, gw, "10.0.1.2:5000") {
			t.Errorf("UDP 5000 from the VLAN is dropped")
		}
		// TCP to a closed port: dropped, not refused.
		if c, err := dialTCP(t, inet, "192.0.2.1:22"); err == nil || errors.Is(err, unix.ECONNREFUSED) {
			t.Errorf("TCP 22 from the internet: %v, want a timeout", err)
			if c != nil {
				c.Close()
			}
		}
		// ICMP and replies to the gateway's own connections get in.
		run(t, "ip", "netns", "exec", inet, "ping", "-c1", "-W2", "192.0.2.1")
		inetL := listenTCP(t, inet, "192.0.2.2:8080")
		go func() {
			if c, err := inetL.Accept(); err == nil {
				c.Close()
			}
		}()
		c, err := dialTCP(t, gw, "192.0.2.2:8080")
		if err != nil {
			t.Errorf("the gateway's own connection out of eth0: %v", err)
		} else {
			c.Close()
		}
	})

	t.Run("uplink forward", func(t *testing.T) {
		if c, err := dialTCP(t, inet, "10.0.1.10:8080"); err == nil {
			c.Close()
			t.Errorf("the internet reaches the VLAN through the gateway")
		}
	})

	t.Run("mss clamp", func(t *testing.T) {
		// Into the tunnel (VLAN host -> AWS) and out of it (AWS -> VLAN).
		if mss := peerMSS(t, host, "198.51.100.2:8080", awsL); mss > ipsec.MSS {
			t.Errorf("SYN into the tunnel: MSS %d, want at most %d", mss, ipsec.MSS)
		} else {
			t.Logf("MSS with the clamp: %d (%d less TCP options)", mss, ipsec.MSS)
		}
		if mss := peerMSS(t, aws, "10.0.1.10:8080", hostL); mss > ipsec.MSS {
			t.Errorf("SYN out of the tunnel: MSS %d, want at most %d", mss, ipsec.MSS)
		}
	})

	t.Run("service", func(t *testing.T) {
		// The service installs the same firewall again (replacing the
		// table) and sets the sysctls.
		svc, err := ipsec.New(ipsec.Config{RunDir: t.TempDir(), NetNS: "/run/netns/" + gw, Firewall: true, Sysctls: true,
			Logger: testLogger(t, "")})
		if err != nil {
			t.Fatal(err)
		}
		started(t, svc)
		waitFor(t, 20*time.Second, "charon over VICI", func() bool { return svc.Status().Charon.Running })
		if st := svc.Status(); st.Network != "" {
			t.Fatalf("network setup: %s", st.Network)
		}
		for key, want := range map[string]string{
			"net.ipv4.ip_forward": "1", "net.ipv4.conf.all.rp_filter": "0", "net.ipv4.conf.default.rp_filter": "0",
		} {
			if got := readSysctl(t, gw, key); got != want {
				t.Errorf("%s = %s, want %s", key, got, want)
			}
		}
		if udpReaches(t, inet, gw, "192.0.2.1:5000") {
			t.Errorf("UDP 5000 from the internet reaches the gateway")
		}
		if mss := peerMSS(t, host, "198.51.100.2:8080", awsL); mss > ipsec.MSS {
			t.Errorf("SYN into the tunnel: MSS %d, want at most %d", mss, ipsec.MSS)
		}
	})
}
