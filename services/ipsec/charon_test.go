package ipsec_test

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tidegate/tidegate/internal/netnstest"
	"github.com/tidegate/tidegate/services/ipsec"
)

// TestCharonSupervision starts a real charon in a fresh network namespace,
// checks what it reports over VICI, kills it and checks that it is
// restarted and reconnected, and that OnCharon heard of both.
func TestCharonSupervision(t *testing.T) {
	ns := netnstest.NewLab(t, "ipsec").Netns("a")
	dir := t.TempDir()
	var answered atomic.Int32
	svc, err := ipsec.New(ipsec.Config{
		RunDir:   dir,
		NetNS:    "/run/netns/" + ns,
		Logger:   testLogger(t, ""),
		OnCharon: func() { answered.Add(1) },
	})
	if err != nil {
		t.Fatal(err)
	}
	started(t, svc)

	waitFor(t, 20*time.Second, "charon over VICI", func() bool { return svc.Status().Charon.Running })
	st := svc.Status().Charon
	if st.Version == "" {
		t.Errorf("no version from charon")
	}
	for _, p := range ipsec.Plugins {
		if !slices.Contains(st.Plugins, p) {
			t.Errorf("plugin %q not loaded; charon reports %q", p, st.Plugins)
		}
	}
	if len(st.Plugins) != len(ipsec.Plugins)+1 { // + "charon" itself
		t.Errorf("charon loaded %q, want only %q: is the system's configuration leaking in?", st.Plugins, ipsec.Plugins)
	}
	// charon's files are in RunDir, not /var/run.
	for _, f := range []string{"charon.vici", "charon.pid", "strongswan.conf"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("RunDir: %v", err)
		}
	}
	if _, err := os.Stat("/var/run/charon.pid"); err == nil {
		t.Errorf("/var/run/charon.pid exists: charon's pid file escaped its private /run (or another charon runs)")
	}
	// charon runs in the namespace.
	link, err := os.Readlink("/proc/" + itoa(st.PID) + "/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.Stat("/run/netns/" + ns)
	if err != nil {
		t.Fatal(err)
	}
	if link != "net:["+itoa(int(want.Sys().(*syscall.Stat_t).Ino))+"]" {
		t.Errorf("charon's network namespace is %s, want %s's (inode %d)", link, ns, want.Sys().(*syscall.Stat_t).Ino)
	}

	first := st.PID
	start := time.Now()
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "charon restarted", func() bool {
		st := svc.Status().Charon
		return st.Running && st.PID != first
	})
	t.Logf("charon killed and reconnected over VICI in %v", time.Since(start).Round(time.Millisecond))
	if st := svc.Status().Charon; st.Restarts != 1 {
		t.Errorf("Restarts = %d, want 1", st.Restarts)
	}
	if n := answered.Load(); n != 2 {
		t.Errorf("OnCharon called %d times, want 2 (the first charon and the restarted one)", n)
	}
	if err := syscall.Kill(first, 0); err == nil {
		t.Errorf("the killed charon (pid %d) still exists", first)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
