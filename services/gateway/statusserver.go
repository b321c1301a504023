package gateway

import (
	"context"
	"encoding/json"
	"net"
	"path/filepath"
	"sync"
	"time"

	"github.com/tidegate/tidegate/init/console"
	"github.com/tidegate/tidegate/services/status"
)

// The status API (package services/status): the JSON status document,
// Prometheus metrics, /healthz for the rolling reimage, the recent log and
// the masked configuration, on the run directory's unix socket (for the
// console shell, from the start) and on the VLAN address, port 9090 (once
// the role, and so the address, is known; never on eth0).

// statusPoll is how often the status server looks for the VLAN address
// while the gateway is still configuring.
const statusPoll = 500 * time.Millisecond

// startStatus starts the status API and returns the function that stops
// it. Run stops it when it returns, so that the API also shows the
// stopping phase (the planned handover). The API is for operators: when it
// cannot listen, the gateway logs why and runs on.
func (g *Gateway) startStatus() (stop func()) {
	srv, err := status.NewServer(status.Config{
		Status: g.statusDocument,
		Config: g.maskedConfig,
		Log:    console.Recent.Lines,
		Logger: g.log.With("svc", "status"),
	})
	if err != nil {
		g.log.Error("status API", "err", err)
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	serve := func(ln net.Listener) {
		g.log.Info("status API listening", "addr", ln.Addr())
		_ = srv.Serve(ctx, ln)
	}
	if ln, err := status.ListenUnix(filepath.Join(g.o.RunDir, status.SocketName)); err != nil {
		g.log.Warn("status API: no console socket", "err", err)
	} else {
		wg.Go(func() { serve(ln) })
	}
	wg.Go(func() {
		t := time.NewTicker(statusPoll)
		defer t.Stop()
		for {
			g.mu.Lock()
			role := g.role
			g.mu.Unlock()
			if role != nil {
				ln, err := status.ListenVLAN(ctx, role.VLANAddress.Addr())
				if err != nil {
					g.log.Warn("status API: not on the VLAN", "err", err)
					return
				}
				serve(ln)
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	return func() { cancel(); wg.Wait() }
}

// statusDocument is Status as the status API serves it. The document has
// the same JSON keys (services/status cannot import this package, which
// imports it), so Status goes through JSON; statusserver_test.go checks
// that no key is lost on the way.
func (g *Gateway) statusDocument() status.Document {
	d := toDocument(g.Status())
	d.Time = time.Now()
	return d
}

func toDocument(st Status) status.Document {
	var d status.Document
	b, err := json.Marshal(st)
	if err == nil {
		err = json.Unmarshal(b, &d)
	}
	if err != nil {
		// Not reachable with plain data; say so rather than serve zeros.
		d.Phase, d.Error = "unknown", "status: "+err.Error()
	}
	return d
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
