package vrrp

import (
	"bytes"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"
)

var (
	vlan    = netip.MustParsePrefix("10.0.1.0/24")
	twin    = netip.MustParseAddr("10.0.1.3")
	rogue   = netip.MustParseAddr("10.0.1.10")
	outside = netip.MustParseAddr("192.168.7.7")
)

// seedAdvert is a valid advert of the seed's v2 instance (VRID 10, PASS
// "password", 1 s, 10.0.1.200) at priority p.
func seedAdvert(p uint8) *advert {
	return &advert{Version: 2, VRID: 10, Priority: p, Interval: time.Second, AuthType: authSimple,
		AuthData: authData("password"), Addresses: []netip.Addr{vip}}
}

func seedFilter() filter {
	return filter{Version: 2, VRID: 10, AuthType: authSimple, AuthData: authData("password"),
		Interval: time.Second, Addresses: []netip.Addr{vip}}
}

// The whole receive decision after decoding: our own adverts, the source,
// the RFC checks, the pair's peer, and learning.
func TestGateAdmit(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	configured := func(g *gate) { g.peer = twin }
	learnedTwin := func(g *gate) { g.peer, g.learned, g.since = twin, true, t0 }
	noPrefix := func(g *gate) { g.prefix = netip.Prefix{} }
	wrongPass := func(a *advert) { a.AuthData = authData("letmein") }
	otherVRID := func(a *advert) { a.VRID = 11 }
	tests := []struct {
		name   string
		gate   func(*gate)   // from: prefix 10.0.1.0/24, self gw1, nothing learned
		src    netip.Addr    //
		advert func(*advert) // from seedAdvert(254)
		reason DropReason    // "" = accepted
		self   bool          // errSelf: ignored, not counted
		peer   netip.Addr    // the peer afterwards
		learn  bool          // ...learned, not configured
		pinned bool          // this advert pinned it
	}{
		{name: "our own advert", src: gw1, self: true},
		{name: "our own advert, configured peer", gate: configured, src: gw1, self: true, peer: twin},

		// Learning.
		{name: "first valid advert pins its source", src: twin, peer: twin, learn: true, pinned: true},
		{name: "pins without a prefix too", gate: noPrefix, src: outside, peer: outside, learn: true, pinned: true},
		{name: "a resigning twin (priority 0) pins", src: twin, advert: func(a *advert) { a.Priority = 0 }, peer: twin, learn: true, pinned: true},
		{name: "wrong password does not pin", src: rogue, advert: wrongPass, reason: DropAuth},
		{name: "another VRID does not pin", src: rogue, advert: otherVRID, reason: DropVRID},
		{name: "outside the prefix does not pin", src: outside, reason: DropSource},
		{name: "learned twin accepted", gate: learnedTwin, src: twin, peer: twin, learn: true},
		{name: "learned twin: rogue with the password", gate: learnedTwin, src: rogue, reason: DropPeer, peer: twin, learn: true},
		{name: "learned twin: rogue at priority 0", gate: learnedTwin, src: rogue, advert: func(a *advert) { a.Priority = 0 }, reason: DropPeer, peer: twin, learn: true},
		{name: "learned twin: rogue with a wrong password", gate: learnedTwin, src: rogue, advert: wrongPass, reason: DropAuth, peer: twin, learn: true},

		// Configured peer.
		{name: "configured peer accepted", gate: configured, src: twin, peer: twin},
		{name: "configured: rogue with the password", gate: configured, src: rogue, reason: DropPeer, peer: twin},
		{name: "configured: rogue address owner", gate: configured, src: rogue, advert: func(a *advert) { a.Priority = 255 }, reason: DropPeer, peer: twin},
		{name: "configured: another VRID on the VLAN", gate: configured, src: rogue, advert: otherVRID, reason: DropVRID, peer: twin},
		{name: "configured, no prefix: rogue", gate: func(g *gate) { noPrefix(g); configured(g) }, src: outside, reason: DropPeer, peer: twin},

		// Source.
		{name: "outside the prefix", gate: configured, src: outside, reason: DropSource, peer: twin},
		{name: "outside the prefix, another VRID", src: outside, advert: otherVRID, reason: DropSource},
		{name: "forged as the twin from outside", gate: configured, src: netip.MustParseAddr("10.0.2.3"), reason: DropSource, peer: twin},
		{name: "network address", src: netip.MustParseAddr("10.0.1.0"), reason: DropSource},
		{name: "broadcast address", src: netip.MustParseAddr("10.0.1.255"), reason: DropSource},
		{name: "unspecified", gate: noPrefix, src: netip.MustParseAddr("0.0.0.0"), reason: DropSource},
		{name: "multicast", gate: noPrefix, src: multicastGroup, reason: DropSource},
		{name: "loopback", gate: noPrefix, src: netip.MustParseAddr("127.0.0.1"), reason: DropSource},
		{name: "limited broadcast", gate: noPrefix, src: netip.MustParseAddr("255.255.255.255"), reason: DropSource},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := gate{filter: seedFilter(), prefix: vlan, self: gw1}
			if tt.gate != nil {
				tt.gate(&g)
			}
			a := seedAdvert(254)
			if tt.advert != nil {
				tt.advert(a)
			}
			pinned, err := g.admit(t0.Add(time.Hour), &datagram{Src: tt.src, Dst: multicastGroup, TTL: 255, Advert: a})
			switch {
			case tt.self:
				if !errors.Is(err, errSelf) {
					t.Fatalf("err = %v, want our own advert", err)
				}
			case tt.reason == "":
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
			default:
				var de *dropError
				if !errors.As(err, &de) || de.reason != tt.reason {
					t.Fatalf("err = %v, want %q", err, tt.reason)
				}
				if strings.Contains(err.Error(), "password") || strings.Contains(err.Error(), "letmein") {
					t.Fatalf("error leaks the password: %v", err)
				}
			}
			if pinned != tt.pinned || g.peer != tt.peer || g.learned != tt.learn {
				t.Fatalf("pinned %v, peer %v learned %v; want %v, %v, %v", pinned, g.peer, g.learned, tt.pinned, tt.peer, tt.learn)
			}
			if tt.pinned && !g.since.Equal(t0.Add(time.Hour)) {
				t.Fatalf("pinned at %v", g.since)
			}
		})
	}
}

// Learning takes the first advert that passes every check, whatever came
// before it, and then holds: however long the twin is silent, a stranger
// never replaces it.
func TestGateLearnsTheTwinAndKeepsIt(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	g := gate{filter: seedFilter(), prefix: vlan, self: gw1}
	send := func(src netip.Addr, a *advert) error {
		now = now.Add(time.Second)
		_, err := g.admit(now, &datagram{Src: src, Dst: multicastGroup, TTL: 255, Advert: a})
		return err
	}
	bad := seedAdvert(254)
	bad.AuthData = authData("guess")
	for _, pre := range []struct {
		src netip.Addr
		a   *advert
	}{{rogue, bad}, {outside, seedAdvert(254)}, {gw1, seedAdvert(254)}} {
		if err := send(pre.src, pre.a); err == nil {
			t.Fatalf("advert from %v accepted", pre.src)
		}
	}
	if g.peer.IsValid() {
		t.Fatalf("learned %v from an advert that failed a check", g.peer)
	}
	if err := send(twin, seedAdvert(100)); err != nil || g.peer != twin || !g.learned {
		t.Fatalf("twin: %v, peer %v", err, g.peer)
	}
	// A week of silence from the twin, as when we are a healthy master and
	// it a healthy backup.
	now = now.Add(7 * 24 * time.Hour)
	if err := send(rogue, seedAdvert(254)); err == nil || g.peer != twin {
		t.Fatalf("rogue after a week: %v, peer %v", err, g.peer)
	}
	if err := send(twin, seedAdvert(100)); err != nil {
		t.Fatalf("twin after a week: %v", err)
	}
}

func TestUnicastHost(t *testing.T) {
	tests := []struct {
		addr, prefix string
		want         bool
	}{
		{"10.0.1.2", "10.0.1.0/24", true},
		{"10.0.1.254", "10.0.1.0/24", true},
		{"10.0.1.0", "10.0.1.0/24", false},
		{"10.0.1.255", "10.0.1.0/24", false},
		{"10.0.2.1", "10.0.1.0/24", false},
		{"10.0.1.3", "10.0.1.2/31", true}, // RFC 3021: both addresses are hosts
		{"10.0.1.2", "10.0.1.2/31", true},
		{"10.0.1.5", "10.0.1.4/30", true},
		{"10.0.1.7", "10.0.1.4/30", false},
		{"172.16.0.1", "", true},
		{"0.0.0.0", "", false},
		{"224.0.0.18", "", false},
		{"2001:db8::1", "", false},
		{"::ffff:10.0.1.2", "10.0.1.0/24", false},
	}
	for _, tt := range tests {
		var p netip.Prefix
		if tt.prefix != "" {
			p = netip.MustParsePrefix(tt.prefix)
		}
		if got := unicastHost(netip.MustParseAddr(tt.addr), p); got != tt.want {
			t.Errorf("unicastHost(%s, %s) = %v, want %v", tt.addr, tt.prefix, got, tt.want)
		}
	}
}

// routerAt returns a Router that has not opened a link but whose machine
// runs, as if Run had found gw1 on the interface; wire adverts are fed to
// it through handle.
func routerAt(t *testing.T, now time.Time, cfg Config) (*Router, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	cfg.Interface, cfg.VRID, cfg.Version, cfg.AuthPass = "eth1", 10, 2, "password"
	cfg.VirtualIPs = []netip.Prefix{netip.PrefixFrom(vip, 24)}
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	r.gate.self, r.m.cfg.Primary = gw1, gw1
	r.m.startup(now)
	r.mu.Unlock()
	return r, &logs
}

func wire(t *testing.T, src netip.Addr, a *advert) []byte {
	t.Helper()
	b, err := encodeAdvert(a, src, 1)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A rogue on the VLAN with the right VRID, password and addresses at
// priority 254: counted, and never the master, the peer or a cause of a
// state change, whether we are backup or master and however long the
// twin has been silent.
func TestRouterIgnoresRogue(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"learned", Config{Priority: 99, Prefix: netip.MustParsePrefix("10.0.1.77/24")}},
		{"configured", Config{Priority: 99, Prefix: vlan, Peer: twin}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			r, logs := routerAt(t, now, tc.cfg)
			if s := r.Status(); s.Peer != tc.cfg.Peer || s.PeerLearned {
				t.Fatalf("before any advert: peer %v learned %v", s.Peer, s.PeerLearned)
			}
			r.handle(now, wire(t, twin, seedAdvert(100)))
			s := r.Status()
			if s.State != StateBackup || s.MasterAddr != twin || s.Peer != twin || s.PeerLearned != !tc.cfg.Peer.IsValid() {
				t.Fatalf("after the twin's advert: %+v", s)
			}
			for range 3 {
				r.handle(now, wire(t, rogue, seedAdvert(254)))
				r.handle(now, wire(t, outside, seedAdvert(254)))
			}
			r.handle(now, wire(t, rogue, seedAdvert(0))) // "take over now"
			s = r.Status()
			if s.Drops[DropPeer] != 4 || s.Drops[DropSource] != 3 || s.AdvertsReceived != 1 {
				t.Fatalf("drops %v, received %d", s.Drops, s.AdvertsReceived)
			}
			if s.MasterAddr != twin || s.MasterPriority != 100 || s.Peer != twin || s.Transitions != 1 {
				t.Fatalf("rogue changed the backup: %+v", s)
			}
			// The twin goes silent: we take over, and stay master against
			// the rogue long after.
			now = now.Add(time.Minute)
			r.mu.Lock()
			r.m.tick(now)
			r.mu.Unlock()
			now = now.Add(24 * time.Hour)
			r.handle(now, wire(t, rogue, seedAdvert(254)))
			s = r.Status()
			if s.State != StateMaster || s.MasterAddr != gw1 || s.Peer != twin || s.Drops[DropPeer] != 5 {
				t.Fatalf("master against the rogue: %+v", s)
			}
			// The twin still is the twin.
			r.handle(now, wire(t, twin, seedAdvert(254)))
			if s = r.Status(); s.State != StateBackup || s.MasterAddr != twin {
				t.Fatalf("twin at 254: %+v", s)
			}
			// Warnings at drop counts 1, 2 and 4 of each reason, naming the
			// stranger and never the password.
			out := logs.String()
			if n := strings.Count(out, "level=WARN"); n != 3+2 {
				t.Errorf("%d warnings:\n%s", n, out)
			}
			if !strings.Contains(out, rogue.String()) || !strings.Contains(out, outside.String()) {
				t.Errorf("the strangers are not named:\n%s", out)
			}
			if strings.Contains(out, "password") {
				t.Errorf("logs leak the password:\n%s", out)
			}
		})
	}
}
