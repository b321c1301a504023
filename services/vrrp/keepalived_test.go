package vrrp_test

import (
	"fmt"
	"os"

	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	seedarticle "github.com/tidegate/tidegate/configs/seed-article"
)

const keepalivedBin = "/usr/sbin/keepalived"

// v3Conf is a keepalived VRRPv3 instance like the seed's, at interval.
func v3Conf(state string, prio int, interval time.Duration) string {
	return fmt.Sprintf(`global_defs {
    vrrp_version 3
}
vrrp_instance VI {
    state %s
    interface eth1
    virtual_router_id 10
    priority %d
    advert_int %s
    virtual_ipaddress {
        10.0.1.200
    }
}
`, state, prio, strconv.FormatFloat(interval.Seconds(), 'f', -1, 64))
}

// keepalived is Debian's keepalived run in a node's namespace, in the
// foreground, with its own pid files and only the VRRP subsystem; it never
// reads /etc/keepalived and never touches systemd.
type keepalived struct {
	*proc
	dir string
}

func needKeepalived(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(keepalivedBin); err != nil {
		t.Fatalf("keepalived is required (Debian package keepalived): %v", err)
	}
}

func startKeepalived(t testing.TB, l *lab, node, conf string) *keepalived {
	t.Helper()
	needKeepalived(t)
	dir := t.TempDir()
	cf := filepath.Join(dir, "keepalived.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	k := &keepalived{dir: dir}
	k.proc = startProcOpt(t, true, "keepalived-"+node, l.ns(node), keepalivedBin,
		"--dont-fork", "--log-console", "--log-detail", "--no-syslog", "--vrrp",
		"--use-file", cf, "--pid", filepath.Join(dir, "keepalived.pid"),
		"--vrrp_pid", filepath.Join(dir, "vrrp.pid"))
	// keepalived's VRRP child is a separate process: make sure it goes too
	// (registered after startProc's cleanup, so it runs before it).
	t.Cleanup(func() { k.killChild() })
	return k
}

func (k *keepalived) killChild() {
	b, err := os.ReadFile(filepath.Join(k.dir, "vrrp.pid"))
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return
	}
	// Only if it is still keepalived (the pid may have been reused).
	if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil && strings.HasPrefix(string(comm), "keepalived") {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// handoverToKeepalived stops tidegate's master a with SIGTERM (a planned
// handover), waits for keepalived's backup k to take over and for a to
// exit, lets settle pass and returns the pings to the VIP lost meanwhile
// and the longest gap.
func handoverToKeepalived(t testing.TB, l *lab, a *vrrpd, k *keepalived, settle time.Duration) (lost int, gap time.Duration) {
	p := startPinger(t, l, vipAddr)
	n := k.count()
	a.signal(syscall.SIGTERM)
	k.waitState(n, "master", 5*time.Second)
	a.wait(10 * time.Second)
	time.Sleep(settle)
	return p.stop()
}

// stop is a planned stop (systemctl stop): SIGTERM, and wait for exit.
func (k *keepalived) stop() {
	k.signal(syscall.SIGTERM)
	select {
	case <-k.exited:
	case <-time.After(10 * time.Second):
		k.t.Fatal("keepalived did not stop")
	}
}

// waitState waits for keepalived's "Entering MASTER STATE" style line.
func (k *keepalived) waitState(from int, state string, timeout time.Duration) int {
	k.t.Helper()
	want := "Entering " + strings.ToUpper(state) + " STATE"
	i, _ := k.waitLine(from, func(s string) bool { return strings.Contains(s, want) }, timeout)
	if i < 0 {
		k.t.Fatalf("keepalived: no %q within %v", want, timeout)
	}
	return i
}

func (k *keepalived) state() string {
	s := ""
	for _, line := range k.snapshot() {
		for _, st := range []string{"MASTER", "BACKUP", "FAULT"} {
			if strings.Contains(line, "Entering "+st+" STATE") {
				s = strings.ToLower(st)
			}
		}
	}
	return s
}

func writePass(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(p, []byte("password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// keepalived master (seed gw-1), tidegate backup (seed gw-2): tidegate,
// given the VLAN prefix and keepalived's address as its peer as the gateway
// gives them, accepts keepalived's adverts (sent from its VLAN address),
// stays backup, and takes over when keepalived stops.
func TestKeepalivedV2MasterTidegateBackup(t *testing.T) {
	l := newLab(t)
	k := startKeepalived(t, l, "a", seedarticle.Keepalived(t, "vpn-gw-1"))
	b := startVRRPD(t, l, "b", "-version", "2", "-interval", "1s", "-priority", "99",
		"-vip", vipAddr+"/32", "-auth-pass-file", writePass(t), "-prefix", "10.0.1.0/24", "-peer", "10.0.1.2")
	k.waitState(0, "master", 10*time.Second)
	time.Sleep(2500 * time.Millisecond)
	s := b.status()
	if s.State != "backup" || s.Received < 2 || s.Master != "10.0.1.2" || len(s.Drops) != 0 || s.Peer != "10.0.1.2" {
		t.Fatalf("tidegate: %+v", s)
	}
	if !l.hasVIP("a", vipAddr) || l.hasVIP("b", vipAddr) {
		t.Fatal("VIP not on keepalived only")
	}
	n := b.count()
	k.stop()
	_, ev := b.waitState(n, "master", 5*time.Second)
	if ev.Reason != "priority 0 received" {
		t.Errorf("tidegate took over for %q", ev.Reason)
	}
	if !l.hasVIP("b", vipAddr) {
		t.Error("tidegate did not take the VIP")
	}
}

// tidegate master, keepalived backup (seed gw-2's file): keepalived accepts
// tidegate's adverts and stays backup; a planned handover to keepalived
// loses no ping.
func TestKeepalivedV2TidegateMasterKeepalivedBackup(t *testing.T) {
	l := newLab(t)
	a := startVRRPD(t, l, "a", "-version", "2", "-interval", "1s", "-priority", "100",
		"-vip", vipAddr+"/32", "-auth-pass-file", writePass(t), "-prefix", "10.0.1.0/24", "-peer", "10.0.1.3")
	k := startKeepalived(t, l, "b", seedarticle.Keepalived(t, "vpn-gw-2"))
	k.waitState(0, "backup", 10*time.Second)
	a.waitState(0, "master", 10*time.Second)
	time.Sleep(2500 * time.Millisecond)
	if k.state() != "backup" {
		t.Fatalf("keepalived is %s", k.state())
	}
	if s := a.status(); s.State != "master" || len(s.Drops) != 0 {
		t.Fatalf("tidegate: %+v", s)
	}
	lost, gap := handoverToKeepalived(t, l, a, k, 300*time.Millisecond)
	t.Logf("handover to keepalived: %d lost, gap %v", lost, gap)
	if lost != 0 {
		t.Errorf("planned handover to keepalived lost %d pings", lost)
	}
	if !l.hasVIP("b", vipAddr) || l.hasVIP("a", vipAddr) {
		t.Error("VIP not moved to keepalived")
	}
}

// A wrong password: each side drops the other's adverts (tidegate counts
// them), so both become master.
func TestKeepalivedV2WrongPassword(t *testing.T) {
	l := newLab(t)
	k := startKeepalived(t, l, "a", strings.Replace(seedarticle.Keepalived(t, "vpn-gw-1"), "auth_pass password", "auth_pass another", 1))
	k.waitState(0, "master", 10*time.Second)
	b := startVRRPD(t, l, "b", "-version", "2", "-interval", "1s", "-priority", "99",
		"-vip", vipAddr+"/32", "-auth-pass-file", writePass(t))
	b.waitState(0, "master", 10*time.Second)
	if s := b.status(); s.Drops["auth"] == 0 || s.Received != 0 {
		t.Fatalf("tidegate: %+v", s)
	}
}

func TestKeepalivedV3(t *testing.T) {
	const iv = 100 * time.Millisecond
	t.Run("keepalived master", func(t *testing.T) {
		l := newLab(t)
		k := startKeepalived(t, l, "a", v3Conf("MASTER", 100, iv))
		k.waitState(0, "master", 5*time.Second)
		b := startVRRPD(t, l, "b", "-version", "3", "-interval", iv.String(), "-priority", "99", "-vip", vipAddr+"/32",
			"-prefix", "10.0.1.0/24")
		b.waitState(0, "backup", 5*time.Second)
		time.Sleep(10 * iv)
		s := b.status()
		if s.State != "backup" || s.Received < 5 || len(s.Drops) != 0 || s.MasterInterval != "100ms" ||
			s.Peer != "10.0.1.2" || !s.PeerLearned {
			t.Fatalf("tidegate: %+v", s)
		}
		n := b.count()
		l.cut("a")
		_, ev := b.waitState(n, "master", 5*time.Second)
		if ev.Reason != "master-down timer" {
			t.Errorf("tidegate took over for %q", ev.Reason)
		}
	})
	t.Run("tidegate master", func(t *testing.T) {
		l := newLab(t)
		a := startVRRPD(t, l, "a", "-version", "3", "-interval", iv.String(), "-priority", "100", "-vip", vipAddr+"/32",
			"-prefix", "10.0.1.0/24")
		a.waitState(0, "master", 5*time.Second)
		k := startKeepalived(t, l, "b", v3Conf("BACKUP", 99, iv))
		k.waitState(0, "backup", 5*time.Second)
		time.Sleep(10 * iv)
		if k.state() != "backup" {
			t.Fatalf("keepalived is %s", k.state())
		}
		if lost, gap := handoverToKeepalived(t, l, a, k, 200*time.Millisecond); lost != 0 {
			t.Errorf("planned handover to keepalived lost %d pings (gap %v)", lost, gap)
		}
	})
	// keepalived learns tidegate's interval and the reverse: a 1 s
	// keepalived backup under a 100 ms tidegate master must not flap.
	t.Run("interval learned", func(t *testing.T) {
		l := newLab(t)
		a := startVRRPD(t, l, "a", "-version", "3", "-interval", "1s", "-priority", "100", "-vip", vipAddr+"/32")
		k := startKeepalived(t, l, "b", v3Conf("BACKUP", 99, iv))
		a.waitState(0, "master", 10*time.Second)
		k.waitState(0, "backup", 5*time.Second)
		time.Sleep(2 * time.Second)
		if k.state() != "backup" {
			t.Fatalf("keepalived is %s", k.state())
		}
	})
}
