package netnstest

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ListenTCP listens on addr inside ns until the test ends, accepting and
// closing every connection unless the caller accepts itself (accept false).
func ListenTCP(t testing.TB, ns, addr string, accept bool) net.Listener {
	t.Helper()
	var l net.Listener
	if err := In(ns, func() (err error) { l, err = net.Listen("tcp4", addr); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if accept {
		Serve(l, func(c net.Conn) { c.Close() })
	}
	return l
}

// Serve accepts connections on l until it is closed, handing each to
// handle on a goroutine of its own. It returns at once.
func Serve(l net.Listener, handle func(net.Conn)) {
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go handle(c)
		}
	}()
}

// DialTCP connects from ns to addr, from the source address src (the zero
// Addr: the kernel's choice), within timeout.
func DialTCP(ns string, src netip.Addr, addr string, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	if src.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: src.AsSlice()}
	}
	var c net.Conn
	err := In(ns, func() (err error) {
		c, err = d.DialContext(context.Background(), "tcp4", addr)
		return err
	})
	return c, err
}

// TCPReaches reports whether a connection from src in ns to addr is
// accepted within half a second (inside a lab, a few milliseconds).
func TCPReaches(ns string, src netip.Addr, addr string) bool {
	c, err := DialTCP(ns, src, addr, 500*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// UDPReaches sends datagrams from src in ns "from" to addr, where a socket
// in ns "to" listens, and reports whether one arrived.
func UDPReaches(t testing.TB, from string, src netip.Addr, to, addr string) bool {
	t.Helper()
	var pc net.PacketConn
	if err := In(to, func() (err error) { pc, err = net.ListenPacket("udp4", addr); return err }); err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	d := net.Dialer{}
	if src.IsValid() {
		d.LocalAddr = &net.UDPAddr{IP: src.AsSlice()}
	}
	var c net.Conn
	if err := In(from, func() (err error) { c, err = d.Dial("udp4", addr); return err }); err != nil {
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

// PeerMSS connects from ns to addr (served by l, which must not accept on
// its own) and returns the MSS the accepted side uses, which is at most
// what the SYN advertised.
func PeerMSS(t testing.TB, ns, addr string, l net.Listener) int {
	t.Helper()
	c, err := DialTCP(ns, netip.Addr{}, addr, time.Second)
	if err != nil {
		t.Fatalf("connecting to %s: %v", addr, err)
	}
	defer c.Close()
	a, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	return tcpMSS(t, a)
}

// LocalMSS returns the MSS of the connection the dialling side got: at
// most what the SYN-ACK advertised.
func LocalMSS(t testing.TB, c net.Conn) int {
	t.Helper()
	return tcpMSS(t, c)
}

func tcpMSS(t testing.TB, c net.Conn) int {
	t.Helper()
	raw, err := c.(*net.TCPConn).SyscallConn()
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
