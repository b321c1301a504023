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
	outputHas(t, out.String(),
		"Uptime:  1h2m3s\n",
		"Memory:  total 490.2 MiB, used 99.6 MiB, available 390.6 MiB\n",
		"PID     Resident    Process\n99      40.0 MiB    gateway\n1       10.0 MiB    init\n120     8.0 MiB     charon\n",
	)
	if strings.Contains(out.String(), "kthreadd") {
		t.Errorf("kernel thread listed:\n%s", out.String())
	}
}

func TestDebugKillCharon(t *testing.T) {
	root := fakeProc(t, map[int][2]string{1: {"init", "10240"}, 120: {"charon", "8192"}})
	for _, tc := range []debugKillCase{
		{"confirmed", "debug kill charon\ny\n", true, root, []int{120}, "charon (pid 120) killed."},
		{"abbreviated", "deb k c\nyes\n", true, root, []int{120}, "charon (pid 120) killed."},
		{"declined", "debug kill charon\nn\n", true, root, nil, "Cancelled."},
		{"not the appliance", "debug kill charon\ny\n", false, root, nil, "% debug kill charon: not on the appliance console; refusing"},
		{"no charon", "debug kill charon\ny\n", true, fakeProc(t, map[int][2]string{1: {"init", "1"}}), nil, "% charon is not running"},
	} {
		t.Run(tc.name, func(t *testing.T) { runDebugKill(t, tc) })
	}
}

// gatewayProc is a /proc as on the appliance: PID 1 with the gateway and
// the shell as children (both "exe": they were started as /proc/self/exe),
// charon under the gateway, and a stray "gateway" that PID 1 did not start.
func gatewayProc(t *testing.T, withGateway bool) string {
	t.Helper()
	type proc struct {
		name    string
		ppid    int
		cmdline string
	}
	procs := map[int]proc{
		1:   {"init", 0, "/init\x00"},
		58:  {"exe", 1, "/proc/self/exe\x00shell\x00"},
		120: {"charon", 57, "/usr/lib/ipsec/charon\x00"},
		300: {"tidegate", 58, "tidegate\x00gateway\x00"},
	}
	if withGateway {
		procs[57] = proc{"exe", 1, "/proc/self/exe\x00gateway\x00"}
	}
	root := t.TempDir()
	for pid, p := range procs {
		dir := filepath.Join(root, itoa(pid))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		st := "Name:\t" + p.name + "\nState:\tS (sleeping)\nPPid:\t" + itoa(p.ppid) + "\nVmRSS:\t    1024 kB\n"
		if err := os.WriteFile(filepath.Join(dir, "status"), []byte(st), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "cmdline"), []byte(p.cmdline), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestDebugKillGateway(t *testing.T) {
	root := gatewayProc(t, true)
	for _, tc := range []debugKillCase{
		{"confirmed", "debug kill gateway\ny\n", true, root, []int{57}, "gateway (pid 57) killed;"},
		{"abbreviated", "deb k g\nyes\n", true, root, []int{57}, "Kill the gateway (pid 57) with SIGKILL"},
		{"declined", "debug kill gateway\nn\n", true, root, nil, "Cancelled."},
		{"no answer", "debug kill gateway\n", true, root, nil, "[y/N]"},
		{"not the appliance", "debug kill gateway\ny\n", false, root, nil, "% debug kill gateway: not on the appliance console; refusing"},
		{"not running", "debug kill gateway\ny\n", true, gatewayProc(t, false), nil, "% the gateway is not running"},
	} {
		t.Run(tc.name, func(t *testing.T) { runDebugKill(t, tc) })
	}
}

// debugKillCase is one "debug kill" session: what is typed, whether the
// shell is on the appliance (may signal), the /proc it sees, the pids it
// must kill and a line it must print.
type debugKillCase struct {
	name, in  string
	appliance bool
	proc      string
	want      []int
	says      string
}

// runDebugKill runs the console on tc.in and checks what it killed and
// said.
func runDebugKill(t *testing.T, tc debugKillCase) {
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
}
