package metadata_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tidegate/tidegate/internal/testlog"
	"github.com/tidegate/tidegate/internal/testnet"
	"github.com/tidegate/tidegate/services/metadata"
	"github.com/tidegate/tidegate/services/metadata/fakemetadata"
)

const secret = "Sup3rSecretPSK.4u" // stands for a pre-shared key in the user data

var siteYAML = []byte("version: 1\nsite: linode-to-aws\ngateways:\n  - name: vpn-gw-1\n    tunnels:\n      - name: vpn-1a\n        psk: \"" + secret + "\"\n")

func fakeConfig() fakemetadata.Config {
	return fakemetadata.Config{
		Instance: fakemetadata.Instance{
			ID: 12345, Label: "vpn-gw-1", Region: "us-ord", Type: "g6-nanode-1",
			HostUUID: "b5a6c1f0", Tags: []string{"tidegate"},
		},
		Network: fakemetadata.Network{
			Interfaces: []fakemetadata.Interface{
				{Purpose: "public"},
				{Label: "vlan-1", Purpose: "vlan", IPAMAddress: netip.MustParsePrefix("10.0.1.2/24")},
			},
			IPv4: fakemetadata.IPv4{
				Public:  []netip.Prefix{netip.MustParsePrefix("203.0.113.10/32")},
				Private: []netip.Prefix{netip.MustParsePrefix("192.168.130.5/17")},
			},
			IPv6: fakemetadata.IPv6{SLAAC: netip.MustParsePrefix("2001:db8::10/128")},
		},
		UserData: siteYAML,
	}
}

// serve runs h on a loopback port for the test and returns its base URL.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// startFake serves a fake with cfg and returns it and its base URL.
func startFake(t *testing.T, cfg fakemetadata.Config) (*fakemetadata.Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := fakemetadata.New(cfg)
	url, stop := srv.Start(ln)
	t.Cleanup(stop)
	return srv, url
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func debugLogger(w *testlog.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

var cmpPrefix = cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })

func TestFetch(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, cfg *fakemetadata.Config)
		want   func(info *metadata.Info)
	}{
		{name: "site file"},
		{
			name:   "gzipped user data",
			change: func(t *testing.T, cfg *fakemetadata.Config) { cfg.UserData = gzipped(t, siteYAML) },
		},
		{
			name:   "no user data",
			change: func(_ *testing.T, cfg *fakemetadata.Config) { cfg.UserData = nil },
			want:   func(info *metadata.Info) { info.UserData = nil },
		},
		{
			name: "no VLAN interface",
			change: func(_ *testing.T, cfg *fakemetadata.Config) {
				cfg.Network.Interfaces = cfg.Network.Interfaces[:1]
			},
			want: func(info *metadata.Info) { info.VLANs = nil },
		},
		{
			name: "VLAN without IPAM address",
			change: func(_ *testing.T, cfg *fakemetadata.Config) {
				cfg.Network.Interfaces[1].IPAMAddress = netip.Prefix{}
			},
			want: func(info *metadata.Info) { info.VLANs[0].IPAMAddress = netip.Prefix{} },
		},
		{
			name: "two VLANs",
			change: func(_ *testing.T, cfg *fakemetadata.Config) {
				cfg.Network.Interfaces = append(cfg.Network.Interfaces,
					fakemetadata.Interface{Label: "vlan-2", Purpose: "vlan", IPAMAddress: netip.MustParsePrefix("10.0.2.2/24")})
			},
			want: func(info *metadata.Info) {
				info.VLANs = append(info.VLANs, metadata.VLAN{Label: "vlan-2", Purpose: "vlan", IPAMAddress: netip.MustParsePrefix("10.0.2.2/24")})
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := fakeConfig()
			if tt.change != nil {
				tt.change(t, &cfg)
			}
			srv, url := startFake(t, cfg)
			c := metadata.New(url)

			got, err := c.Fetch(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			want := &metadata.Info{
				ID: 12345, Label: "vpn-gw-1", Region: "us-ord", Type: "g6-nanode-1",
				HostUUID: "b5a6c1f0", Tags: []string{"tidegate"},
				VLANs:       []metadata.VLAN{{Label: "vlan-1", Purpose: "vlan", IPAMAddress: netip.MustParsePrefix("10.0.1.2/24")}},
				PublicIPv4:  []netip.Prefix{netip.MustParsePrefix("203.0.113.10/32")},
				PrivateIPv4: []netip.Prefix{netip.MustParsePrefix("192.168.130.5/17")},
				SLAAC:       netip.MustParsePrefix("2001:db8::10/128"),
				UserData:    siteYAML,
			}
			if tt.want != nil {
				tt.want(want)
			}
			if diff := cmp.Diff(want, got, cmpPrefix); diff != "" {
				t.Errorf("Info (-want +got):\n%s", diff)
			}
			for _, path := range []string{"/v1/token", "/v1/instance", "/v1/network", "/v1/user-data"} {
				if n := srv.Requests(path); n != 1 {
					t.Errorf("%d requests for %s, want 1", n, path)
				}
			}
		})
	}
}

func TestFetchTokens(t *testing.T) {
	tests := []struct {
		name       string
		expiry     time.Duration
		between    func(srv *fakemetadata.Server) // between the first and second Fetch
		wantErr    int                            // HTTP status of the second Fetch's error; 0 for none
		wantTokens int                            // PUT /v1/token, both Fetches
		wantInst   int                            // GET /v1/instance, both Fetches
	}{
		{name: "token kept", wantTokens: 1, wantInst: 2},
		{
			name:       "revoked token: one refresh",
			between:    func(srv *fakemetadata.Server) { srv.RevokeTokens() },
			wantTokens: 2, wantInst: 3,
		},
		{
			name:       "token expired on the service's clock",
			expiry:     time.Minute,
			between:    func(srv *fakemetadata.Server) { srv.Advance(2 * time.Minute) },
			wantTokens: 2, wantInst: 3,
		},
		{
			name:       "401 twice: one refresh, then the error",
			between:    func(srv *fakemetadata.Server) { srv.FailNext("/v1/instance", 2, http.StatusUnauthorized) },
			wantErr:    http.StatusUnauthorized,
			wantTokens: 2, wantInst: 3,
		},
		{
			name: "401 on user data",
			between: func(srv *fakemetadata.Server) {
				srv.FailNext("/v1/user-data", 1, http.StatusUnauthorized)
			},
			wantTokens: 2, wantInst: 2,
		},
		{
			// Renewed by the client's clock, before the service refuses.
			name:       "short token renewed ahead",
			expiry:     time.Second,
			between:    func(*fakemetadata.Server) { time.Sleep(time.Second) },
			wantTokens: 2, wantInst: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, url := startFake(t, fakeConfig())
			var opts []metadata.Option
			if tt.expiry != 0 {
				opts = append(opts, metadata.WithTokenExpiry(tt.expiry))
			}
			c := metadata.New(url, opts...)
			ctx := context.Background()
			if _, err := c.Fetch(ctx); err != nil {
				t.Fatal(err)
			}
			if tt.between != nil {
				tt.between(srv)
			}
			info, err := c.Fetch(ctx)
			if tt.wantErr == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(info.UserData, siteYAML) {
					t.Errorf("user data = %q", info.UserData)
				}
			} else {
				var se *metadata.StatusError
				if !errors.As(err, &se) || se.Code != tt.wantErr {
					t.Fatalf("err = %v, want a %d StatusError", err, tt.wantErr)
				}
			}
			if n := srv.Requests("/v1/token"); n != tt.wantTokens {
				t.Errorf("%d token requests, want %d", n, tt.wantTokens)
			}
			if n := srv.Requests("/v1/instance"); n != tt.wantInst {
				t.Errorf("%d instance requests, want %d", n, tt.wantInst)
			}
		})
	}
}

// failNext makes a fake whose first answer on path is code.
func failNext(path string, code int) func(*testing.T) string {
	return func(t *testing.T) string {
		srv, url := startFake(t, fakeConfig())
		srv.FailNext(path, 1, code)
		return url
	}
}

// TestFetchErrors checks that every failure is an error, never an empty or
// partial Info, including the answers go-metadata alone takes for success.
func TestFetchErrors(t *testing.T) {
	tests := []struct {
		name string
		// url makes the service for the test; fake may be changed.
		url   func(t *testing.T) string
		check func(t *testing.T, err error)
	}{
		{
			name:  "token 503",
			url:   failNext("/v1/token", http.StatusServiceUnavailable),
			check: wantStatus(http.MethodPut, "/v1/token", http.StatusServiceUnavailable),
		},
		{
			name:  "instance 503 with a text body",
			url:   failNext("/v1/instance", http.StatusServiceUnavailable),
			check: wantStatus(http.MethodGet, "/v1/instance", http.StatusServiceUnavailable),
		},
		{
			name:  "user data 500",
			url:   failNext("/v1/user-data", http.StatusInternalServerError),
			check: wantStatus(http.MethodGet, "/v1/user-data", http.StatusInternalServerError),
		},
		{
			name: "connection refused",
			url: func(t *testing.T) string {
				return "http://" + testnet.ClosedAddr(t)
			},
			check: func(t *testing.T, err error) {
				if !errors.Is(err, syscall.ECONNREFUSED) {
					t.Errorf("err = %v, want ECONNREFUSED", err)
				}
			},
		},
		{
			name: "instance answered as text",
			url: func(t *testing.T) string {
				srv := fakemetadata.New(fakeConfig())
				return serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/v1/instance" {
						r.Header.Del("Accept") // the fake then answers text/plain
					}
					srv.ServeHTTP(w, r)
				}))
			},
			check: wantErrText("GET /v1/instance: answer is not JSON"),
		},
		{
			name: "user data not base64",
			url: func(t *testing.T) string {
				srv := fakemetadata.New(fakeConfig())
				return serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/v1/user-data" {
						fmt.Fprint(w, "not base64!")
						return
					}
					srv.ServeHTTP(w, r)
				}))
			},
			check: wantErrText("GET /v1/user-data"),
		},
		{
			name: "user data too long",
			url: func(t *testing.T) string {
				cfg := fakeConfig()
				cfg.UserData = bytes.Repeat([]byte("x"), 1<<20)
				_, url := startFake(t, cfg)
				return url
			},
			check: wantErrText("longer than"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := metadata.New(tt.url(t))
			info, err := c.Fetch(context.Background())
			if err == nil {
				t.Fatalf("Fetch = %v, want an error", info)
			}
			if info != nil {
				t.Errorf("Fetch returned an Info with its error: %v", info)
			}
			tt.check(t, err)
		})
	}
}

func wantStatus(method, path string, code int) func(t *testing.T, err error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var se *metadata.StatusError
		if !errors.As(err, &se) || se.Method != method || se.Path != path || se.Code != code {
			t.Errorf("err = %v, want %d from %s %s", err, code, method, path)
		}
	}
}

func wantErrText(s string) func(t *testing.T, err error) {
	return func(t *testing.T, err error) {
		t.Helper()
		if !strings.Contains(err.Error(), s) {
			t.Errorf("err = %v, want it to say %q", err, s)
		}
	}
}

func TestWaitLateVLAN(t *testing.T) {
	srv, url := startFake(t, fakeConfig())
	srv.HideVLANs(3)
	var logs testlog.Buffer
	c := metadata.New(url, metadata.WithBackoff(5*time.Millisecond, 20*time.Millisecond), metadata.WithLogger(debugLogger(&logs)))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := c.Wait(ctx, metadata.All(metadata.NeedVLAN("vlan-1"), metadata.NeedUserData))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := info.VLAN("vlan-1"); !ok || v.IPAMAddress != netip.MustParsePrefix("10.0.1.2/24") {
		t.Errorf("VLAN = %v, %v", v, ok)
	}
	if n := srv.Requests("/v1/network"); n != 4 {
		t.Errorf("%d network requests, want 4 (3 without the VLAN)", n)
	}
	if n := srv.Requests("/v1/token"); n != 1 {
		t.Errorf("%d token requests, want 1", n)
	}
	if !strings.Contains(logs.String(), metadata.ErrNoVLAN.Error()) {
		t.Errorf("logs do not say why Wait waited:\n%s", logs.String())
	}
}

func TestWaitUnreachableThenReachable(t *testing.T) {
	addr := testnet.ClosedAddr(t)
	var logs testlog.Buffer
	c := metadata.New("http://"+addr,
		metadata.WithBackoff(10*time.Millisecond, 40*time.Millisecond),
		metadata.WithLogger(debugLogger(&logs)),
		metadata.WithLogInterval(time.Hour))

	type result struct {
		info *metadata.Info
		err  error
	}
	done := make(chan result, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		info, err := c.Wait(ctx, metadata.NeedVLAN(""))
		done <- result{info, err}
	}()

	time.Sleep(300 * time.Millisecond) // several refused tries
	select {
	case r := <-done:
		t.Fatalf("Wait returned before the service was up: %v, %v", r.info, r.err)
	default:
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listening again on %s: %v", addr, err)
	}
	srv := fakemetadata.New(fakeConfig())
	_, stop := srv.Start(ln)
	defer stop()

	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.info.Label != "vpn-gw-1" || !bytes.Equal(r.info.UserData, siteYAML) {
		t.Errorf("Info = %v", r.info)
	}
	// Many refused tries, one log line for them: the interval is an hour.
	if n := strings.Count(logs.String(), "metadata not ready"); n != 1 {
		t.Errorf("%d 'not ready' log lines, want 1:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "connection refused") || !strings.Contains(logs.String(), "metadata ready") {
		t.Errorf("logs lack the reason or the recovery:\n%s", logs.String())
	}
}

func TestWaitGivesUp(t *testing.T) {
	cfg := fakeConfig()
	cfg.UserData = nil
	srv, url := startFake(t, cfg)
	c := metadata.New(url, metadata.WithBackoff(10*time.Millisecond, 20*time.Millisecond))

	// No user data is an answer, not a failure...
	info, err := c.Fetch(context.Background())
	if err != nil || len(info.UserData) != 0 {
		t.Fatalf("Fetch = %v, %v; want no user data and no error", info, err)
	}
	// ...that a condition can refuse until ctx ends.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.Wait(ctx, metadata.NeedUserData)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, metadata.ErrNoUserData) {
		t.Fatalf("err = %v, want DeadlineExceeded and ErrNoUserData", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Wait took %s to notice its context", d)
	}
	if n := srv.Requests("/v1/user-data"); n < 3 {
		t.Errorf("%d user data requests: Wait did not retry", n)
	}
}

// TestNoSecretsLogged drives the client through failures and successes with
// debug logging and checks that neither the user data nor its base64 shows,
// in logs, errors or a printed Info.
func TestNoSecretsLogged(t *testing.T) {
	srv, url := startFake(t, fakeConfig())
	srv.HideVLANs(2)
	srv.FailNext("/v1/user-data", 2, http.StatusServiceUnavailable)
	srv.FailNext("/v1/instance", 1, http.StatusUnauthorized)

	var logs testlog.Buffer
	c := metadata.New(url, metadata.WithBackoff(time.Millisecond, 5*time.Millisecond),
		metadata.WithLogger(debugLogger(&logs)), metadata.WithLogInterval(0))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := c.Wait(ctx, metadata.NeedVLAN("vlan-1"))
	if err != nil {
		t.Fatal(err)
	}
	debugLogger(&logs).Info("fetched", "info", info, "deref", *info)

	printed := strings.Join([]string{
		logs.String(),
		fmt.Sprintf("%v %+v %#v %s", info, info, info, info),
		fmt.Sprintf("%v %+v %#v %s", *info, *info, *info, *info),
	}, "\n")
	for _, s := range []string{secret, base64.StdEncoding.EncodeToString(siteYAML)[:40]} {
		if strings.Contains(printed, s) {
			t.Errorf("%q printed:\n%s", s, printed)
		}
	}
	if !strings.Contains(printed, "vpn-gw-1") {
		t.Errorf("printed Info lacks the label:\n%s", printed)
	}
}

func TestConditions(t *testing.T) {
	info := &metadata.Info{VLANs: []metadata.VLAN{{Label: "vlan-1", Purpose: "vlan"}}}
	tests := []struct {
		name string
		want func(*metadata.Info) error
		is   error
	}{
		{name: "any VLAN", want: metadata.NeedVLAN("")},
		{name: "that VLAN", want: metadata.NeedVLAN("vlan-1")},
		{name: "other VLAN", want: metadata.NeedVLAN("vlan-2"), is: metadata.ErrNoVLAN},
		{name: "user data", want: metadata.NeedUserData, is: metadata.ErrNoUserData},
		{name: "all", want: metadata.All(metadata.NeedVLAN("vlan-2"), metadata.NeedUserData), is: metadata.ErrNoUserData},
		{name: "all hold", want: metadata.All(metadata.NeedVLAN(""))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.want(info)
			if tt.is == nil && err != nil || tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("err = %v, want %v", err, tt.is)
			}
		})
	}
}
