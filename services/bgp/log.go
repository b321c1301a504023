package bgp

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync/atomic"

	gobgplog "github.com/osrg/gobgp/v3/pkg/log"
)

// gobgpLogger sends GoBGP's logs to our structured log.
type gobgpLogger struct {
	l     *slog.Logger
	level atomic.Uint32 // gobgplog.LogLevel
}

var _ gobgplog.Logger = (*gobgpLogger)(nil)

func newGoBGPLogger(l *slog.Logger) *gobgpLogger {
	g := &gobgpLogger{l: l.With("component", "gobgp")}
	lvl := gobgplog.InfoLevel
	if l.Enabled(context.Background(), slog.LevelDebug) {
		lvl = gobgplog.DebugLevel
	}
	g.level.Store(uint32(lvl))
	return g
}

// FatalError is the value the GoBGP logger panics with when GoBGP reports
// a fatal internal error.
type FatalError struct {
	Msg    string
	Fields map[string]any
}

func (e *FatalError) Error() string { return fmt.Sprintf("gobgp fatal: %s %v", e.Msg, e.Fields) }

// Panic and Fatal are how GoBGP reports broken invariants; the code after
// the call assumes the process is gone. os.Exit would skip every deferred
// clean-up, so we panic instead: the gateway process dies (PID 1 restarts
// it) unless the call came from the Serve goroutine, which Run recovers.
func (g *gobgpLogger) Panic(msg string, f gobgplog.Fields) {
	g.log(slog.LevelError, "fatal: "+msg, f)
	panic(&FatalError{Msg: msg, Fields: f})
}

func (g *gobgpLogger) Fatal(msg string, f gobgplog.Fields) {
	g.log(slog.LevelError, "fatal: "+msg, f)
	panic(&FatalError{Msg: msg, Fields: f})
}

func (g *gobgpLogger) Error(msg string, f gobgplog.Fields) { g.log(slog.LevelError, msg, f) }
func (g *gobgpLogger) Warn(msg string, f gobgplog.Fields)  { g.log(slog.LevelWarn, msg, f) }
func (g *gobgpLogger) Info(msg string, f gobgplog.Fields)  { g.log(slog.LevelInfo, msg, f) }

func (g *gobgpLogger) Debug(msg string, f gobgplog.Fields) {
	if gobgplog.LogLevel(g.level.Load()) >= gobgplog.DebugLevel {
		g.log(slog.LevelDebug, msg, f)
	}
}

func (g *gobgpLogger) SetLevel(l gobgplog.LogLevel) { g.level.Store(uint32(l)) }
func (g *gobgpLogger) GetLevel() gobgplog.LogLevel  { return gobgplog.LogLevel(g.level.Load()) }

func (g *gobgpLogger) log(level slog.Level, msg string, f gobgplog.Fields) {
	ctx := context.Background()
	if !g.l.Enabled(ctx, level) {
		return
	}
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys) // stable output for people and tests
	attrs := make([]slog.Attr, 0, len(keys))
	for _, k := range keys {
		attrs = append(attrs, slog.Any(k, f[k]))
	}
	g.l.LogAttrs(ctx, level, msg, attrs...)
}
