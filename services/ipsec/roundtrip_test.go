package ipsec_test

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/strongswan/govici/vici"
	"github.com/tidegate/tidegate/configs"
	"github.com/tidegate/tidegate/internal/netnstest"
	"github.com/tidegate/tidegate/services/ipsec"
)

var tunnel = ipsec.NewTestTunnel

// session opens a VICI session of the test's own to the service's charon,
// subscribed to list-conn and list-sa (see lister.go for why streamed
// commands are not run with CallStreaming).
type testSession struct {
	*vici.Session
	ch chan vici.Event
}

func session(t testing.TB, runDir string) *testSession {
	t.Helper()
	s, err := vici.NewSession(vici.WithSocketPath(filepath.Join(runDir, "charon.vici")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ts := &testSession{Session: s, ch: make(chan vici.Event, 1024)}
	s.NotifyEvents(ts.ch)
	if err := s.Subscribe("list-conn", "list-sa"); err != nil {
		t.Fatal(err)
	}
	return ts
}

// list runs a streamed command and returns its events' messages.
func (s *testSession) list(t testing.TB, cmd, event string) []*vici.Message {
	t.Helper()
	if _, err := s.Call(context.Background(), cmd, nil); err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	var out []*vici.Message
	for {
		select {
		case e := <-s.ch:
			if e.Name == event {
				out = append(out, e.Message)
			}
		default:
			return out
		}
	}
}

func listConns(t testing.TB, s *testSession) map[string]*vici.Message {
	t.Helper()
	out := map[string]*vici.Message{}
	for _, m := range s.list(t, "list-conns", "list-conn") {
		for _, k := range m.Keys() {
			out[k] = m.Get(k).(*vici.Message)
		}
	}
	return out
}

// listedConn is what list-conns reports of a connection in strongSwan
// 5.9.8 (it leaves out proposals, if_ids, start actions and lifetimes; the
// negotiation test covers those).
type listedConn struct {
	LocalAddrs  []string `vici:"local_addrs"`
	RemoteAddrs []string `vici:"remote_addrs"`
	Version     string   `vici:"version"`
	RekeyTime   string   `vici:"rekey_time"`
	Unique      string   `vici:"unique"`
	DPDDelay    string   `vici:"dpd_delay"`
	Local       struct {
		ID    string `vici:"id"`
		Class string `vici:"class"`
	} `vici:"local-1"`
	Remote struct {
		ID    string `vici:"id"`
		Class string `vici:"class"`
	} `vici:"remote-1"`
	Children map[string]listedChild `vici:"children"`
}

type listedChild struct {
	Mode        string   `vici:"mode"`
	RekeyTime   string   `vici:"rekey_time"`
	DPDAction   string   `vici:"dpd_action"`
	CloseAction string   `vici:"close_action"`
	LocalTS     []string `vici:"local-ts"`
	RemoteTS    []string `vici:"remote-ts"`
}

// expectConn is what a tunnel should look like in list-conns.
func expectConn(tun configs.Tunnel, local string) listedConn {
	c := listedConn{
		LocalAddrs:  []string{local},
		RemoteAddrs: []string{tun.OutsideAddress.String()},
		Version:     fmt.Sprintf("IKEv%d", tun.IKEVersion),
		RekeyTime:   fmt.Sprint(int(tun.IKELifetime.Seconds() * 0.9)),
		Unique:      "UNIQUE_REPLACE",
		DPDDelay:    fmt.Sprint(int(tun.DPDDelay.Seconds())),
		Children: map[string]listedChild{tun.Name: {
			Mode:        "TUNNEL",
			RekeyTime:   fmt.Sprint(int(tun.ChildLifetime.Seconds() * 0.9)),
			DPDAction:   "start", // 5.9.8 names "restart" so
			CloseAction: "start",
			LocalTS:     []string{"0.0.0.0/0"},
			RemoteTS:    []string{"0.0.0.0/0"},
		}},
	}
	c.Local.ID, c.Local.Class = local, "pre-shared key"
	c.Remote.ID, c.Remote.Class = tun.OutsideAddress.String(), "pre-shared key"
	return c
}

// checkLoaded compares charon's connections and shared keys with tuns.
func checkLoaded(t testing.TB, s *testSession, tuns []configs.Tunnel, local string) {
	t.Helper()
	got := map[string]listedConn{}
	for name, m := range listConns(t, s) {
		var c listedConn
		if err := vici.UnmarshalMessage(m, &c); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, m)
		}
		got[name] = c
	}
	want := map[string]listedConn{}
	var wantKeys []string
	for _, tun := range tuns {
		want[tun.Name] = expectConn(tun, local)
		wantKeys = append(wantKeys, tun.Name)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("list-conns differs from the configuration (-want +got):\n%s", diff)
	}
	m, err := s.Call(context.Background(), "get-shared", nil)
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := m.Get("keys").([]string)
	if !cmp.Equal(wantKeys, keys, cmpopts.SortSlices(func(a, b string) bool { return a < b }), cmpopts.EquateEmpty()) {
		t.Errorf("get-shared = %q, want %q", keys, wantKeys)
	}
}

// TestLoadRoundTrip loads tunnels into a real charon and reads them back,
// then changes the configuration and restarts charon, reading them back
// after each step.
func TestLoadRoundTrip(t *testing.T) {
	ns := netnstest.NewLab(t, "ipsec").Netns("a")
	dir := t.TempDir()
	tuns := []configs.Tunnel{
		tunnel("vpn-1a", "203.0.113.10", "169.254.80.144/30", "EXAMPLE.psk.for.vpn_1a"),
		tunnel("vpn-1b", "198.51.100.10", "169.254.81.148/30", "EXAMPLE.psk.for.vpn_1b"),
	}
	const local = "192.0.2.1"
	svc, err := ipsec.New(ipsec.Config{RunDir: dir, NetNS: "/run/netns/" + ns, Tunnels: tuns,
		LocalAddress: netip.MustParseAddr(local), Logger: testLogger(t, "")})
	if err != nil {
		t.Fatal(err)
	}
	started(t, svc)
	waitFor(t, 20*time.Second, "charon over VICI", func() bool { return svc.Status().Charon.Running })
	s := session(t, dir)
	waitFor(t, 10*time.Second, "both tunnels loaded", func() bool { return len(listConns(t, s)) == 2 })
	checkLoaded(t, s, tuns, local)

	t.Run("update", func(t *testing.T) {
		// Drop vpn-1b, change vpn-1a's DPD delay and lifetimes, add vpn-2a
		// with IKEv1.
		a := tuns[0]
		a.DPDDelay, a.IKELifetime, a.ChildLifetime = 20*time.Second, 3*time.Hour, 1800*time.Second
		b := tunnel("vpn-2a", "203.0.113.20", "169.254.82.152/30", "EXAMPLE.psk.for.vpn_2a")
		b.IKEVersion, b.Proposals = 1, configs.DefaultProposals(1)
		next := []configs.Tunnel{a, b}
		if err := svc.Update(next); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "the update applied", func() bool {
			c := listConns(t, s)
			return len(c) == 2 && c["vpn-2a"] != nil && c["vpn-1a"].Get("dpd_delay") == "20"
		})
		checkLoaded(t, s, next, local)
		tuns = next
	})

	t.Run("restart", func(t *testing.T) {
		pid := svc.Status().Charon.PID
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 20*time.Second, "charon restarted", func() bool {
			st := svc.Status().Charon
			return st.Running && st.PID != pid
		})
		s := session(t, dir)
		waitFor(t, 10*time.Second, "tunnels reloaded", func() bool { return len(listConns(t, s)) == len(tuns) })
		checkLoaded(t, s, tuns, local)
	})
}
