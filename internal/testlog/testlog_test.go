package testlog

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestBufferConcurrent(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				fmt.Fprintf(&b, "%d\n", i)
				_ = b.String()
			}
		}()
	}
	wg.Wait()
	if n := strings.Count(b.String(), "\n"); n != 800 {
		t.Errorf("%d lines, want 800", n)
	}
}

// recorder keeps what a Writer logs in the test.
type recorder struct {
	testing.TB
	logs []string
}

func (r *recorder) Log(args ...any) { r.logs = append(r.logs, fmt.Sprint(args...)) }

func TestWriter(t *testing.T) {
	r := &recorder{TB: t}
	var log func(string)
	t.Run("sub", func(t *testing.T) {
		r.TB = t // its Cleanup ends the Writer's logging
		l, w := New(r, "gw: ")
		log = func(msg string) { l.Info(msg) }
		l.Debug("first", "psk", "not-a-secret")
		if len(r.logs) != 1 || !strings.HasPrefix(r.logs[0], "gw: time=") || !strings.Contains(r.logs[0], "msg=first") || strings.HasSuffix(r.logs[0], "\n") {
			t.Errorf("logged %q, want one line with the prefix and the message", r.logs)
		}
		if !strings.Contains(w.String(), "psk=not-a-secret") {
			t.Errorf("kept %q", w.String())
		}
	})
	log("after the test") // must neither reach t nor panic
	if len(r.logs) != 1 {
		t.Errorf("logged after the test ended: %q", r.logs)
	}
}

// TestTail: the last lines, without the final newline; all of a short log.
func TestTail(t *testing.T) {
	for log, want := range map[string]string{"a\nb\nc\n": "b\nc", "a\nb\nc": "b\nc", "b\n": "b", "": ""} {
		if got := Tail([]byte(log), 2); got != want {
			t.Errorf("Tail(%q, 2) = %q, want %q", log, got, want)
		}
	}
}
