package status

import (
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/net/netutil"
)

// limits bound what one client can hold of the status server: the API
// answers small GETs, so anything slow or large is an attack or a broken
// client, and a gateway must not spend its memory or its sockets on it.
type limits struct {
	// readHeader cuts a client that has not sent its request line and
	// headers by then (slowloris trickles a header every few seconds).
	readHeader time.Duration
	// read cuts a client that has not sent its whole request (GETs have
	// no body, so this is readHeader with room to spare).
	read time.Duration
	// write cuts a response the client does not read: /status with
	// MaxRoutes routes is a few hundred KiB.
	write time.Duration
	// idle closes a kept-alive connection with no new request.
	idle time.Duration
	// headerBytes caps the request line and headers; beyond it (plus the
	// 4 KiB net/http allows on top) the answer is 431. A status request
	// needs a few hundred bytes.
	headerBytes int
	// conns caps the connections served at once on each listener; more
	// wait in the kernel's accept queue until one ends.
	conns int
}

var defaultLimits = limits{
	readHeader:  5 * time.Second,
	read:        10 * time.Second,
	write:       30 * time.Second,
	idle:        30 * time.Second,
	headerBytes: 8 << 10,
	conns:       32,
}

// limited returns ln, capped at s.limits.conns connections at a time, and
// an http.Server with s.limits' timeouts for h.
func (s *Server) limited(ln net.Listener, h http.Handler) served {
	l := s.limits
	return served{
		ln: netutil.LimitListener(ln, l.conns),
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: l.readHeader,
			ReadTimeout:       l.read,
			WriteTimeout:      l.write,
			IdleTimeout:       l.idle,
			MaxHeaderBytes:    l.headerBytes,
			ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
		},
	}
}
