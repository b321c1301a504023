package gateway

import (
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tidegate/tidegate/internal/consolelog"
)

// TestSyslog: once the role is known, the lines logged before and after
// reach the site's receiver with the gateway's name as hostname, the
// status document counts them, and nothing is sent after the stop.
func TestSyslog(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	role := testRole(t, "vpn-gw-2", "gateways:", "syslog:\n  address: 10.0.1.50\ngateways:")
	// The VLAN's receiver, played by the loopback.
	role.Site.Syslog.Address = netip.MustParseAddrPort(pc.LocalAddr().String())

	log := consolelog.New(io.Discard, nil)
	g := New(Options{Log: log})
	if st := g.Status(); st.Syslog != nil {
		t.Errorf("before the role, status has syslog %+v", st.Syslog)
	}
	log.Info("before the role is known", "svc", "metadata")
	g.setRole(role)
	stop := g.startSyslog(role)
	log.Info("after the role is known", "svc", "bgp")

	got := map[string]string{}
	pc.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	for len(got) < 2 {
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("received %q, then: %v", got, err)
		}
		m := string(buf[:n])
		for _, text := range []string{"before the role is known", "after the role is known"} {
			if strings.Contains(m, text) {
				got[text] = m
			}
		}
	}
	for text, svc := range map[string]string{"before the role is known": "metadata", "after the role is known": "bgp"} {
		if m := got[text]; !strings.Contains(m, " vpn-gw-2 tidegate ") || !strings.Contains(m, " "+svc+` [meta sequenceId="`) {
			t.Errorf("message %q: want hostname vpn-gw-2, msgid %s", m, svc)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		st := g.Status().Syslog
		if st != nil && st.Sent >= 2 && st.Protocol == "udp" && st.Address == pc.LocalAddr().String() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status syslog %+v, want at least 2 sent over udp to %s", st, pc.LocalAddr())
		}
	}

	stop()
	log.Info("after the stop")
	pc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	for {
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			break
		}
		if strings.Contains(string(buf[:n]), "after the stop") {
			t.Errorf("a line logged after the stop was sent")
		}
	}
}

// TestNoSyslog: a site without a receiver starts no sender.
func TestNoSyslog(t *testing.T) {
	role := testRole(t, "vpn-gw-1")
	g := New(Options{Log: discard})
	g.setRole(role)
	g.startSyslog(role)()
	if st := g.Status(); st.Syslog != nil {
		t.Errorf("status has syslog %+v without a receiver", st.Syslog)
	}
}
