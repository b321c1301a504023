package status

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/tidegate/tidegate/internal/english"
)

// Port is the status server's TCP port on the VLAN address (and on eth0
// for the management listener). Not 9090, the Prometheus server's own
// port, nor one of 9091-9999, which Prometheus's "Default port
// allocations" list hands out to the Pushgateway, Alertmanager and the
// exporters (all of 9100-9999 is taken): doc.go says why 8179.
const Port = 8179

// SocketName is the status server's unix socket in the gateway's run
// directory: /run/tidegate/status.sock on the appliance.
const SocketName = "status.sock"

// DefaultSocket is where the console shell finds the gateway.
const DefaultSocket = "/run/tidegate/" + SocketName

// Config is what a Server serves. Only Status is required.
type Config struct {
	// Status returns the gateway's snapshot. The server sets Time (when
	// zero) and Routes (when nil) itself.
	Status func() Document
	// Config returns the effective site configuration with its secrets
	// masked (configs.Site.Masked), or nil while there is none yet.
	Config func() ([]byte, error)
	// Log returns the gateway's recent console lines, oldest first
	// (consolelog.Recent.Lines).
	Log func() []string
	// Routes lists the kernel routes BGP installed [KernelRoutes]. The
	// Document keeps the first MaxRoutes in prefix order; the default
	// reads the kernel's table in bounded memory.
	Routes func() ([]Route, error)
	// Proc is where tidegate_cpu_seconds_total reads the machine's
	// stat file [/proc].
	Proc string
	// Logger gets the server's own errors [slog.Default()].
	Logger *slog.Logger
}

// A Server is the status API of one gateway. It is an http.Handler; Serve
// runs it on listeners until a context ends.
type Server struct {
	cfg      Config
	routes   func() ([]Route, int, error) // the first MaxRoutes, and the count
	mux      *http.ServeMux
	metrics  http.Handler
	limits   limits
	rejected *prometheus.CounterVec // by reason, see management.go
}

// NewServer returns a Server for cfg.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Status == nil {
		return nil, errors.New("status: Config.Status is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux(), limits: defaultLimits, rejected: newRejected()}
	if cfg.Routes == nil {
		s.routes = func() ([]Route, int, error) { return kernelRoutes(MaxRoutes) }
	} else {
		s.routes = func() ([]Route, int, error) {
			rs, err := cfg.Routes()
			kept, total := limitRoutes(rs, MaxRoutes)
			return kept, total, err
		}
	}

	// A registry of our own: the default one is process-global and a test
	// (or a second server) would register twice.
	reg := prometheus.NewRegistry()
	if err := reg.Register(newCollector(cfg.Status)); err != nil {
		return nil, fmt.Errorf("status: metrics: %w", err)
	}
	reg.MustRegister(s.rejected, newProcCollector(cmp.Or(cfg.Proc, "/proc")), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.metrics = promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelError)})

	s.mux.HandleFunc("GET /status", s.status)
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.Handle("GET /metrics", s.metrics)
	s.mux.HandleFunc("GET /log", s.log)
	s.mux.HandleFunc("GET /config", s.config)
	s.mux.HandleFunc("GET /{$}", s.index)
	return s, nil
}

// ServeHTTP serves the endpoints listed in the package documentation.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Document returns the snapshot that GET /status serves. It lists at
// most MaxRoutes routes, whoever filled them in.
func (s *Server) Document() Document {
	d := s.cfg.Status()
	if d.Time.IsZero() {
		d.Time = time.Now()
	}
	if d.Routes == nil && d.RoutesError == "" {
		rs, total, err := s.routes()
		if err != nil {
			d.RoutesError = err.Error()
		}
		d.Routes, d.RoutesTotal = rs, total
	}
	if len(d.Routes) > MaxRoutes {
		var total int
		d.Routes, total = limitRoutes(d.Routes, MaxRoutes)
		d.RoutesTotal = max(d.RoutesTotal, total)
	}
	d.RoutesTotal = max(d.RoutesTotal, len(d.Routes))
	d.RoutesTruncated = d.RoutesTotal > len(d.Routes)
	return d
}

func (s *Server) index(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprint(w, "tidegate status: /status /metrics /healthz /log /config\n")
}

func (s *Server) status(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Document())
}

// HealthReport is what GET /healthz returns.
type HealthReport struct {
	Gateway string `json:"gateway,omitempty"`
	Phase   string `json:"phase"`
	Role    string `json:"role"` // master, backup, initialize, or "" before VRRP runs
	Healthy bool   `json:"healthy"`
	Reason  string `json:"reason,omitempty"` // why not healthy
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	d := s.cfg.Status()
	h := HealthReport{Gateway: d.Gateway, Phase: d.Phase, Role: d.Role(), Healthy: d.Healthy()}
	code := http.StatusOK
	if !h.Healthy {
		code = http.StatusServiceUnavailable
		h.Reason = unhealthyReason(&d)
	}
	writeJSON(w, code, h)
}

func unhealthyReason(d *Document) string {
	switch {
	case d.Phase != "running":
		if len(d.ConfigErrors) > 0 {
			return fmt.Sprintf("%s: %d configuration %s", d.Phase, len(d.ConfigErrors), english.Plural(len(d.ConfigErrors), "error"))
		}
		return "gateway " + d.Phase
	case d.Health == nil:
		return "no health reported"
	}
	total := 0
	if d.IPsec != nil {
		total = len(d.IPsec.Tunnels)
	}
	return fmt.Sprintf("no working path to AWS: %d of %d tunnels up, %d AWS %s",
		d.Health.TunnelsUp, total, d.Health.AWSPaths, english.Plural(d.Health.AWSPaths, "path"))
}

func (s *Server) log(w http.ResponseWriter, r *http.Request) {
	var lines []string
	if s.cfg.Log != nil {
		lines = s.cfg.Log()
	}
	if v := r.URL.Query().Get("n"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			http.Error(w, "n: want a count of lines", http.StatusBadRequest)
			return
		}
		lines = lines[max(0, len(lines)-n):]
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	for _, l := range lines {
		fmt.Fprintln(w, strings.TrimRight(l, "\n"))
	}
}

func (s *Server) config(w http.ResponseWriter, _ *http.Request) {
	var (
		b   []byte
		err error
	)
	if s.cfg.Config != nil {
		b, err = s.cfg.Config()
	}
	switch {
	case err != nil:
		s.cfg.Logger.Error("status: rendering the configuration", "err", err)
		http.Error(w, "cannot render the configuration", http.StatusInternalServerError)
	case b == nil:
		http.Error(w, "no valid configuration yet", http.StatusNotFound)
	default:
		w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
		_, _ = w.Write(b)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// Serve serves on every listener until ctx ends, then shuts down (waiting
// briefly for requests in flight) and returns nil. A listener that fails
// before that is logged and the others keep serving: the status API is for
// operators and never takes the gateway down. Every listener gets the
// limits of limits.go: timeouts, a cap on header bytes and one on
// concurrent connections. Serve closes the listeners.
func (s *Server) Serve(ctx context.Context, listeners ...net.Listener) error {
	served := make([]served, len(listeners))
	for i, ln := range listeners {
		served[i] = s.limited(ln, s)
	}
	s.serve(ctx, served)
	return nil
}

// served is a listener and what answers on it.
type served struct {
	ln  net.Listener
	srv *http.Server
}

func (s *Server) serve(ctx context.Context, served []served) {
	var wg sync.WaitGroup
	for _, sv := range served {
		wg.Go(func() {
			if err := sv.srv.Serve(sv.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.cfg.Logger.Error("status server stopped", "addr", sv.ln.Addr(), "err", err)
			}
		})
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, sv := range served {
		_ = sv.srv.Shutdown(sctx)
	}
	wg.Wait()
}

// ListenVLAN opens the TCP listener on addr, port Port. It binds with
// IP_FREEBIND so that it may be called before addr is on its interface (the
// gateway configures the VLAN as it starts); it never listens on the
// wildcard address.
func ListenVLAN(ctx context.Context, addr netip.Addr) (net.Listener, error) {
	if !addr.IsValid() || addr.IsUnspecified() {
		return nil, fmt.Errorf("status: listen: %v is not a VLAN address", addr)
	}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = freebind(fd)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	ln, err := lc.Listen(ctx, "tcp4", netip.AddrPortFrom(addr, Port).String())
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	return ln, nil
}

// ListenUnix opens the unix socket at path (mode 0600: root only), creating
// its directory and replacing a stale socket left by a crashed gateway. A
// socket that still answers belongs to another gateway (two standalone
// gateways given the same run directory) and is left alone.
func ListenUnix(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != os.ModeSocket {
			return nil, fmt.Errorf("status: %s exists and is not a socket", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("status: %s is in use by another process", path)
		}
		_ = os.Remove(path)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("status: %w", err)
	}
	return ln, nil
}
