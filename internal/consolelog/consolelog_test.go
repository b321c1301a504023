package consolelog

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestLogLineFormat(t *testing.T) {
	var buf bytes.Buffer
	New(&buf, nil).Info("charon started", "svc", "ipsec")
	line := buf.String()
	for _, want := range []string{"level=INFO", `msg="charon started"`, "svc=ipsec"} {
		if !strings.Contains(line, want) {
			t.Errorf("log line %q lacks %q", line, want)
		}
	}
	stamp, _, _ := strings.Cut(strings.TrimPrefix(line, "time="), " ")
	at, err := time.Parse(time.RFC3339Nano, stamp)
	if !strings.HasPrefix(line, "time=") || err != nil {
		t.Fatalf("log line %q: want an RFC 3339 time first: %v", line, err)
	}
	if len(stamp) != len("2006-01-02T15:04:05.000Z") || !strings.HasSuffix(stamp, "Z") {
		t.Errorf("time %q: want UTC with milliseconds, fixed width", stamp)
	}
	if d := time.Since(at); d < -time.Second || d > time.Minute {
		t.Errorf("time %q is %v from now", stamp, d)
	}
}

func TestRingKeepsNewest(t *testing.T) {
	r := &Ring{maxLines: 3}
	for i := range 5 {
		fmt.Fprintf(r, "line %d\n", i)
	}
	got := strings.Join(r.Lines(), "")
	if got != "line 2\nline 3\nline 4\n" {
		t.Errorf("ring holds %q", got)
	}
}

func TestAttrNamedTimeIsNotTheClock(t *testing.T) {
	var buf bytes.Buffer
	New(&buf, nil).Info("lease", "time", 2*time.Minute)
	if !strings.Contains(buf.String(), "time=2m0s") {
		t.Errorf("log line %q lost the attribute", buf.String())
	}
}

func TestRingBoundedInBytes(t *testing.T) {
	r := &Ring{maxBytes: 100}
	for i := range 20 {
		fmt.Fprintf(r, "line %02d %s\n", i, strings.Repeat("x", 11)) // 20 bytes
	}
	got := r.Lines()
	if len(got) != 5 || got[0] != "line 15 xxxxxxxxxxx\n" || got[4] != "line 19 xxxxxxxxxxx\n" {
		t.Errorf("ring of 100 bytes holds %q, want the last five 20-byte lines", got)
	}
}

// TestRingDefaultBounds floods a zero Ring with long lines, then with
// short ones: it never holds more than MaxBytes nor MaxLines.
func TestRingDefaultBounds(t *testing.T) {
	var r Ring
	for _, size := range []int{1000, 10} {
		for i := range 5000 {
			fmt.Fprintf(&r, "%06d %s\n", i, strings.Repeat("y", size))
		}
		lines := r.Lines()
		total := 0
		for _, l := range lines {
			total += len(l)
		}
		if total > MaxBytes || len(lines) > MaxLines {
			t.Errorf("%d-byte lines: ring holds %d lines, %d bytes; want at most %d, %d", size, len(lines), total, MaxLines, MaxBytes)
		}
		if last := lines[len(lines)-1]; !strings.HasPrefix(last, "004999 ") {
			t.Errorf("%d-byte lines: newest line %.20q, want 004999", size, last)
		}
	}
}

// TestRingLongLine logs a line of 1 MiB, as an error quoting a peer's
// answer might: the console gets it whole, the ring a cut and marked copy.
func TestRingLongLine(t *testing.T) {
	var console bytes.Buffer
	New(&console, nil).Info("peer said", "body", strings.Repeat("é", 512<<10))
	if console.Len() < 1<<20 {
		t.Errorf("the console got %d bytes, want the whole line", console.Len())
	}
	lines := Recent.Lines()
	last := lines[len(lines)-1]
	if len(last) > MaxLineBytes+64 {
		t.Errorf("the ring kept a %d-byte line", len(last))
	}
	kept := strings.Index(last, " [line cut: ")
	if kept < MaxLineBytes-3 || kept > MaxLineBytes {
		t.Fatalf("cut line keeps %d bytes, want about %d: %q", kept, MaxLineBytes, last[max(0, len(last)-60):])
	}
	if want := fmt.Sprintf(" [line cut: %d more bytes]\n", console.Len()-1-kept); !strings.HasSuffix(last, want) {
		t.Errorf("cut line ends %q, want %q", last[max(0, len(last)-60):], want)
	}
	if !utf8.ValidString(last) {
		t.Errorf("the line was cut inside a character")
	}
	if !strings.HasPrefix(last, "time=") {
		t.Errorf("cut line starts %.20q", last)
	}
}

// TestRingSplitsLines: a write of several lines is several entries.
func TestRingSplitsLines(t *testing.T) {
	r := &Ring{}
	fmt.Fprint(r, "a\nb\nc")
	if got := r.Lines(); len(got) != 3 || got[0] != "a\n" || got[2] != "c" {
		t.Errorf("ring holds %q", got)
	}
}

// TestTee: a tee gets the ring's lines first (replay), then every line
// logged, once each, and nothing after it is stopped.
func TestTee(t *testing.T) {
	log := New(io.Discard, nil)
	log.Info("before the tee", "n", 1)
	var got bytes.Buffer
	stop := Tee(&got, true)
	log.Info("with the tee", "n", 2)
	stop()
	stop() // twice is harmless
	log.Info("after the tee", "n", 3)

	lines := strings.SplitAfter(got.String(), "\n")
	ring := Recent.Lines()
	if n := len(lines) - 1; n != len(ring)-1 || lines[n] != "" {
		t.Fatalf("the tee got %d lines, want the %d the ring had and one more", n, len(ring)-1)
	}
	if !strings.Contains(lines[len(lines)-3], `msg="before the tee"`) || !strings.Contains(lines[len(lines)-2], `msg="with the tee"`) {
		t.Errorf("the tee's last lines are %q", lines[len(lines)-3:])
	}
	if strings.Contains(got.String(), "after the tee") {
		t.Errorf("a stopped tee got a line")
	}
}
