package gateway

import (
	"context"

	"github.com/tidegate/tidegate/internal/consolelog"
	"github.com/tidegate/tidegate/services/status"
	"github.com/tidegate/tidegate/services/syslog"
)

// startSyslog sends the process's log lines to the site's syslog receiver,
// when it has one: the lines logged so far (the ring, from the process's
// start), then each one as the console gets it. It starts once the role is
// known, since the site configuration names the receiver and the role the
// hostname. The returned function stops it after sending what is queued
// (at most syslog.FlushTimeout), so that the last lines of a planned stop
// leave too.
func (g *Gateway) startSyslog(role *Role) (stop func()) {
	l := role.Site.Syslog
	if !l.Enabled() {
		return func() {}
	}
	s, err := syslog.New(syslog.Config{
		Protocol: l.Protocol, Address: l.Address, Hostname: role.Self.Name,
		Log: g.o.Log.With("svc", "syslog"),
	})
	if err != nil { // Parse checked the configuration: a bug
		g.log.Error("remote syslog", "err", err)
		return func() {}
	}
	// Not Run's context: the lines of the handover after SIGTERM are
	// worth sending.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Run(ctx)
	}()
	untee := consolelog.Tee(s, true)
	g.mu.Lock()
	g.syslog = s
	g.mu.Unlock()
	g.log.Info("remote syslog", "addr", l.Address, "protocol", l.Protocol)
	return func() {
		untee()
		cancel()
		<-done
	}
}

// syslogStatus is the sender's counters for the status API; nil without a
// receiver.
func (g *Gateway) syslogStatus() *status.Syslog {
	g.mu.Lock()
	s := g.syslog
	role := g.role
	g.mu.Unlock()
	if s == nil || role == nil {
		return nil
	}
	st := s.Stats()
	return &status.Syslog{
		Address: role.Site.Syslog.Address.String(), Protocol: role.Site.Syslog.Protocol,
		Connected: st.Connected, Sent: st.Sent, Dropped: st.Dropped, Queued: st.Queued, Error: st.Error,
	}
}
