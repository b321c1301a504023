package status

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"

	"github.com/prometheus/client_golang/prometheus"
)

// A management listener serves monitoring from outside the VLAN: the site
// file's status.allow names the sources (a Prometheus server, a load
// balancer's health check) and the gateway opens a listener on eth0 for
// them. eth0 faces the Internet, so the listener trusts nothing:
//
//   - a connection from a source outside the allow list is closed as soon
//     as it is accepted, before a byte of it is read, and counted;
//   - it serves GET /healthz and GET /metrics only, which hold no
//     configuration, no log and no route; anything else is 404, counted;
//   - it has the limits of every listener (limits.go).
//
// The counts are tidegate_status_rejected_total{reason="source"|"path"}.

// Reasons of tidegate_status_rejected_total.
const (
	rejectSource = "source" // a connection from outside the allow list
	rejectPath   = "path"   // a request for an endpoint the listener does not serve
)

// rejectedName is the management listener's counter of refusals.
const rejectedName = "tidegate_status_rejected_total"

// managementPaths are what a management listener serves.
var managementPaths = map[string]bool{"/healthz": true, "/metrics": true}

func newRejected() *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: rejectedName,
		Help: "Connections and requests the status API's management listener refused: source (a connection from outside status.allow, closed unread), path (an endpoint it does not serve).",
	}, []string{"reason"})
	// Both series exist from the start, so that a rate() sees the first.
	c.WithLabelValues(rejectSource)
	c.WithLabelValues(rejectPath)
	return c
}

// ServeManagement serves /healthz and /metrics on ln, to sources inside
// allow only, until ctx ends; it then shuts down like Serve and returns
// nil. Connections from other sources are closed unread and requests for
// other endpoints answered 404, each counted in
// tidegate_status_rejected_total. ln must be a TCP listener (a source
// that is not an IP address is outside every list).
//
// The allow list is given here, not in Config, because the gateway builds
// its Server before it has a configuration, and the list comes from the
// site file (status.allow). An empty or invalid list is an error and
// nothing is served: a management listener open to all is never what was
// meant. ServeManagement closes ln in every case.
func (s *Server) ServeManagement(ctx context.Context, ln net.Listener, allow []netip.Prefix) error {
	if len(allow) == 0 {
		ln.Close()
		return errors.New("status: management listener without an allow list")
	}
	prefixes := make([]netip.Prefix, len(allow))
	for i, p := range allow {
		if !p.IsValid() {
			ln.Close()
			return fmt.Errorf("status: management allow list: invalid prefix %v", p)
		}
		prefixes[i] = p.Masked()
	}
	filtered := &allowListener{Listener: ln, allow: prefixes, rejected: s.rejected.WithLabelValues(rejectSource)}
	s.serve(ctx, []served{s.limited(filtered, http.HandlerFunc(s.serveManagement))})
	return nil
}

func (s *Server) serveManagement(w http.ResponseWriter, r *http.Request) {
	if !managementPaths[r.URL.Path] {
		s.rejected.WithLabelValues(rejectPath).Inc()
		http.NotFound(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// allowListener accepts connections from sources inside allow only; it
// closes the others at once. It sits under the connection limit, so that
// refused sources do not take the allowed ones' places.
type allowListener struct {
	net.Listener
	allow    []netip.Prefix
	rejected prometheus.Counter
}

func (l *allowListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.allowed(c.RemoteAddr()) {
			return c, nil
		}
		l.rejected.Inc()
		c.Close()
	}
}

func (l *allowListener) allowed(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return false
	}
	ip := ta.AddrPort().Addr().Unmap()
	for _, p := range l.allow {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
