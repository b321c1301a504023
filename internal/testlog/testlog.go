package testlog

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// Buffer is a bytes.Buffer that is safe for concurrent use: code under
// test logs to it from its goroutines while the test reads it. The zero
// Buffer is ready to use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Writer passes each write to t.Log, prefixed, until the test ends, and
// keeps all of it.
type Writer struct {
	Buffer
	t      testing.TB
	prefix string

	mu   sync.Mutex
	done bool
}

// NewWriter returns a Writer for t that marks its writes with prefix. Writes
// after the test has ended (goroutines still winding down) are kept but not
// logged: t.Log would panic.
func NewWriter(t testing.TB, prefix string) *Writer {
	w := &Writer{t: t, prefix: prefix}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return w
}

// Write keeps p and logs it in the test.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.Buffer.Write(p)
	if !w.done {
		w.t.Log(w.prefix + strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// New returns a logger, at debug level in slog's text format, that writes
// to a Writer for t; the Writer holds everything logged.
func New(t testing.TB, prefix string) (*slog.Logger, *Writer) {
	w := NewWriter(t, prefix)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})), w
}

// Tail is the last n lines of a log, for a failed test's output.
func Tail(b []byte, n int) string {
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
