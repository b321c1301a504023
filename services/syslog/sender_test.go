package syslog

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidegate/tidegate/internal/testrun"
)

func mustAddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// listen returns a TCP listener on the loopback whose Accept gives up
// after 10 s, and closes it when the test ends.
func listen(t *testing.T) *net.TCPListener {
	t.Helper()
	ln, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(mustAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	ln.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { ln.Close() })
	return ln
}

// start runs a Sender for cfg until the test ends.
func start(t *testing.T, cfg Config) *Sender {
	t.Helper()
	if cfg.Hostname == "" {
		cfg.Hostname = "vpn-gw-1"
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	testrun.Until(t, "Run", s.Run)
	return s
}

// waitStats waits up to 5 s for the sender's counters to satisfy ok, and
// fails the test with them otherwise: a message is counted just after the
// receiver may have read it.
func waitStats(t *testing.T, s *Sender, want string, ok func(Stats) bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		st := s.Stats()
		if ok(st) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v, want %s", st, want)
		}
	}
}

// readFrame reads one octet-counted message.
func readFrame(r *bufio.Reader) (string, error) {
	n, err := r.ReadString(' ')
	if err != nil {
		return "", err
	}
	size, err := strconv.Atoi(strings.TrimSuffix(n, " "))
	if err != nil {
		return "", fmt.Errorf("frame length %q: %v", n, err)
	}
	b := make([]byte, size)
	_, err = io.ReadFull(r, b)
	return string(b), err
}

func line(i int) string {
	return fmt.Sprintf("time=2026-05-04T19:59:58.%03dZ level=INFO msg=\"line %d\" svc=test\n", i%1000, i)
}

// TestTCPFraming: messages arrive octet-counted, in order, numbered.
func TestTCPFraming(t *testing.T) {
	ln := listen(t)
	s := start(t, Config{Protocol: "tcp", Address: mustAddrPort(ln.Addr().String())})
	for i := range 3 {
		s.Write([]byte(line(i)))
	}
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	for i := range 3 {
		m, err := readFrame(r)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf(`<30>1 2026-05-04T19:59:58.%03dZ vpn-gw-1 tidegate `, i)
		if !strings.HasPrefix(m, want) || !strings.Contains(m, fmt.Sprintf(` test [meta sequenceId="%d"] level=INFO msg="line %d" svc=test`, i+1, i)) {
			t.Errorf("message %d = %q", i, m)
		}
	}
	waitStats(t, s, "3 sent, connected", func(st Stats) bool { return st.Sent == 3 && st.Dropped == 0 && st.Connected })
}

// TestTCPReconnects: the receiver closes the connection; the sender
// notices before writing, connects again and loses nothing.
func TestTCPReconnects(t *testing.T) {
	ln := listen(t)
	s := start(t, Config{Protocol: "tcp", Address: mustAddrPort(ln.Addr().String()), MinBackoff: 10 * time.Millisecond})
	s.Write([]byte(line(0)))
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := readFrame(bufio.NewReader(c)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	time.Sleep(50 * time.Millisecond) // the FIN arrives
	s.Write([]byte(line(1)))
	c, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	m, err := readFrame(bufio.NewReader(c))
	if err != nil || !strings.Contains(m, `msg="line 1"`) {
		t.Fatalf("after reconnecting got %q, %v", m, err)
	}
	waitStats(t, s, "2 sent, none dropped", func(st Stats) bool { return st.Sent == 2 && st.Dropped == 0 && st.Connected })
}

// TestUDP: one message per datagram, no framing.
func TestUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	s := start(t, Config{Protocol: "udp", Address: mustAddrPort(pc.LocalAddr().String())})
	s.Write([]byte(line(0) + line(1))) // two lines in one Write: two messages
	pc.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	for i := range 2 {
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		if m := string(buf[:n]); !strings.HasPrefix(m, "<30>1 ") || !strings.HasSuffix(m, fmt.Sprintf(`msg="line %d" svc=test`, i)) {
			t.Errorf("datagram %d = %q", i, m)
		}
	}
}

// TestWriteNeverBlocks: with the receiver away, Write returns at once,
// the queue keeps the oldest lines and the rest are counted.
func TestWriteNeverBlocks(t *testing.T) {
	s := start(t, Config{Protocol: "tcp", Address: mustAddrPort("10.0.1.50:514"), Queue: 10,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			<-ctx.Done() // a receiver that never answers
			return nil, errors.New("no answer")
		}})
	began := time.Now()
	for i := range 10000 {
		s.Write([]byte(line(i)))
	}
	if d := time.Since(began); d > 2*time.Second {
		t.Errorf("10000 writes took %v", d)
	}
	st := s.Stats()
	// One line may be out of the queue, in the dial's hands.
	if kept := 10000 - st.Dropped - uint64(st.Queued); st.Sent != 0 || st.Queued < 9 || kept > 1 {
		t.Errorf("stats %+v; want 10 queued (9 and one being sent), the rest dropped", st)
	}
}

// TestFlushOnStop: lines queued when Run's context ends still leave.
func TestFlushOnStop(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	s, err := New(Config{Protocol: "udp", Address: mustAddrPort(pc.LocalAddr().String()), Hostname: "h"})
	if err != nil {
		t.Fatal(err)
	}
	s.Write([]byte(line(0) + line(1)))
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // stopped before it ran
	s.Run(ctx)
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	for range 2 {
		if _, _, err := pc.ReadFrom(buf); err != nil {
			t.Fatal(err)
		}
	}
	if st := s.Stats(); st.Sent != 2 {
		t.Errorf("stats %+v, want 2 sent", st)
	}
}

func TestNewRefuses(t *testing.T) {
	for _, cfg := range []Config{
		{Protocol: "tls", Address: mustAddrPort("10.0.1.50:514")},
		{Protocol: "udp"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) = nil error", cfg)
		}
	}
}
