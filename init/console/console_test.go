package console

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
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
	if !strings.HasPrefix(line, "time=") || strings.Index(line, " ") != len("time=15:04:05.000") {
		t.Errorf("log line %q: want a short clock time first", line)
	}
}

func TestRingKeepsNewest(t *testing.T) {
	r := &Ring{max: 3}
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
