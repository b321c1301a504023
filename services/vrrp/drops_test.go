package vrrp_test

import (
	"os"
	"testing"
	"time"

	"github.com/tidegate/tidegate/internal/netnstest"
)

// injectFrom sends the adverts of TestInjectHelper's mode from namespace
// ns of the lab.
func injectFrom(t *testing.T, l *lab, ns, mode string) {
	t.Helper()
	cmd := netnstest.Command(l.ns(ns), os.Args[0], "-test.run=^TestInjectHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TGVRRP_INJECT="+mode)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("inject %s: %v\n%s", mode, err, out)
	}
}

// startV2Master starts router "a" as keepalived's VRRPv2 with the seed's
// password and priority 100, with extra flags, and waits until it is
// master.
func startV2Master(t *testing.T, l *lab, extra ...string) *vrrpd {
	t.Helper()
	pass := writePass(t)
	a := startVRRPD(t, l, "a", append([]string{"-version", "2", "-interval", "1s", "-priority", "100",
		"-vip", "10.0.1.200/24", "-auth-pass-file", pass}, extra...)...)
	a.waitState(0, "master", 10*time.Second)
	return a
}

// Malformed and foreign adverts reach a live v2 master: each is counted under
// its reason and none changes its state. A valid higher-priority advert
// sent the same way then does make it step down, which shows the injected
// frames did reach it.
func TestDropsInNamespace(t *testing.T) {
	l := newLab(t)
	a := startV2Master(t, l)
	inject := func(mode string) { injectFrom(t, l, "c", mode) }
	n := a.count()
	inject("bad")
	time.Sleep(200 * time.Millisecond)
	s := a.status()
	want := []string{"ttl", "version", "vrid", "checksum", "auth", "address-count", "addresses",
		"interval", "length", "type"}
	// A bad IPv4 header checksum may not even cross the bridge (with
	// br_netfilter loaded the bridge validates IPv4 headers); if it does,
	// it is counted once.
	if s.Drops["ip-header"] == 1 {
		want = append(want, "ip-header")
	}
	for _, r := range want {
		if s.Drops[r] != 1 {
			t.Errorf("drops[%s] = %d, want 1 (all: %v)", r, s.Drops[r], s.Drops)
		}
	}
	if len(s.Drops) != len(want) {
		t.Errorf("drops: %v", s.Drops)
	}
	if s.State != "master" || s.Received != 0 {
		t.Errorf("after bad packets: %+v", s)
	}
	if a.count() != n+1 { // +1: the status line
		t.Errorf("state changed: %v", a.snapshot()[n:])
	}
	inject("valid")
	_, ev := a.waitState(n, "backup", 5*time.Second)
	if ev.Peer != "10.0.1.10" {
		t.Errorf("stepped down for %+v", ev)
	}
}

// An active-active router ignores its sibling's adverts (VRID 11 here):
// they are neither counted as drops nor obeyed, while any other foreign
// VRID still is counted.
func TestSiblingIgnored(t *testing.T) {
	l := newLab(t)
	a := startV2Master(t, l, "-sibling", "11")
	injectFrom(t, l, "c", "bad")
	time.Sleep(200 * time.Millisecond)
	s := a.status()
	if s.Drops["vrid"] != 0 || s.Drops["version"] != 1 || s.State != "master" {
		t.Errorf("drops %v state %s: want the sibling's VRID 11 ignored, the other bad adverts counted", s.Drops, s.State)
	}
}
