package pid1

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func testSupervisor(t *testing.T, script string) (*supervisor, string) {
	t.Helper()
	runs := filepath.Join(t.TempDir(), "runs")
	s := newSupervisor("test", []string{"/bin/sh", "-c", "echo run >> " + runs + "; " + script},
		slog.New(slog.NewTextHandler(io.Discard, nil)), processReaper())
	s.minBackoff, s.maxBackoff = 10*time.Millisecond, 40*time.Millisecond
	go s.run()
	return s, runs
}

func countRuns(t *testing.T, path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "run\n")
}

func waitRuns(t *testing.T, path string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for countRuns(t, path) < n {
		if time.Now().After(deadline) {
			t.Fatalf("child ran %d times, want at least %d", countRuns(t, path), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSupervisorRestartsCrashingChild(t *testing.T) {
	s, runs := testSupervisor(t, "exit 3")
	waitRuns(t, runs, 3)
	s.Stop(context.Background(), time.Second)
}

func TestSupervisorStopTerminatesChild(t *testing.T) {
	// The child traps TERM and exits 0: Stop must end the loop, not restart it.
	s, runs := testSupervisor(t, "trap 'exit 0' TERM; while :; do sleep 0.05; done")
	waitRuns(t, runs, 1)
	done := make(chan struct{})
	go func() { s.Stop(context.Background(), 5*time.Second); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not return")
	}
	time.Sleep(100 * time.Millisecond)
	if n := countRuns(t, runs); n != 1 {
		t.Errorf("child started %d times, want 1 (no restart after Stop)", n)
	}
}

func TestSupervisorKillsChildIgnoringTERM(t *testing.T) {
	s, runs := testSupervisor(t, "trap '' TERM; while :; do sleep 0.05; done")
	waitRuns(t, runs, 1)
	start := time.Now()
	s.Stop(context.Background(), 200*time.Millisecond)
	if d := time.Since(start); d < 200*time.Millisecond || d > 3*time.Second {
		t.Errorf("Stop took %v, want about the 200ms grace", d)
	}
}

func TestReadPowerEvents(t *testing.T) {
	ev := func(typ, code uint16, value int32) []byte {
		b := make([]byte, eventSize)
		b[16], b[17] = byte(typ), byte(typ>>8)
		b[18], b[19] = byte(code), byte(code>>8)
		b[20] = byte(value)
		return b
	}
	r, w := io.Pipe()
	pressed := make(chan struct{}, 1)
	go readPowerEvents(r, pressed)
	w.Write(ev(evKey, 30, 1))       // another key: ignored
	w.Write(ev(evKey, keyPower, 0)) // release: ignored
	select {
	case <-pressed:
		t.Fatal("non-press event counted as power button")
	case <-time.After(50 * time.Millisecond):
	}
	w.Write(ev(evKey, keyPower, 1))
	select {
	case <-pressed:
	case <-time.After(time.Second):
		t.Fatal("power button press not seen")
	}
	w.Close()
}
