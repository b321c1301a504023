package syslog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tidegate/tidegate/internal/consolelog"
)

// Defaults and bounds of a Sender.
const (
	// DefaultQueue is how many lines wait for the receiver: the ring's
	// MaxLines, so that the boot's lines replayed at start all fit, and
	// about 200 KiB of typical lines.
	DefaultQueue = consolelog.MaxLines
	// DefaultAppName is every message's APP-NAME.
	DefaultAppName = "tidegate"
	// MinBackoff and MaxBackoff bound the wait between two attempts to
	// connect over TCP.
	MinBackoff = time.Second
	MaxBackoff = 30 * time.Second
	// DialTimeout and WriteTimeout bound one connection attempt and one
	// message's write, so that a stuck receiver only fills the queue.
	DialTimeout  = 5 * time.Second
	WriteTimeout = 5 * time.Second
	// FlushTimeout is how long Run sends what is queued after its
	// context ends: a planned stop has 15 s in all (PID 1's grace time).
	FlushTimeout = time.Second
)

// Config says where a Sender sends and what its messages say.
type Config struct {
	// Protocol is "udp" or "tcp"; Address the receiver's.
	Protocol string
	Address  netip.AddrPort
	// Hostname is every message's HOSTNAME: the gateway's Linode label.
	Hostname string
	// AppName is [DefaultAppName]; ProcID is [this process's pid].
	AppName string
	ProcID  int
	// Queue is how many lines may wait for the receiver; [DefaultQueue].
	Queue int
	// MinBackoff and MaxBackoff are the wait between connection attempts;
	// [MinBackoff, MaxBackoff].
	MinBackoff, MaxBackoff time.Duration
	// Dial connects to the receiver; [a net.Dialer with DialTimeout].
	// Tests dial from inside a network namespace.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// Log gets the sender's own events: connected, receiver lost. They
	// are logged on a change only, never per message. [discarded]
	Log *slog.Logger
}

// Stats are a Sender's counters.
type Stats struct {
	Sent    uint64 // messages written to the receiver
	Dropped uint64 // lines that never left: the queue was full, or the send failed
	Queued  int    // lines waiting now
	// Connected: over TCP, a connection is open; over UDP, the last send
	// was not refused.
	Connected bool
	// Error says why the last connection or send failed, while it does.
	Error string
}

// A Sender sends log lines to a syslog receiver. Write it (through
// consolelog.Tee) from any goroutine; Run sends.
type Sender struct {
	cfg    Config
	header header
	queue  chan message

	seq, sent, dropped atomic.Uint64

	mu        sync.Mutex
	connected bool
	err       string
	announced bool      // "sending" logged since the last warning
	warned    time.Time // when the last warning was logged
}

// New returns a Sender for cfg, which sends nothing until Run.
func New(cfg Config) (*Sender, error) {
	if cfg.Protocol != "udp" && cfg.Protocol != "tcp" {
		return nil, fmt.Errorf("syslog: protocol %q: want udp or tcp", cfg.Protocol)
	}
	if !cfg.Address.IsValid() {
		return nil, errors.New("syslog: no receiver address")
	}
	if cfg.AppName == "" {
		cfg.AppName = DefaultAppName
	}
	if cfg.ProcID == 0 {
		cfg.ProcID = os.Getpid()
	}
	if cfg.Queue <= 0 {
		cfg.Queue = DefaultQueue
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = MinBackoff
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(MaxBackoff, cfg.MinBackoff)
	}
	if cfg.Dial == nil {
		cfg.Dial = (&net.Dialer{Timeout: DialTimeout}).DialContext
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Sender{
		cfg: cfg,
		header: header{
			hostname: headerField(cfg.Hostname, 255),
			appName:  headerField(cfg.AppName, 48),
			procID:   strconv.Itoa(cfg.ProcID),
		},
		queue: make(chan message, cfg.Queue),
	}, nil
}

// Write queues each line of p, or drops and counts it when the queue is
// full. It never blocks and never fails.
func (s *Sender) Write(p []byte) (int, error) {
	now := time.Now()
	for rest := p; len(rest) > 0; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		if len(line) == 0 {
			continue
		}
		m := message{seq: uint32((s.seq.Add(1)-1)%maxSequenceID + 1), line: consolelog.Cut(line, MaxLine), at: now}
		select {
		case s.queue <- m:
		default:
			s.dropped.Add(1)
		}
	}
	return len(p), nil
}

// Stats returns the counters.
func (s *Sender) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{
		Sent: s.sent.Load(), Dropped: s.dropped.Load(), Queued: len(s.queue),
		Connected: s.connected, Error: s.err,
	}
}

// Run sends the queued lines until ctx ends, then what is still queued for
// at most FlushTimeout. It returns nil: a receiver that is away is waited
// for, not an error.
func (s *Sender) Run(ctx context.Context) error {
	var (
		c       *conn
		pending *message
		buf     []byte
		// backoff is the wait before the next connection attempt after
		// the last one (dialled); it doubles while connections fail or
		// break before a message got through.
		backoff = s.cfg.MinBackoff
		dialled time.Time
		sentOn  int // messages sent on c
	)
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	broken := func(err error) {
		c.Close()
		c = nil
		if sentOn == 0 {
			backoff = min(2*backoff, s.cfg.MaxBackoff)
		} else {
			backoff = s.cfg.MinBackoff
		}
		s.setState(false, err)
	}
	for {
		if pending == nil {
			select {
			case m := <-s.queue:
				pending = &m
			case <-ctx.Done():
				s.flush(c, pending)
				return nil
			}
		}
		if c != nil && !c.alive() {
			broken(errors.New("the receiver closed the connection"))
		}
		if c == nil {
			if !dialled.IsZero() {
				select {
				case <-time.After(time.Until(dialled.Add(backoff))):
				case <-ctx.Done():
					s.flush(nil, pending)
					return nil
				}
			}
			dialled = time.Now()
			var err error
			if c, err = s.dial(ctx); err != nil {
				backoff = min(2*backoff, s.cfg.MaxBackoff)
				s.setState(false, err)
				continue
			}
			sentOn = 0
		}
		buf = s.frame(buf[:0], *pending)
		switch err := c.send(buf, time.Now().Add(WriteTimeout)); {
		case err == nil:
			s.sent.Add(1)
			sentOn++
			pending = nil
			s.setState(true, nil)
		case s.cfg.Protocol == "udp":
			// Refused (ICMP port unreachable) or no route: the
			// datagram is gone; the socket stays.
			s.dropped.Add(1)
			pending = nil
			s.setState(false, err)
		default:
			// The connection is broken, perhaps mid-message: a new one,
			// with this message again.
			broken(err)
		}
	}
}

// flush sends pending and the queued lines over c (or a new connection)
// until FlushTimeout passes; what does not leave is counted dropped.
func (s *Sender) flush(c *conn, pending *message) {
	deadline := time.Now().Add(FlushTimeout)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	var buf []byte
	for {
		var m message
		if pending != nil {
			m, pending = *pending, nil
		} else {
			select {
			case m = <-s.queue:
			default:
				return
			}
		}
		if c == nil || !c.alive() {
			var err error
			if c, err = s.dial(ctx); err != nil {
				s.dropped.Add(uint64(1 + len(s.queue)))
				return
			}
			defer c.Close()
		}
		buf = s.frame(buf[:0], m)
		if err := c.send(buf, deadline); err != nil {
			s.dropped.Add(1)
			if s.cfg.Protocol == "tcp" {
				s.dropped.Add(uint64(len(s.queue)))
				return
			}
			continue
		}
		s.sent.Add(1)
	}
}

// frame appends m as the protocol sends it: alone in a datagram over UDP,
// after its length and a space over TCP (RFC 6587 octet counting).
func (s *Sender) frame(b []byte, m message) []byte {
	if s.cfg.Protocol == "udp" {
		return s.header.format(b, m)
	}
	msg := s.header.format(nil, m)
	b = strconv.AppendInt(b, int64(len(msg)), 10)
	b = append(b, ' ')
	return append(b, msg...)
}

func (s *Sender) dial(ctx context.Context) (*conn, error) {
	c, err := s.cfg.Dial(ctx, s.cfg.Protocol, s.cfg.Address.String())
	if err != nil {
		return nil, err
	}
	return &conn{Conn: c, stream: s.cfg.Protocol == "tcp"}, nil
}

// setState records whether the receiver takes messages, and logs it:
// that it does, once, and again after a warning; that it does not, at most
// once a minute. Never per message, since these lines come back here: a
// UDP receiver that is down makes every other send fail (a datagram goes
// out, the ICMP error refuses the next), and would otherwise log without
// end.
func (s *Sender) setState(ok bool, err error) {
	s.mu.Lock()
	s.connected, s.err = ok, ""
	if err != nil {
		s.err = err.Error()
	}
	announce := ok && !s.announced
	warn := !ok && time.Since(s.warned) >= warnEvery
	if announce {
		s.announced = true
	}
	if warn {
		s.announced, s.warned = false, time.Now()
	}
	s.mu.Unlock()
	switch {
	case announce:
		s.cfg.Log.Info("sending to the syslog receiver", "addr", s.cfg.Address, "protocol", s.cfg.Protocol)
	case warn:
		s.cfg.Log.Warn("syslog receiver unreachable; lines wait in the queue, then are dropped and counted",
			"addr", s.cfg.Address, "protocol", s.cfg.Protocol, "err", err, "queue", s.cfg.Queue, "dropped", s.dropped.Load())
	}
}

// warnEvery is how often the sender may say that the receiver is away.
const warnEvery = time.Minute

// conn is the connection to the receiver.
type conn struct {
	net.Conn
	stream bool // TCP
}

func (c *conn) send(b []byte, deadline time.Time) error {
	if err := c.SetWriteDeadline(deadline); err != nil {
		return err
	}
	_, err := c.Write(b)
	return err
}

// alive reports whether a TCP receiver has not closed the connection. It
// sends nothing, so a peek that finds end of stream or an error means it is
// gone; the first write after a close would otherwise succeed into the
// socket and be lost.
func (c *conn) alive() bool {
	if !c.stream {
		return true
	}
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return true // cannot tell; a failed write will
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	gone := false
	err = rc.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		gone = n == 0 && err == nil || err != nil && err != unix.EAGAIN && err != unix.EINTR
		return true // never wait for data
	})
	return err == nil && !gone
}

var _ io.Writer = (*Sender)(nil)
