package vrrp

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestConfigValidation(t *testing.T) {
	vips := []netip.Prefix{netip.MustParsePrefix("10.0.1.200/24")}
	base := func() Config { return Config{Interface: "eth1", VRID: 10, VirtualIPs: vips} }
	tests := []struct {
		name   string
		change func(*Config)
		err    string // "" = valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"v2 seed", func(c *Config) { c.Version, c.AuthPass, c.AdvertInterval = 2, "password", time.Second }, ""},
		{"v3 20ms", func(c *Config) { c.AdvertInterval = 20 * time.Millisecond }, ""},
		{"no interface", func(c *Config) { c.Interface = "" }, "interface"},
		{"no vrid", func(c *Config) { c.VRID = 0 }, "vrid"},
		{"version 4", func(c *Config) { c.Version = 4 }, "version"},
		{"v2 fractional", func(c *Config) { c.Version, c.AdvertInterval = 2, 1500*time.Millisecond }, "whole seconds"},
		{"v3 15ms", func(c *Config) { c.AdvertInterval = 15 * time.Millisecond }, "10ms steps"},
		{"v3 too long", func(c *Config) { c.AdvertInterval = 41 * time.Second }, "10ms steps"},
		{"v3 auth", func(c *Config) { c.AuthPass = "secret12" }, "v2 only"},
		{"no VIPs", func(c *Config) { c.VirtualIPs = nil }, "virtual IPs"},
		{"IPv6 VIP", func(c *Config) { c.VirtualIPs = []netip.Prefix{netip.MustParsePrefix("2001:db8::1/64")} }, "IPv4"},
		{"negative delay", func(c *Config) { c.PreemptDelay = -time.Second }, "preempt delay"},
		{"prefix and peer", func(c *Config) {
			c.Prefix, c.Peer = netip.MustParsePrefix("10.0.1.0/24"), netip.MustParseAddr("10.0.1.3")
		}, ""},
		{"peer without prefix", func(c *Config) { c.Peer = netip.MustParseAddr("10.0.1.3") }, ""},
		{"IPv6 prefix", func(c *Config) { c.Prefix = netip.MustParsePrefix("2001:db8::/64") }, "prefix"},
		{"IPv6 peer", func(c *Config) { c.Peer = netip.MustParseAddr("2001:db8::3") }, "peer"},
		{"multicast peer", func(c *Config) { c.Peer = netip.MustParseAddr("224.0.0.18") }, "unicast"},
		{"peer outside prefix", func(c *Config) {
			c.Prefix, c.Peer = netip.MustParsePrefix("10.0.1.0/24"), netip.MustParseAddr("10.0.2.3")
		}, "not a host address"},
		{"peer is the broadcast", func(c *Config) {
			c.Prefix, c.Peer = netip.MustParsePrefix("10.0.1.0/24"), netip.MustParseAddr("10.0.1.255")
		}, "not a host address"},
		{"peer is the VIP", func(c *Config) { c.Peer = netip.MustParseAddr("10.0.1.200") }, "virtual IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base()
			tt.change(&c)
			_, err := New(c)
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("New: %v, want an error about %q", err, tt.err)
			}
			if err != nil && c.AuthPass != "" && strings.Contains(err.Error(), c.AuthPass) {
				t.Fatalf("error leaks the password: %v", err)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	r, err := New(Config{Interface: "eth1", VRID: 10, VirtualIPs: []netip.Prefix{netip.MustParsePrefix("10.0.1.200/32")}})
	if err != nil {
		t.Fatal(err)
	}
	c := r.cfg
	if c.Version != 3 || c.Priority != 100 || c.AdvertInterval != time.Second || c.GARPRepeat != 5 || c.GARPDelay != 5*time.Second {
		t.Fatalf("defaults: %+v", c)
	}
	if s := r.Status(); s.State != StateInitialize || s.EffectivePriority != 100 || s.Peer.IsValid() {
		t.Fatalf("status before Run: %+v", s)
	}
	// The VLAN prefix may be given as an interface address; it is masked.
	r, err = New(Config{Interface: "eth1", VRID: 10, VirtualIPs: []netip.Prefix{netip.MustParsePrefix("10.0.1.200/32")},
		Prefix: netip.MustParsePrefix("10.0.1.2/24"), Peer: netip.MustParseAddr("10.0.1.3")})
	if err != nil {
		t.Fatal(err)
	}
	if r.cfg.Prefix != netip.MustParsePrefix("10.0.1.0/24") || r.gate.prefix != r.cfg.Prefix {
		t.Fatalf("prefix %v, gate %v", r.cfg.Prefix, r.gate.prefix)
	}
	if s := r.Status(); s.Peer != netip.MustParseAddr("10.0.1.3") || s.PeerLearned {
		t.Fatalf("configured peer: %v learned %v", s.Peer, s.PeerLearned)
	}
}

// The password never shows in logs, %v or Status.
func TestPasswordNeverPrinted(t *testing.T) {
	const secret = "s3cr3tpw"
	var logs bytes.Buffer
	cfg := Config{Interface: "eth1", VRID: 10, Version: 2, AuthPass: secret,
		VirtualIPs: []netip.Prefix{netip.MustParsePrefix("10.0.1.200/32")},
		Logger:     slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger.Info("config", "config", cfg)
	r.log.Info("router config", "config", r.cfg)
	for _, s := range []string{logs.String(), fmt.Sprintf("%v %+v %s", cfg, cfg, cfg), fmt.Sprintf("%+v", r.Status())} {
		if strings.Contains(s, secret) {
			t.Fatalf("password printed: %s", s)
		}
	}
}

func TestEffectivePriority(t *testing.T) {
	vips := []netip.Prefix{netip.MustParsePrefix("10.0.1.200/32")}
	tests := []struct {
		prio   uint8
		tracks map[string]int
		want   uint8
	}{
		{100, nil, 100},
		{100, map[string]int{"aws": -30}, 70},
		{100, map[string]int{"aws": -30, "bgp": 10}, 80},
		{100, map[string]int{"aws": -200}, 1},
		{100, map[string]int{"aws": 200}, 254},
		{255, map[string]int{"aws": -50}, 255},
	}
	for _, tt := range tests {
		r, err := New(Config{Interface: "eth1", VRID: 10, Priority: tt.prio, VirtualIPs: vips})
		if err != nil {
			t.Fatal(err)
		}
		for n, w := range tt.tracks {
			r.SetTrack(n, w)
		}
		if got := r.Status().EffectivePriority; got != tt.want {
			t.Errorf("priority %d tracks %v: %d, want %d", tt.prio, tt.tracks, got, tt.want)
		}
		for n := range tt.tracks {
			r.SetTrack(n, 0)
		}
		if got := r.Status().EffectivePriority; got != tt.prio {
			t.Errorf("tracks removed: %d, want %d", got, tt.prio)
		}
	}
}

func TestEventsKeepNewest(t *testing.T) {
	r, err := New(Config{Interface: "eth1", VRID: 10, VirtualIPs: []netip.Prefix{netip.MustParsePrefix("10.0.1.200/32")}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		r.changed(StateChange{State: StateMaster, Reason: Reason(fmt.Sprint(i))})
	}
	var last StateChange
	for len(r.Events()) > 0 {
		last = <-r.Events()
	}
	if last.Reason != "99" {
		t.Fatalf("last event %q", last.Reason)
	}
}
