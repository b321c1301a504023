// Package console sets up tidegate's structured logging for the serial
// console (Lish runs at 19200 baud, so lines are kept short) and keeps the
// most recent lines in memory for the operator's `show log`.
package console

import (
	"io"
	"log/slog"
	"os"
	"sync"
	"time"
)

// New returns a logger writing logfmt lines (slog's text format with a short
// clock time) to w and to the process-wide ring buffer.
func New(w io.Writer, level slog.Leveler) *slog.Logger {
	h := slog.NewTextHandler(io.MultiWriter(w, Recent), &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			// Only the record's own time: a user attribute may be called
			// "time" too.
			if len(groups) == 0 && a.Key == slog.TimeKey && a.Value.Kind() == slog.KindTime {
				return slog.String(slog.TimeKey, a.Value.Time().UTC().Format("15:04:05.000"))
			}
			return a
		},
	})
	return slog.New(h)
}

// Default is the logger for the console: stderr, which PID 1 and its
// children share with /dev/console.
func Default() *slog.Logger { return New(os.Stderr, slog.LevelInfo) }

// Recent holds the last lines logged by this process.
var Recent = &Ring{max: 1000}

// Ring is a bounded in-memory log: the appliance has no disk to log to.
type Ring struct {
	mu    sync.Mutex
	max   int
	lines []string
}

// Write stores p (one or more log lines).
func (r *Ring) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, string(p))
	if over := len(r.lines) - r.max; over > 0 {
		r.lines = append(r.lines[:0:0], r.lines[over:]...)
	}
	return len(p), nil
}

// Lines returns a copy of the stored lines, oldest first.
func (r *Ring) Lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines...)
}

// Uptime is the time since the kernel booted (CLOCK_BOOTTIME), which is what
// "time to configured" means on an appliance; zero when unavailable.
func Uptime() time.Duration { return uptime() }
