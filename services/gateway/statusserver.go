package gateway

import (
	"context"
	"net/netip"
	"path/filepath"
	"sync"
	"time"

	"github.com/tidegate/tidegate/internal/consolelog"
	"github.com/tidegate/tidegate/services/status"
)

// The status API (package services/status): the JSON status document,
// Prometheus metrics, /healthz for the rolling reimage, the recent log and
// the masked configuration, on the run directory's unix socket (for the
// console shell, from the start) and on the VLAN address, port Port (once
// the role, and so the address, is known; never on the wildcard address).
// On eth0 it serves /healthz and /metrics alone, to the site's
// status.allow networks only (serveManagement).

// statusRetry is how long the status server waits before it tries again to
// listen on the VLAN address after it could not.
var statusRetry = 5 * time.Second

// startStatus starts the status API and returns the function that stops
// it. Run stops it when it returns, so that the API also shows the
// stopping phase (the planned handover). The API is for operators: when it
// cannot listen, the gateway logs why and runs on.
func (g *Gateway) startStatus() (stop func()) {
	srv, err := status.NewServer(status.Config{
		Status: g.Status,
		Config: g.maskedConfig,
		Log:    consolelog.Recent.Lines,
		Logger: g.log.With("svc", "status"),
	})
	if err != nil {
		g.log.Error("status API", "err", err)
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	if ln, err := status.ListenUnix(filepath.Join(g.o.RunDir, status.SocketName)); err != nil {
		g.log.Warn("status API: no console socket", "err", err)
	} else {
		wg.Go(func() {
			g.log.Info("status API listening", "addr", ln.Addr())
			_ = srv.Serve(ctx, ln)
		})
	}
	wg.Go(func() { g.serveVLAN(ctx, srv) })
	g.mu.Lock()
	g.statusSrv, g.statusCtx, g.statusWG = srv, ctx, &wg
	g.mu.Unlock()
	return func() { cancel(); wg.Wait() }
}

// serveManagement serves /healthz and /metrics on the public address, port
// Port, to the site's management networks (status.allow) only, as package
// firewall lets them in; without status.allow, or without a public
// address (standalone mode), nothing listens on eth0.
func (g *Gateway) serveManagement(r *Role) {
	allow := r.Site.Status.Allow
	g.mu.Lock()
	srv, ctx, wg := g.statusSrv, g.statusCtx, g.statusWG
	g.mu.Unlock()
	if len(allow) == 0 || !r.PublicAddress.IsValid() || srv == nil {
		return
	}
	wg.Go(func() {
		for {
			ln, err := g.listenVLAN(ctx, r.PublicAddress)
			if err == nil {
				g.log.Info("status API listening for management", "addr", ln.Addr(), "allow", allow)
				if err := srv.ServeManagement(ctx, ln, allow); err != nil {
					g.log.Error("status API for management", "err", err)
				}
				return
			}
			g.log.Warn("status API: not on the public address yet", "addr", r.PublicAddress, "err", err, "retry_in", statusRetry)
			select {
			case <-ctx.Done():
				return
			case <-time.After(statusRetry):
			}
		}
	})
}

// setRole records the role once it is known (before the services are
// built, so that the API is on the VLAN even if building them fails) and
// puts the status API on its VLAN address.
func (g *Gateway) setRole(r *Role) {
	g.mu.Lock()
	g.role = r
	g.mu.Unlock()
	g.setStatusAddress(r.VLANAddress.Addr())
}

// setStatusAddress moves the status API's TCP listener to addr (the zero
// Addr closes it). The gateway calls it when it learns its VLAN address;
// it never blocks.
func (g *Gateway) setStatusAddress(addr netip.Addr) {
	g.mu.Lock()
	g.statusAddr = addr
	g.mu.Unlock()
	select {
	case g.statusWake <- struct{}{}:
	default: // a wake-up is pending; it will read the latest address
	}
}

// serveVLAN keeps srv on the gateway's VLAN address until ctx ends: no TCP
// listener while the address is unknown, then one bound to that address
// only (status.ListenVLAN refuses the wildcard), moved when the address
// changes and retried every statusRetry while it cannot be opened.
func (g *Gateway) serveVLAN(ctx context.Context, srv *status.Server) {
	var (
		have    netip.Addr // the address served, if any
		stop    = func() {}
		retry   <-chan time.Time
		lastErr string
	)
	defer func() { stop() }()
	for {
		select {
		case <-ctx.Done():
			return
		case <-g.statusWake:
		case <-retry:
		}
		g.mu.Lock()
		want := g.statusAddr
		g.mu.Unlock()
		if want == have && (have.IsValid() || retry == nil) {
			continue
		}
		stop()
		stop, have, retry = func() {}, netip.Addr{}, nil
		if !want.IsValid() {
			continue
		}
		ln, err := g.listenVLAN(ctx, want)
		if err != nil {
			// Logged when it changes: the console is a 19200-baud line.
			if msg := err.Error(); msg != lastErr {
				g.log.Warn("status API: not on the VLAN yet", "addr", want, "err", err, "retry_every", statusRetry)
				lastErr = msg
			}
			retry = time.After(statusRetry)
			continue
		}
		lastErr, have = "", want
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			g.log.Info("status API listening", "addr", ln.Addr())
			_ = srv.Serve(sctx, ln) // closes ln when sctx ends
		}()
		stop = func() { cancel(); <-done }
	}
}

// maskedConfig is the site configuration with its secrets masked, nil
// before the gateway has one.
func (g *Gateway) maskedConfig() ([]byte, error) {
	g.mu.Lock()
	role := g.role
	g.mu.Unlock()
	if role == nil {
		return nil, nil
	}
	return role.Site.Masked()
}
