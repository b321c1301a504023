// Package consolelog sets up tidegate's structured logging for the serial
// console (Lish runs at 19200 baud, so lines are kept short) and keeps the
// most recent lines in memory for the operator's `show log` and the status
// API's /log: at most MaxLines lines and MaxBytes bytes, a line longer than
// MaxLineBytes cut and marked, so that nothing logged can grow it.
//
// A line is logfmt (slog's text format) stamped with the time in UTC as
// RFC 3339 with milliseconds and the date,
//
//	time=2026-05-04T19:59:59.123Z level=INFO msg="tunnel up" svc=ipsec tunnel=vpn-1a
//
// so that a line copied off the console, or read at a remote syslog
// receiver days later, says when it happened. The date costs 12 columns of
// the console's 80; the key=value form stays, since tests and operators
// grep for it.
//
// Tee hands every line, as the console and the ring get it, to another
// writer as well: the gateway's remote syslog sender (services/syslog),
// which must not block.
//
// PID 1 (init/pid1), the gateway process (init and services/gateway) and
// its status API share it, which is why it lives here and not under init/:
// nothing under services/ imports init/.
package consolelog

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"unicode/utf8"
)

// TimeFormat is how a line's time is written: RFC 3339 in UTC, with
// milliseconds (always three digits, so that lines align).
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// New returns a logger writing logfmt lines (slog's text format, the time
// as TimeFormat) to w, to the process-wide ring buffer and to the tees.
func New(w io.Writer, level slog.Leveler) *slog.Logger {
	h := slog.NewTextHandler(io.MultiWriter(w, shared{}), &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			// Only the record's own time: a user attribute may be called
			// "time" too.
			if len(groups) == 0 && a.Key == slog.TimeKey && a.Value.Kind() == slog.KindTime {
				return slog.String(slog.TimeKey, a.Value.Time().UTC().Format(TimeFormat))
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
var Recent = &Ring{}

// The Ring's bounds. The appliance has no disk and a few hundred MiB of
// memory, and a line may quote what a peer sent (a long error, a bad
// configuration value), so the ring is bounded in bytes as well as lines.
const (
	// MaxLines is how many lines a Ring keeps.
	MaxLines = 1000
	// MaxBytes is how many bytes the lines a Ring keeps may add up to.
	MaxBytes = 256 << 10
	// MaxLineBytes is the longest line a Ring stores whole; a longer
	// one is cut and marked (see truncated).
	MaxLineBytes = 4 << 10
)

// Ring is a bounded in-memory log: the appliance has no disk to log to. It
// keeps the newest lines, at most MaxLines of them and MaxBytes in all,
// each at most MaxLineBytes (plus the marker of a cut line). The zero
// Ring is ready to use.
type Ring struct {
	// The bounds, for tests; zero means MaxLines, MaxBytes, MaxLineBytes.
	maxLines, maxBytes, maxLine int

	mu    sync.Mutex
	lines []string // circular, of maxLines
	start int      // index of the oldest line
	n     int      // lines held
	bytes int      // their total length
}

// Write stores p, one entry per line (a slog record is one line). A line
// longer than MaxLineBytes is cut and marked; the oldest lines go to make
// room. It never fails.
func (r *Ring) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rest := p
	for len(rest) > 0 {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line = rest[:i+1]
		}
		rest = rest[len(line):]
		r.add(Cut(line, cmp.Or(r.maxLine, MaxLineBytes)))
	}
	return len(p), nil
}

func (r *Ring) add(line string) {
	if r.lines == nil {
		r.lines = make([]string, cmp.Or(r.maxLines, MaxLines))
	}
	size, maxBytes := len(r.lines), cmp.Or(r.maxBytes, MaxBytes)
	for r.n > 0 && (r.n == size || r.bytes+len(line) > maxBytes) {
		r.bytes -= len(r.lines[r.start])
		r.lines[r.start] = ""
		r.start = (r.start + 1) % size
		r.n--
	}
	r.lines[(r.start+r.n)%size] = line
	r.n++
	r.bytes += len(line)
}

// Cut returns line as a string, cut to max bytes (at a UTF-8 boundary)
// and marked with how much was dropped when it is longer. A final newline
// stays.
func Cut(line []byte, max int) string {
	if len(line) <= max {
		return string(line)
	}
	keep := max
	for keep > 0 && !utf8.RuneStart(line[keep]) {
		keep--
	}
	nl := ""
	if line[len(line)-1] == '\n' {
		nl = "\n"
	}
	return string(line[:keep]) + fmt.Sprintf(" [line cut: %d more bytes]", len(line)-keep-len(nl)) + nl
}

// Lines returns a copy of the stored lines, oldest first.
func (r *Ring) Lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, r.n)
	for i := range out {
		out[i] = r.lines[(r.start+i)%len(r.lines)]
	}
	return out
}
