package frrtest

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidegate/tidegate/internal/netnstest"
	"github.com/tidegate/tidegate/internal/testlog"
)

// FRR is zebra + bgpd running in one namespace, every file (config, pid
// files, zebra socket, vty sockets, logs) in a temporary directory.
type FRR struct {
	t   *testing.T
	dir string
}

const frrDir = "/usr/lib/frr"

// Start runs zebra and bgpd in namespace ns with hostname and bgpConf (the
// bgpd configuration after the hostname and log lines). It fails the test
// when FRR is not installed, and returns once bgpd answers vtysh. The
// daemons are stopped by pid in t.Cleanup, and their logs shown if the test
// failed.
func Start(t *testing.T, ns, hostname, bgpConf string) *FRR {
	t.Helper()
	for _, d := range []string{"zebra", "bgpd"} {
		if _, err := os.Stat(filepath.Join(frrDir, d)); err != nil {
			t.Fatalf("FRR is needed (Debian package frr): %v", err)
		}
	}
	// Not under t.TempDir: its parents are private to root, and the
	// daemons run as frr.
	dir, err := os.MkdirTemp("", fmt.Sprintf("tgfrr-%d-%s-", os.Getpid(), hostname))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// The daemons drop to user frr (Debian builds them with vty group
	// frrvty, which root is not in), so the directory and files are theirs.
	u, err := user.Lookup("frr")
	if err != nil {
		t.Fatalf("FRR's user: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	files := map[string]string{
		"zebra.conf": fmt.Sprintf("hostname %s\nlog file %s/zebra.log\n", hostname, dir),
		"bgpd.conf":  fmt.Sprintf("frr defaults traditional\nhostname %s\nlog file %s/bgpd.log\n!\n%s", hostname, dir, bgpConf),
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	f := &FRR{t: t, dir: dir}
	zsock := filepath.Join(dir, "zserv.api")
	f.daemon(ns, "zebra", "-z", zsock)
	Eventually(t, 10*time.Second, "zebra socket", func() error { _, err := os.Stat(zsock); return err })
	f.daemon(ns, "bgpd", "-z", zsock, "-p", "179")
	Eventually(t, 10*time.Second, "bgpd vty", func() error { _, err := f.Vtysh("show bgp summary"); return err })
	return f
}

func (f *FRR) daemon(ns, name string, args ...string) {
	f.t.Helper()
	argv := append([]string{
		"-f", filepath.Join(f.dir, name+".conf"),
		"-i", filepath.Join(f.dir, name+".pid"),
		"--vty_socket", f.dir,
		"-A", "127.0.0.1", "-P", "0", // no TCP vty
	}, args...)
	// The daemon does not fork (no -d): the process is the daemon.
	netnstest.Start(f.t, netnstest.Command(ns, filepath.Join(frrDir, name), argv...), filepath.Join(f.dir, name+".out"))
	// Cleanups run last first: FRR's own log is shown, then the daemon
	// is stopped and its output shown, and the directory goes last.
	f.t.Cleanup(func() {
		if f.t.Failed() {
			b, _ := os.ReadFile(filepath.Join(f.dir, name+".log"))
			f.t.Logf("FRR %s %s.log:\n%s", f.dir, name, testlog.Tail(b, 40))
		}
	})
}

// Pid reads a daemon's ("zebra", "bgpd") pid file.
func (f *FRR) Pid(daemon string) int {
	f.t.Helper()
	b, err := os.ReadFile(filepath.Join(f.dir, daemon+".pid"))
	if err != nil {
		f.t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

// Vtysh runs commands on bgpd, in order, and returns their output. Errors
// are returned, not fatal, so that tests can poll.
func (f *FRR) Vtysh(cmds ...string) ([]byte, error) {
	args := []string{"--vty_socket", f.dir, "-d", "bgpd"}
	for _, c := range cmds {
		args = append(args, "-c", c)
	}
	out, err := exec.Command("vtysh", args...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("vtysh %q: %v: %s", cmds, err, out)
	}
	return out, nil
}

// Shutdown shuts bgpd's neighbor addr (of its AS asn) down, or with down
// false brings it back, and fails t when vtysh does.
func (f *FRR) Shutdown(t testing.TB, asn uint32, addr string, down bool) {
	t.Helper()
	cmd := "neighbor " + addr + " shutdown"
	if !down {
		cmd = "no " + cmd
	}
	if _, err := f.Vtysh("configure terminal", fmt.Sprintf("router bgp %d", asn), cmd); err != nil {
		t.Fatal(err)
	}
}

// Eventually retries f every 100 ms until it succeeds, and fails t with
// f's last error when timeout passes first.
func Eventually(t *testing.T, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
