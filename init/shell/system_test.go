package shell

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tidegate/tidegate/services/status"
)

// fakeProc writes a /proc with the given processes (name -> pid, rss kB).
func fakeProc(t *testing.T, procs map[int][2]string) string {
	t.Helper()
	root := t.TempDir()
	write := func(p, s string) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "uptime"), "3723.45 100.00\n")
	write(filepath.Join(root, "meminfo"), "MemTotal:         502000 kB\nMemFree:          300000 kB\nMemAvailable:     400000 kB\n")
	for pid, p := range procs {
		st := "Name:\t" + p[0] + "\nState:\tS (sleeping)\n"
		if p[1] != "" {
			st += "VmRSS:\t    " + p[1] + " kB\n"
		}
		write(filepath.Join(root, strings.TrimSpace(itoa(pid)), "status"), st)
	}
	return root
}

func itoa(n int) string { return joinInts([]int{n}) }

func TestShowSystem(t *testing.T) {
	root := fakeProc(t, map[int][2]string{1: {"init", "10240"}, 120: {"charon", "8192"}, 99: {"gateway", "40960"}, 2: {"kthreadd", ""}})
	c, _ := status.NewClient(filepath.Join(t.TempDir(), "none.sock"))
	var out strings.Builder
	sh := &Shell{In: strings.NewReader("show system\n"), Out: &out, Source: c, Proc: root,
		Hostname: func() (string, error) { return "vpn-gw-1", nil }}
	if err := sh.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"Uptime:  1h2m3s\n",
		"Memory:  total 490.2 MiB, used 99.6 MiB, available 390.6 MiB\n",
		"PID     Resident    Process\n99      40.0 MiB    gateway\n1       10.0 MiB    init\n120     8.0 MiB     charon\n",
	} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, out.String())
		}
	}
	if strings.Contains(out.String(), "kthreadd") {
		t.Errorf("kernel thread listed:\n%s", out.String())
	}
}

func TestDebugKillCharon(t *testing.T) {
	root := fakeProc(t, map[int][2]string{1: {"init", "10240"}, 120: {"charon", "8192"}})
	for _, tc := range []struct {
		name, in  string
		appliance bool
		proc      string
		want      []int
		says      string
	}{
		{"confirmed", "debug kill charon\ny\n", true, root, []int{120}, "charon (pid 120) killed."},
		{"abbreviated", "deb k c\nyes\n", true, root, []int{120}, "charon (pid 120) killed."},
		{"declined", "debug kill charon\nn\n", true, root, nil, "Cancelled."},
		{"not the appliance", "debug kill charon\ny\n", false, root, nil, "% debug kill charon: not on the appliance console; refusing"},
		{"no charon", "debug kill charon\ny\n", true, fakeProc(t, map[int][2]string{1: {"init", "1"}}), nil, "% charon is not running"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := status.NewClient(filepath.Join(t.TempDir(), "none.sock"))
			var out strings.Builder
			var killed []int
			sh := &Shell{In: strings.NewReader(tc.in), Out: &out, Source: c, Proc: tc.proc,
				Hostname: func() (string, error) { return "vpn-gw-1", nil }}
			if tc.appliance {
				sh.Signal = func(syscall.Signal) error { return nil }
				sh.Kill = func(pid int, sig syscall.Signal) error {
					if sig != syscall.SIGKILL {
						t.Errorf("signal %v, want SIGKILL", sig)
					}
					killed = append(killed, pid)
					return nil
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := sh.Run(ctx); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, killed); diff != "" {
				t.Errorf("killed (-want +got):\n%s", diff)
			}
			if !strings.Contains(out.String(), tc.says) {
				t.Errorf("output lacks %q:\n%s", tc.says, out.String())
			}
		})
	}
}
