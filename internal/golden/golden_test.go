package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps what Check reports instead of
// failing the test that runs it.
type recorder struct {
	testing.TB
	errors, fatals []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }
func (r *recorder) Fatalf(format string, args ...any) {
	r.fatals = append(r.fatals, fmt.Sprintf(format, args...))
	runtime.Goexit()
}

// check runs Check on a recorder, on a goroutine of its own since Fatal
// ends it.
func check(t *testing.T, name, got string) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Check(r, name, got)
	}()
	<-done
	return r
}

func TestCheck(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("testdata", "page.golden"), []byte("one\ntwo\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	if r := check(t, "page.golden", "one\ntwo\n"); len(r.errors)+len(r.fatals) != 0 {
		t.Errorf("the same text: %q %q", r.errors, r.fatals)
	}
	r := check(t, "page.golden", "one\nthree\n")
	if len(r.errors) != 1 || !strings.Contains(r.errors[0], "two") || !strings.Contains(r.errors[0], "three") {
		t.Errorf("other text: errors %q, want one with the diff", r.errors)
	}
	r = check(t, "missing.golden", "x")
	if len(r.fatals) != 1 || !strings.Contains(r.fatals[0], "-update") {
		t.Errorf("no file: fatals %q, want one that says -update", r.fatals)
	}

	*update = true
	defer func() { *update = false }()
	for _, name := range []string{"page.golden", "sub/new.golden"} {
		if r := check(t, name, "rewritten\n"); len(r.errors)+len(r.fatals) != 0 {
			t.Errorf("-update %s: %q %q", name, r.errors, r.fatals)
		}
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err != nil || string(b) != "rewritten\n" {
			t.Errorf("-update %s wrote %q, %v", name, b, err)
		}
	}
}
