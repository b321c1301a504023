package ipsec

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/strongswan/govici/vici"
	"github.com/tidegate/tidegate/configs"
)

// child builds a list-sas child-sas entry.
func child(id, state string, bytesIn, bytesOut int) *vici.Message {
	m := vici.NewMessage()
	for k, v := range map[string]string{
		"name": "vpn-1a", "uniqueid": id, "state": state, "encr-alg": "AES_GCM_16", "encr-keysize": "256",
		"dh-group": "ECP_384", "bytes-in": fmt.Sprint(bytesIn), "bytes-out": fmt.Sprint(bytesOut),
		"packets-in": "1", "packets-out": "1", "install-time": "5",
	} {
		_ = m.Set(k, v)
	}
	return m
}

func ike(state string, children ...*vici.Message) sa {
	x := sa{State: state, Established: "60", EncrAlg: "AES_GCM_16", EncrKeysize: "256", PRFAlg: "PRF_HMAC_SHA2_384", DHGroup: "ECP_384"}
	if len(children) > 0 {
		x.Children = vici.NewMessage()
		for i, c := range children {
			_ = x.Children.Set(fmt.Sprintf("vpn-1a-%d", i), c)
		}
	}
	return x
}

// TestTunnelState walks one tunnel through what list-sas can report and
// checks the up/down events and the status, including counters that
// survive rekeys.
func TestTunnelState(t *testing.T) {
	s, err := New(Config{RunDir: t.TempDir(), Tunnels: []configs.Tunnel{defaultTunnel()}})
	if err != nil {
		t.Fatal(err)
	}
	go s.pub.run()
	defer s.pub.close()

	observe := func(reason string, sas ...sa) {
		s.mu.Lock()
		s.state["vpn-1a"].observe(sas, reason, s.pub)
		s.mu.Unlock()
	}
	expect := func(up bool, reason string) {
		t.Helper()
		select {
		case e := <-s.Events():
			if e.Tunnel != "vpn-1a" || e.Up != up || e.Reason != reason {
				t.Errorf("event %+v, want up=%v reason %q", e, up, reason)
			}
		case <-time.After(time.Second):
			t.Errorf("no event, want up=%v", up)
		}
	}
	none := func() {
		t.Helper()
		select {
		case e := <-s.Events():
			t.Errorf("unexpected event %+v", e)
		case <-time.After(50 * time.Millisecond):
		}
	}

	observe("list-sas")
	none()
	observe("list-sas", ike("CONNECTING"))
	none()
	observe("child-updown up", ike("ESTABLISHED", child("1", "INSTALLED", 100, 200)))
	expect(true, "child-updown up")
	st := s.Status().Tunnels[0]
	if !st.Up || st.IKEState != "ESTABLISHED" || st.ChildState != "INSTALLED" || st.BytesIn != 100 || st.BytesOut != 200 {
		t.Errorf("status %+v", st)
	}
	if st.IKEProposal != "AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384" || st.ESPProposal != "AES_GCM_16-256/ECP_384" {
		t.Errorf("proposals %q, %q", st.IKEProposal, st.ESPProposal)
	}
	if d := time.Since(st.Established); d < 59*time.Second || d > 62*time.Second {
		t.Errorf("established %v ago, want 60 s", d)
	}
	// A CHILD_SA rekey: old and new side by side, then the old one gone.
	observe("list-sas", ike("ESTABLISHED", child("1", "REKEYED", 150, 250), child("2", "INSTALLED", 1, 2)))
	observe("list-sas", ike("ESTABLISHED", child("2", "INSTALLED", 10, 20)))
	none()
	if st := s.Status().Tunnels[0]; st.BytesIn != 160 || st.BytesOut != 270 {
		t.Errorf("after a rekey: %d bytes in, %d out; want 160 and 270", st.BytesIn, st.BytesOut)
	}
	// Only a duplicate CHILD_SA went down: still up.
	observe("child-updown down", ike("ESTABLISHED", child("2", "INSTALLED", 10, 20)))
	none()
	observe("ike-updown down", ike("CONNECTING"))
	expect(false, "ike-updown down")
	observe("list-sas", ike("ESTABLISHED", child("3", "INSTALLED", 0, 0)))
	expect(true, "list-sas")

	// charon died.
	s.forgetSAs("charon exited: signal: killed")
	expect(false, "charon exited: signal: killed")
	observe("list-sas", ike("ESTABLISHED", child("4", "INSTALLED", 0, 0)))
	expect(true, "list-sas")

	// charon crashed: its SAs stay in the kernel, so the tunnel is held up
	// while the next charon negotiates it again, and no event goes out.
	s.charonCrashed(&charon{pid: 42, err: errors.New("signal: killed")})
	none()
	observe("list-sas")
	observe("list-sas", ike("CONNECTING"))
	none()
	if st := s.Status().Tunnels[0]; !st.Up {
		t.Errorf("tunnel reported down during the grace after a charon crash: %+v", st)
	}
	observe("child-updown up", ike("ESTABLISHED", child("5", "INSTALLED", 0, 0)))
	none()
	// Crashed again, and this time not back within the grace.
	s.charonCrashed(&charon{pid: 43, err: errors.New("signal: killed")})
	s.mu.Lock()
	s.state["vpn-1a"].graceUntil = time.Now().Add(-time.Millisecond)
	s.mu.Unlock()
	none()
	observe("list-sas", ike("CONNECTING"))
	expect(false, "not back after charon crashed (list-sas)")
	observe("list-sas", ike("ESTABLISHED", child("6", "INSTALLED", 0, 0)))
	expect(true, "list-sas")
	// A crash loop: charon does not even start again; once the grace is
	// over the tunnel goes down without a list-sas.
	s.charonCrashed(&charon{pid: 44, err: errors.New("signal: killed")})
	s.mu.Lock()
	s.state["vpn-1a"].graceUntil = time.Now().Add(-time.Millisecond)
	s.mu.Unlock()
	s.graceOver()
	expect(false, "not back after charon crashed (charon not running)")
	observe("list-sas", ike("ESTABLISHED", child("7", "INSTALLED", 0, 0)))
	expect(true, "list-sas")

	// Removed from the configuration while up.
	if err := s.Update(nil); err != nil {
		t.Fatal(err)
	}
	expect(false, "removed from the configuration")
	if n := len(s.Status().Tunnels); n != 0 {
		t.Errorf("%d tunnels in status after removing all", n)
	}
}

// TestMissing: a tunnel without an IKE_SA, or established without a
// CHILD_SA, is noted so that reconcile initiates it after a while; one
// that is connecting is charon's business.
func TestMissing(t *testing.T) {
	st := &tunnelState{children: map[string]counters{}}
	pub := newPublisher()
	for _, c := range []struct {
		sas     []sa
		missing bool
	}{
		{nil, true},
		{[]sa{ike("CONNECTING")}, false},
		{[]sa{ike("ESTABLISHED")}, true},
		{[]sa{ike("ESTABLISHED", child("1", "INSTALLED", 0, 0))}, false},
		{[]sa{ike("ESTABLISHED", child("1", "INSTALLING", 0, 0))}, false},
	} {
		st.missing = time.Time{}
		st.observe(c.sas, "test", pub)
		if got := !st.missing.IsZero(); got != c.missing {
			t.Errorf("%+v: missing = %v, want %v", c.sas, got, c.missing)
		}
	}
	// The first sighting counts, not the latest.
	st.observe(nil, "test", pub)
	first := st.missing
	time.Sleep(time.Millisecond)
	st.observe(nil, "test", pub)
	if st.missing != first {
		t.Errorf("missing moved from %v to %v", first, st.missing)
	}
}

// TestPublisher: events come out in order however slowly they are read,
// and the channel closes after close.
func TestPublisher(t *testing.T) {
	p := newPublisher()
	go p.run()
	for i := range 1000 {
		p.publish(TunnelEvent{Tunnel: fmt.Sprint(i)})
	}
	for i := range 1000 {
		if e := <-p.out; e.Tunnel != fmt.Sprint(i) {
			t.Fatalf("event %d is %q", i, e.Tunnel)
		}
	}
	p.publish(TunnelEvent{Tunnel: "last"})
	p.close()
	p.publish(TunnelEvent{Tunnel: "after close"})
	var got []string
	for e := range p.out {
		got = append(got, e.Tunnel)
	}
	if fmt.Sprint(got) != "[last]" {
		t.Errorf("after close: %q, want [last]", got)
	}
}
