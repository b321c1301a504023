package status

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidegate/tidegate/configs"
	"github.com/tidegate/tidegate/internal/consolelog"
	"github.com/tidegate/tidegate/internal/testnet"
	"github.com/tidegate/tidegate/internal/testrun"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newTestServer(t *testing.T, cfg Config) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(newServer(t, cfg))
	t.Cleanup(ts.Close)
	return ts
}

// newServer returns a Server for cfg with no kernel routes, the CPU times
// of testdata/proc and a quiet log.
func newServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.Routes == nil {
		cfg.Routes = func() ([]Route, error) { return nil, nil }
	}
	if cfg.Proc == "" {
		cfg.Proc = "testdata/proc" // the same CPU times on every machine
	}
	cfg.Logger = quiet
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// serveTCP runs s.Serve on a loopback listener until the test ends and
// returns the listener's address.
func serveTCP(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	testrun.Until(t, "Serve", func(ctx context.Context) error { return s.Serve(ctx, ln) })
	return ln.Addr().String()
}

// clientStatus fetches the status document from the server at url through
// a Client.
func clientStatus(t *testing.T, url string) *Document {
	t.Helper()
	c, err := NewClient(url)
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	return getWith(t, http.DefaultClient, url)
}

// getWith GETs url with c and returns the status code, body and header.
func getWith(t *testing.T, c *http.Client, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header
}

func TestStatusJSON(t *testing.T) {
	routes := []Route{{Prefix: "10.0.0.0/24", Metric: 20, NextHops: []NextHop{{Gateway: "169.254.80.145", Interface: "xfrm1"}}}}
	ts := newTestServer(t, Config{
		Status: func() Document { d := masterDoc(); d.Time, d.Routes = time.Time{}, nil; return d },
		Routes: func() ([]Route, error) { return routes, nil },
	})
	code, body, h := get(t, ts.URL+"/status")
	if code != http.StatusOK || h.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /status: %d %s", code, h.Get("Content-Type"))
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	// The JSON shape is the contract with monitoring and with older
	// clients: look the keys up by path.
	for _, path := range []string{
		"time", "version", "mode", "phase", "gateway", "uptime_seconds",
		"health.healthy",
		"ipsec.tunnels.0.name", "ipsec.tunnels.0.up", "ipsec.tunnels.0.ike_state", "ipsec.tunnels.0.child_state",
		"ipsec.tunnels.0.bytes_in", "ipsec.tunnels.0.packets_out",
		"bgp.peers.0.state", "bgp.peers.0.received", "bgp.return_path.since", "bgp.return_path.prefixes", "bgp.return_path.peer_ignored",
		"vrrp.state", "vrrp.priority", "vrrp.master_address", "vrrp.transitions",
		"routes.0.prefix", "routes.0.next_hops.0.gateway", "routes_total",
	} {
		if _, ok := lookup(m, path); !ok {
			t.Errorf("/status has no %s", path)
		}
	}
	if v, _ := lookup(m, "time"); v == "0001-01-01T00:00:00Z" {
		t.Errorf("time not set by the server")
	}
	// Through the client, the document comes back whole.
	d := clientStatus(t, ts.URL)
	if d.Gateway != "vpn-gw-1" || len(d.Routes) != 1 || d.RoutesTotal != 1 || d.RoutesTruncated || d.Routes[0].NextHops[0].Interface != "xfrm1" || d.BGP.ReturnPath == nil {
		t.Errorf("client got %+v", d)
	}
}

// lookup walks a decoded JSON value by dot-separated keys and indexes.
func lookup(v any, path string) (any, bool) {
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[k]; !ok {
				return nil, false
			}
		case []any:
			i := int(k[0] - '0')
			if len(k) != 1 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

func TestRoutesError(t *testing.T) {
	ts := newTestServer(t, Config{
		Status: func() Document { return Document{Phase: "running"} },
		Routes: func() ([]Route, error) { return nil, errors.New("netlink: permission denied") },
	})
	_, body, _ := get(t, ts.URL+"/status")
	if !strings.Contains(body, `"routes_error": "netlink: permission denied"`) {
		t.Errorf("routes error not reported:\n%s", body)
	}
}

func TestMetrics(t *testing.T) {
	ts := newTestServer(t, Config{Status: masterDoc})
	code, body, _ := get(t, ts.URL+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", code)
	}
	for _, want := range []string{
		`tidegate_build_info{version="v0.4.0-12-gabcdef0"} 1`,
		`tidegate_phase{phase="running"} 1`,
		`tidegate_phase{phase="configuring"} 0`,
		`tidegate_start_time_seconds 1.795633077e+09`,
		`tidegate_healthy 1`,
		`tidegate_tunnel_up{tunnel="vpn-1a",tunnel_ip_address="52.1.197.46"} 1`,
		`tidegate_tunnel_up{tunnel="vpn-1b",tunnel_ip_address="52.4.57.111"} 0`,
		`tidegate_tunnel_bytes_total{direction="in",tunnel="vpn-1a",tunnel_ip_address="52.1.197.46"} 1536`,
		`tidegate_tunnel_bytes_total{direction="out",tunnel="vpn-1a",tunnel_ip_address="52.1.197.46"} 5.24288e+06`,
		`tidegate_tunnel_packets_total{direction="out",tunnel="vpn-1a",tunnel_ip_address="52.1.197.46"} 4000`,
		`tidegate_tunnel_rekeys_total{sa="child",tunnel="vpn-1a",tunnel_ip_address="52.1.197.46"} 1`,
		`tidegate_bgp_peer_up{address="169.254.80.145",peer="vpn-1a"} 1`,
		`tidegate_bgp_peer_up{address="169.254.21.5",peer="vpn-1b"} 0`,
		`tidegate_bgp_peer_established_timestamp_seconds{address="169.254.21.5",peer="vpn-1b"} 0`,
		`tidegate_bgp_prefixes_received{address="10.0.1.3",peer="ibgp"} 1`,
		`tidegate_bgp_routes_installed 1`,
		`tidegate_bgp_prepending 0`,
		`tidegate_bgp_return_path_held 1`,
		`tidegate_bgp_ibgp_peer_gone 1`,
		`tidegate_vrrp_state{state="master",vrid="10"} 1`,
		`tidegate_vrrp_state{state="backup",vrid="10"} 0`,
		`tidegate_vrrp_state{state="initialize",vrid="10"} 0`,
		`tidegate_vrrp_transitions_total{vrid="10"} 2`,
		`tidegate_vrrp_adverts_dropped_total{reason="ttl",vrid="10"} 2`,
		`tidegate_charon_up 1`,
		`go_goroutines `,
		`process_start_time_seconds `,
	} {
		if !strings.Contains(body, want+"\n") && !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestMetricsLint(t *testing.T) {
	for name, doc := range metricFixtures {
		problems, err := lintCollector(newCollector(doc))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, p := range problems {
			t.Errorf("%s: %s: %s", name, p.Metric, p.Text)
		}
	}
}

func TestHealthz(t *testing.T) {
	for _, tc := range []struct {
		name    string
		doc     func() Document
		code    int
		role    string
		healthy bool
		reason  string
	}{
		{"master", masterDoc, 200, "master", true, ""},
		{"backup without AWS", backupDoc, 503, "backup", false, "no working path to AWS: 0 of 1 tunnels up, 0 AWS paths"},
		{"configuring", configuringDoc, 503, "", false, "configuring: 2 configuration errors"},
		{"stopping", func() Document { d := masterDoc(); d.Phase = "stopping"; return d }, 503, "master", false, "gateway stopping"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, Config{Status: tc.doc})
			code, body, _ := get(t, ts.URL+"/healthz")
			var h HealthReport
			if err := json.Unmarshal([]byte(body), &h); err != nil {
				t.Fatal(err)
			}
			if code != tc.code || h.Role != tc.role || h.Healthy != tc.healthy || h.Reason != tc.reason {
				t.Errorf("GET /healthz = %d %+v, want %d role %q healthy %v reason %q", code, h, tc.code, tc.role, tc.healthy, tc.reason)
			}
			// HealthClient is what `tidegate linode rolling-reimage` asks;
			// it takes a host:port as Gateway.StatusAddress gives it.
			role, healthy, err := HealthClient{}.Health(context.Background(), strings.TrimPrefix(ts.URL, "http://"))
			if err != nil || role != tc.role || healthy != tc.healthy {
				t.Errorf("HealthClient.Health = %q, %v, %v; want %q, %v", role, healthy, err, tc.role, tc.healthy)
			}
			// With a Dial of its own (the lab dials from its VLAN host's
			// namespace), every connection goes through it: here to the
			// test server, whatever address the gateway was named by.
			var dialled []string
			via := HealthClient{Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
				dialled = append(dialled, addr)
				var d net.Dialer
				return d.DialContext(ctx, network, strings.TrimPrefix(ts.URL, "http://"))
			}}
			role, healthy, err = via.Health(context.Background(), "10.0.1.2")
			if err != nil || role != tc.role || healthy != tc.healthy || len(dialled) != 1 || dialled[0] != "10.0.1.2:8179" {
				t.Errorf("HealthClient{Dial}.Health = %q, %v, %v, dialled %q; want %q, %v through 10.0.1.2:8179", role, healthy, err, dialled, tc.role, tc.healthy)
			}
		})
	}
}

func TestLogAndConfig(t *testing.T) {
	lines := []string{"time=2026-05-04T20:00:00.000Z level=INFO msg=one\n", "time=2026-05-04T20:00:01.000Z level=INFO msg=two\n", "time=2026-05-04T20:00:02.000Z level=INFO msg=three\n"}
	var cfg []byte
	ts := newTestServer(t, Config{
		Status: configuringDoc,
		Log:    func() []string { return lines },
		Config: func() ([]byte, error) { return cfg, nil },
	})
	c, err := NewClient(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for n, want := range map[int]int{0: 3, 2: 2, 10: 3} {
		got, err := c.Log(ctx, n)
		if err != nil || len(got) != want || got[len(got)-1] != "time=2026-05-04T20:00:02.000Z level=INFO msg=three" {
			t.Errorf("Log(%d) = %q, %v; want %d lines ending with three", n, got, err, want)
		}
	}
	if code, _, _ := get(t, ts.URL+"/log?n=-1"); code != http.StatusBadRequest {
		t.Errorf("GET /log?n=-1: %d, want 400", code)
	}
	if _, err := c.Config(ctx); !errors.Is(err, ErrNoConfig) {
		t.Errorf("Config before a configuration: %v, want ErrNoConfig", err)
	}
	cfg = []byte("version: 1\n")
	if b, err := c.Config(ctx); err != nil || string(b) != "version: 1\n" {
		t.Errorf("Config = %q, %v", b, err)
	}
}

// TestNoSecrets serves a gateway whose configuration holds pre-shared keys
// and a VRRP password, logs that configuration the way a careless service
// might, and looks for the secrets in every endpoint.
func TestNoSecrets(t *testing.T) {
	site, err := configs.Load("testdata/secrets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{"Psk1a.unique_Secret_Value", "Psk2a.unique_Secret_Value", "Vr9pQ7zK"}
	if site.Gateways[0].Tunnels[0].PSK.Reveal() != secrets[0] || site.VRRP.AuthPass.Reveal() != secrets[2] {
		t.Fatal("the test configuration does not hold the secrets it should")
	}
	// A configuration error that quotes the bad value would leak it too.
	bad := strings.Replace(mustRead(t, "testdata/secrets.yaml"), "Psk2a.unique_Secret_Value", "0Psk!bad_Secret_Value", 1)
	secrets = append(secrets, "0Psk!bad_Secret_Value")
	_, cerr := configs.Parse([]byte(bad))
	if cerr == nil {
		t.Fatal("the bad configuration validated")
	}

	log := consolelog.New(io.Discard, slog.LevelDebug)
	log.Info("configured", "site", site, "self", site.Gateways[0], "tunnel", site.Gateways[0].Tunnels[0], "vrrp", site.VRRP)

	doc := masterDoc()
	doc.ConfigErrors = strings.Split(cerr.Error(), "\n")
	ts := newTestServer(t, Config{
		Status: func() Document { return doc },
		Config: site.Masked,
		Log:    consolelog.Recent.Lines,
	})
	for _, path := range []string{"/status", "/metrics", "/healthz", "/log", "/config"} {
		code, body, _ := get(t, ts.URL+path)
		if code != http.StatusOK {
			t.Errorf("GET %s: %d", path, code)
		}
		for _, s := range secrets {
			if strings.Contains(body, s) {
				t.Errorf("GET %s shows the secret %q", path, s)
			}
		}
		if path == "/config" && (!strings.Contains(body, "psk: '*****'") && !strings.Contains(body, `psk: "*****"`)) {
			t.Errorf("GET /config does not show the masked psk:\n%s", body)
		}
		if path == "/log" && !strings.Contains(body, "configured") {
			t.Errorf("GET /log lacks the logged line:\n%s", body)
		}
	}
}

func mustRead(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestUnixSocket serves on the socket as the gateway does for the console
// shell, replacing a stale socket, and stops with the context.
func TestUnixSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run", SocketName)
	c, err := NewClient(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Status(context.Background()); !NotRunning(err) {
		t.Errorf("before the server: %v, want NotRunning", err)
	}
	// A stale socket from a crashed gateway: nobody listens on it.
	stale, err := ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()
	if _, err := c.Status(context.Background()); !NotRunning(err) {
		t.Errorf("stale socket: %v, want NotRunning", err)
	}

	ln, err := ListenUnix(path)
	if err != nil {
		t.Fatalf("ListenUnix over a stale socket: %v", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode: %v %v, want 0600", fi.Mode(), err)
	}
	s, err := NewServer(Config{Status: masterDoc, Routes: func() ([]Route, error) { return nil, nil }, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Serve(ctx, ln) }()
	d, err := c.Status(context.Background())
	if err != nil || d.Gateway != "vpn-gw-1" {
		t.Errorf("over the socket: %+v, %v", d, err)
	}
	if ln2, err := ListenUnix(path); err == nil {
		ln2.Close()
		t.Error("ListenUnix took over a socket that is being served")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}

	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ListenUnix(path); err == nil {
		t.Error("ListenUnix replaced a regular file")
	}
}

// TestListenVLAN binds to an address no interface has yet (IP_FREEBIND),
// and refuses the wildcard address.
func TestListenVLAN(t *testing.T) {
	ln, err := ListenVLAN(context.Background(), netip.MustParseAddr("192.0.2.77"))
	if err != nil {
		t.Fatalf("ListenVLAN before the address is configured: %v", err)
	}
	if got := ln.Addr().String(); got != "192.0.2.77:8179" {
		t.Errorf("listening on %s", got)
	}
	ln.Close()
	for _, a := range []netip.Addr{{}, netip.IPv4Unspecified()} {
		if ln, err := ListenVLAN(context.Background(), a); err == nil {
			ln.Close()
			t.Errorf("ListenVLAN(%v) succeeded", a)
		}
	}
}

func TestNewClientAddresses(t *testing.T) {
	for _, tc := range []struct{ in, base string }{
		{"10.0.1.2", "http://10.0.1.2:8179"},
		{"10.0.1.2:8080", "http://10.0.1.2:8080"},
		{"vpn-gw-1.example", "http://vpn-gw-1.example:8179"},
		{"vpn-gw-1.example:1234", "http://vpn-gw-1.example:1234"},
		{"2001:db8::1", "http://[2001:db8::1]:8179"},
		{"[2001:db8::1]", "http://[2001:db8::1]:8179"},
		{"[2001:db8::1]:80", "http://[2001:db8::1]:80"},
		{"http://127.0.0.1:9/", "http://127.0.0.1:9"},
		{"/run/tidegate/status.sock", "http://gateway"},
		{"unix:/tmp/x.sock", "http://gateway"},
	} {
		c, err := NewClient(tc.in)
		if err != nil || c.base != tc.base {
			t.Errorf("NewClient(%q): base %q, %v; want %q", tc.in, c.base, err, tc.base)
		}
	}
}

// TestHealthClientUnreachable: the rolling reimage's default address is the
// public one, where nothing listens; the error says where to look.
func TestHealthClientUnreachable(t *testing.T) {
	addr := testnet.ClosedAddr(t)
	_, _, err := HealthClient{}.Health(context.Background(), addr)
	if err == nil || !strings.Contains(err.Error(), "VLAN address only") || !NotRunning(err) {
		t.Errorf("Health of a closed port: %v", err)
	}
}
