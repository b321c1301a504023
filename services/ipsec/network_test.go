package ipsec_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tidegate/tidegate/internal/netnstest"
	"github.com/tidegate/tidegate/services/ipsec"
)

func readSysctl(t testing.TB, ns, key string) string {
	t.Helper()
	var v []byte
	if err := netnstest.In(ns, func() (err error) {
		v, err = os.ReadFile("/proc/sys/" + strings.ReplaceAll(key, ".", "/"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(v))
}

// TestSysctls: with Config.Sysctls the service turns forwarding on and
// reverse-path filtering off in its namespace. (The packet filter and the
// MSS clamp are package firewall's, and tested there.)
func TestSysctls(t *testing.T) {
	l := netnstest.NewLab(t, "ipsec")
	gw := l.Netns("gw")
	l.Exec(gw, "sysctl", "-qw", "net.ipv4.ip_forward=0", "net.ipv4.conf.all.rp_filter=1")
	svc, err := ipsec.New(ipsec.Config{RunDir: t.TempDir(), NetNS: "/run/netns/" + gw, Sysctls: true,
		Logger: testLogger(t, "")})
	if err != nil {
		t.Fatal(err)
	}
	started(t, svc)
	waitFor(t, 20*time.Second, "charon over VICI", func() bool { return svc.Status().Charon.Running })
	if st := svc.Status(); st.Network != "" {
		t.Fatalf("network setup: %s", st.Network)
	}
	for key, want := range map[string]string{
		"net.ipv4.ip_forward": "1", "net.ipv4.conf.all.rp_filter": "0", "net.ipv4.conf.default.rp_filter": "0",
	} {
		if got := readSysctl(t, gw, key); got != want {
			t.Errorf("%s = %s, want %s", key, got, want)
		}
	}
}
