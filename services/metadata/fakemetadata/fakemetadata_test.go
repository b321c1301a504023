package fakemetadata_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	gometadata "github.com/linode/go-metadata"

	"github.com/tidegate/tidegate/services/metadata/fakemetadata"
)

var tokenRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

func testConfig() fakemetadata.Config {
	return fakemetadata.Config{
		Instance: fakemetadata.Instance{
			ID:       532754976,
			Label:    "vpn-gw-1",
			Region:   "us-iad",
			Type:     "g6-standard-1",
			HostUUID: "123abc456def789ghi",
			Specs:    fakemetadata.Specs{VCPUs: 1, Memory: 2048, Disk: 51200, Transfer: 2000},
		},
		Network: fakemetadata.Network{
			Interfaces: []fakemetadata.Interface{
				{Purpose: "public"},
				{Label: "vlan-1", Purpose: "vlan", IPAMAddress: netip.MustParsePrefix("10.0.1.2/24")},
			},
			IPv4: fakemetadata.IPv4{Public: []netip.Prefix{netip.MustParsePrefix("203.0.113.10/32")}},
			IPv6: fakemetadata.IPv6{
				SLAAC:     netip.MustParsePrefix("2001:db8::1/128"),
				LinkLocal: netip.MustParsePrefix("fe80::1/128"),
			},
		},
		SSHKeys:  map[string][]string{"root": {"ssh-ed25519 AAAA test"}},
		UserData: []byte("version: 1\nsite: test\n"),
	}
}

type answer struct {
	code int
	hdr  http.Header
	body string
}

// do sends one request straight to the handler.
func do(t *testing.T, h http.Handler, method, path string, hdr map[string]string) answer {
	t.Helper()
	req := httptest.NewRequest(method, "http://169.254.169.254"+path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return answer{code: rec.Code, hdr: rec.Header(), body: rec.Body.String()}
}

// token asks srv for a token that lives expiry seconds.
func token(t *testing.T, srv *fakemetadata.Server, expiry string) string {
	t.Helper()
	a := do(t, srv, http.MethodPut, "/v1/token", map[string]string{fakemetadata.HeaderTokenExpiry: expiry})
	if a.code != http.StatusOK || !tokenRE.MatchString(a.body) {
		t.Fatalf("PUT /v1/token = %d %q, want 200 and a token", a.code, a.body)
	}
	return a.body
}

// reasons decodes a Linode API error body.
func reasons(t *testing.T, a answer) []string {
	t.Helper()
	if ct := a.hdr.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("error Content-Type = %q, want application/json", ct)
	}
	var body struct {
		Errors []struct {
			Field  string `json:"field"`
			Reason string `json:"reason"`
		} `json:"errors"`
	}
	if err := json.Unmarshal([]byte(a.body), &body); err != nil {
		t.Fatalf("error body %q: %v", a.body, err)
	}
	var out []string
	for _, e := range body.Errors {
		out = append(out, e.Field+":"+e.Reason)
	}
	return out
}

func TestToken(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		hdr      map[string]string
		wantCode int
		wantCT   string
		check    func(t *testing.T, a answer)
	}{
		{
			name:     "text by default",
			method:   http.MethodPut,
			hdr:      map[string]string{fakemetadata.HeaderTokenExpiry: "3600"},
			wantCode: http.StatusOK,
			wantCT:   "text/plain; charset=utf-8",
			check: func(t *testing.T, a answer) {
				if !tokenRE.MatchString(a.body) {
					t.Errorf("token %q is not 64 hex digits", a.body)
				}
			},
		},
		{
			name:     "JSON array when accepted",
			method:   http.MethodPut,
			hdr:      map[string]string{fakemetadata.HeaderTokenExpiry: "60", "Accept": "application/json"},
			wantCode: http.StatusOK,
			wantCT:   "application/json",
			check: func(t *testing.T, a answer) {
				var toks []string
				if err := json.Unmarshal([]byte(a.body), &toks); err != nil || len(toks) != 1 || !tokenRE.MatchString(toks[0]) {
					t.Errorf("body %q, want [\"<token>\"] (%v)", a.body, err)
				}
			},
		},
		{
			name:     "expiry header absent takes the default",
			method:   http.MethodPut,
			wantCode: http.StatusOK,
			wantCT:   "text/plain; charset=utf-8",
		},
		{name: "expiry 1 is the least", method: http.MethodPut, hdr: map[string]string{fakemetadata.HeaderTokenExpiry: "1"}, wantCode: http.StatusOK, wantCT: "text/plain; charset=utf-8"},
		{name: "expiry 86400 is the most", method: http.MethodPut, hdr: map[string]string{fakemetadata.HeaderTokenExpiry: "86400"}, wantCode: http.StatusOK, wantCT: "text/plain; charset=utf-8"},
		{name: "expiry 0", method: http.MethodPut, hdr: map[string]string{fakemetadata.HeaderTokenExpiry: "0"}, wantCode: http.StatusBadRequest, wantCT: "application/json", check: fieldIsExpiry},
		{name: "expiry 86401", method: http.MethodPut, hdr: map[string]string{fakemetadata.HeaderTokenExpiry: "86401"}, wantCode: http.StatusBadRequest, wantCT: "application/json", check: fieldIsExpiry},
		{name: "expiry not a number", method: http.MethodPut, hdr: map[string]string{fakemetadata.HeaderTokenExpiry: "1h"}, wantCode: http.StatusBadRequest, wantCT: "application/json", check: fieldIsExpiry},
		{name: "GET", method: http.MethodGet, wantCode: http.StatusMethodNotAllowed, wantCT: "application/json", check: allows(http.MethodPut)},
		{name: "POST", method: http.MethodPost, wantCode: http.StatusMethodNotAllowed, wantCT: "application/json", check: allows(http.MethodPut)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakemetadata.New(testConfig())
			a := do(t, srv, tt.method, "/v1/token", tt.hdr)
			if a.code != tt.wantCode {
				t.Fatalf("code = %d (%s), want %d", a.code, a.body, tt.wantCode)
			}
			if ct := a.hdr.Get("Content-Type"); ct != tt.wantCT {
				t.Errorf("Content-Type = %q, want %q", ct, tt.wantCT)
			}
			if tt.check != nil {
				tt.check(t, a)
			}
		})
	}
}

func fieldIsExpiry(t *testing.T, a answer) {
	t.Helper()
	r := reasons(t, a)
	if len(r) != 1 || !strings.HasPrefix(r[0], fakemetadata.HeaderTokenExpiry+":") {
		t.Errorf("errors = %q, want one about %s", r, fakemetadata.HeaderTokenExpiry)
	}
}

func allows(methods string) func(t *testing.T, a answer) {
	return func(t *testing.T, a answer) {
		t.Helper()
		if got := a.hdr.Get("Allow"); got != methods {
			t.Errorf("Allow = %q, want %q", got, methods)
		}
		if r := reasons(t, a); len(r) != 1 {
			t.Errorf("errors = %q, want one", r)
		}
	}
}

func TestAuthorization(t *testing.T) {
	tests := []struct {
		name string
		// The token sent: one of ttl seconds (none when ttl is ""), aged
		// by advance, or revoked; token itself when set.
		ttl      string
		advance  time.Duration
		revoke   bool
		token    string
		wantCode int
	}{
		{name: "live token", ttl: "60", wantCode: http.StatusOK},
		{name: "no token", wantCode: http.StatusUnauthorized},
		{name: "unknown token", token: strings.Repeat("ab", 32), wantCode: http.StatusUnauthorized},
		{name: "token just before expiry", ttl: "60", advance: 59 * time.Second, wantCode: http.StatusOK},
		{name: "expired token", ttl: "60", advance: 60 * time.Second, wantCode: http.StatusUnauthorized},
		{name: "one-second token after two seconds", ttl: "1", advance: 2 * time.Second, wantCode: http.StatusUnauthorized},
		{name: "revoked token", ttl: "60", revoke: true, wantCode: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		for _, path := range []string{"/v1/instance", "/v1/network", "/v1/ssh-keys", "/v1/user-data"} {
			t.Run(tt.name+path, func(t *testing.T) {
				srv := fakemetadata.New(testConfig())
				tok := tt.token
				if tt.ttl != "" {
					tok = token(t, srv, tt.ttl)
				}
				srv.Advance(tt.advance)
				if tt.revoke {
					srv.RevokeTokens()
				}
				hdr := map[string]string{}
				if tok != "" {
					hdr[fakemetadata.HeaderToken] = tok
				}
				a := do(t, srv, http.MethodGet, path, hdr)
				if a.code != tt.wantCode {
					t.Fatalf("code = %d (%s), want %d", a.code, a.body, tt.wantCode)
				}
				if a.code == http.StatusUnauthorized {
					if r := reasons(t, a); !slices.Equal(r, []string{":Unauthorized"}) {
						t.Errorf("errors = %q, want the reason Unauthorized", r)
					}
				}
			})
		}
	}
}

func TestMethodsAndPaths(t *testing.T) {
	srv := fakemetadata.New(testConfig())
	tok := token(t, srv, "60")
	for _, path := range []string{"/v1/instance", "/v1/network", "/v1/ssh-keys", "/v1/user-data"} {
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
			t.Run(m+path, func(t *testing.T) {
				a := do(t, srv, m, path, map[string]string{fakemetadata.HeaderToken: tok})
				if a.code != http.StatusMethodNotAllowed {
					t.Fatalf("code = %d, want 405", a.code)
				}
				allows("GET, HEAD")(t, a)
			})
		}
	}
	for _, path := range []string{"/", "/v1", "/v1/", "/v2/instance", "/v1/instances", "/latest/user-data"} {
		t.Run("GET"+path, func(t *testing.T) {
			a := do(t, srv, http.MethodGet, path, map[string]string{fakemetadata.HeaderToken: tok})
			if a.code != http.StatusNotFound {
				t.Fatalf("code = %d, want 404", a.code)
			}
		})
	}
}

// TestDocumentShapes checks the JSON keys against the documented shapes.
func TestDocumentShapes(t *testing.T) {
	tests := []struct {
		path string
		want map[string]any // the key set, nested; nil leaves are not compared
	}{
		{
			path: "/v1/instance",
			want: map[string]any{
				"id": nil, "label": nil, "region": nil, "type": nil, "host_uuid": nil, "tags": nil,
				"specs":   map[string]any{"vcpus": nil, "memory": nil, "disk": nil, "transfer": nil, "gpus": nil},
				"backups": map[string]any{"enabled": nil, "status": nil},
			},
		},
		{
			path: "/v1/network",
			want: map[string]any{
				"interfaces": nil,
				"ipv4":       map[string]any{"public": nil, "private": nil, "shared": nil},
				"ipv6":       map[string]any{"slaac": nil, "link_local": nil, "ranges": nil, "shared_ranges": nil},
			},
		},
		{path: "/v1/ssh-keys", want: map[string]any{"users": map[string]any{"root": nil}}},
	}
	srv := fakemetadata.New(testConfig())
	tok := token(t, srv, "60")
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			a := do(t, srv, http.MethodGet, tt.path, map[string]string{fakemetadata.HeaderToken: tok, "Accept": "application/json"})
			if a.code != http.StatusOK || a.hdr.Get("Content-Type") != "application/json" {
				t.Fatalf("answer %d %q, want 200 application/json", a.code, a.hdr.Get("Content-Type"))
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(a.body), &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, keys(got, tt.want)); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
		})
	}

	// The interfaces list entries carry label, purpose and ipam_address.
	a := do(t, srv, http.MethodGet, "/v1/network", map[string]string{fakemetadata.HeaderToken: tok, "Accept": "application/json"})
	var n struct {
		Interfaces []map[string]any `json:"interfaces"`
	}
	if err := json.Unmarshal([]byte(a.body), &n); err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{
		{"label": "", "purpose": "public", "ipam_address": ""},
		{"label": "vlan-1", "purpose": "vlan", "ipam_address": "10.0.1.2/24"},
	}
	if diff := cmp.Diff(want, n.Interfaces); diff != "" {
		t.Errorf("interfaces (-want +got):\n%s", diff)
	}
}

// keys keeps of got the shape of want: nested maps where want has maps, nil
// elsewhere; keys want lacks are kept too, so that extras show in a diff.
func keys(got map[string]any, want map[string]any) map[string]any {
	out := make(map[string]any, len(got))
	for k, v := range got {
		sub, isMap := v.(map[string]any)
		wsub, wantMap := want[k].(map[string]any)
		if isMap && wantMap {
			out[k] = keys(sub, wsub)
			continue
		}
		if isMap {
			out[k] = keys(sub, nil)
			continue
		}
		out[k] = nil
	}
	return out
}

func TestPlainText(t *testing.T) {
	srv := fakemetadata.New(testConfig())
	tok := token(t, srv, "60")
	tests := []struct {
		path string
		want string
	}{
		{
			path: "/v1/instance",
			want: "backups.enabled: false\nhost_uuid: 123abc456def789ghi\nid: 532754976\nlabel: vpn-gw-1\nregion: us-iad\n" +
				"specs.disk: 51200\nspecs.gpus: 0\nspecs.memory: 2048\nspecs.transfer: 2000\nspecs.vcpus: 1\ntype: g6-standard-1\n",
		},
		{
			path: "/v1/network",
			want: "interfaces.0.purpose: public\ninterfaces.1.ipam_address: 10.0.1.2/24\ninterfaces.1.label: vlan-1\ninterfaces.1.purpose: vlan\n" +
				"ipv4.public: 203.0.113.10/32\nipv6.link_local: fe80::1/128\nipv6.slaac: 2001:db8::1/128\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			a := do(t, srv, http.MethodGet, tt.path, map[string]string{fakemetadata.HeaderToken: tok})
			if a.code != http.StatusOK || a.hdr.Get("Content-Type") != "text/plain; charset=utf-8" {
				t.Fatalf("answer %d %q, want 200 text/plain", a.code, a.hdr.Get("Content-Type"))
			}
			if diff := cmp.Diff(tt.want, a.body); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUserData(t *testing.T) {
	tests := []struct {
		name     string
		userData []byte
		accept   string
		wantBody string
	}{
		{name: "yaml", userData: []byte("version: 1\n"), wantBody: base64.StdEncoding.EncodeToString([]byte("version: 1\n"))},
		{name: "binary", userData: []byte{0x1f, 0x8b, 0x08, 0, 0xff}, wantBody: base64.StdEncoding.EncodeToString([]byte{0x1f, 0x8b, 0x08, 0, 0xff})},
		{name: "none", userData: nil, wantBody: ""},
		{name: "text even when JSON is asked for", userData: []byte("x"), accept: "application/json", wantBody: "eA=="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakemetadata.New(fakemetadata.Config{UserData: tt.userData})
			hdr := map[string]string{fakemetadata.HeaderToken: token(t, srv, "60")}
			if tt.accept != "" {
				hdr["Accept"] = tt.accept
			}
			a := do(t, srv, http.MethodGet, "/v1/user-data", hdr)
			if a.code != http.StatusOK || a.hdr.Get("Content-Type") != "text/plain; charset=utf-8" {
				t.Fatalf("answer %d %q, want 200 text/plain", a.code, a.hdr.Get("Content-Type"))
			}
			if a.body != tt.wantBody {
				t.Errorf("body = %q, want %q", a.body, tt.wantBody)
			}
		})
	}
}

func TestChangesWhileRunning(t *testing.T) {
	srv := fakemetadata.New(testConfig())
	tok := token(t, srv, "60")
	get := func(path string, v any) {
		t.Helper()
		a := do(t, srv, http.MethodGet, path, map[string]string{fakemetadata.HeaderToken: tok, "Accept": "application/json"})
		if a.code != http.StatusOK {
			t.Fatalf("GET %s = %d", path, a.code)
		}
		if s, ok := v.(*string); ok {
			*s = a.body
			return
		}
		if err := json.Unmarshal([]byte(a.body), v); err != nil {
			t.Fatal(err)
		}
	}
	vlans := func() []string {
		t.Helper()
		var n fakemetadata.Network
		get("/v1/network", &n)
		var out []string
		for _, ifc := range n.Interfaces {
			if ifc.Purpose == "vlan" {
				out = append(out, ifc.Label+"="+ifc.IPAMAddress.String())
			}
		}
		return out
	}

	srv.HideVLANs(2)
	for i := range 2 {
		if got := vlans(); len(got) != 0 {
			t.Fatalf("answer %d lists VLANs %q while hidden", i, got)
		}
	}
	// Unauthorised requests do not use up the hidden answers.
	srv.HideVLANs(1)
	do(t, srv, http.MethodGet, "/v1/network", nil)
	if got := vlans(); len(got) != 0 {
		t.Fatalf("VLANs %q listed: an unauthorised request used up a hidden answer", got)
	}
	if got, want := vlans(), []string{"vlan-1=10.0.1.2/24"}; !slices.Equal(got, want) {
		t.Fatalf("VLANs = %q, want %q", got, want)
	}

	srv.SetVLAN("vlan-1", netip.MustParsePrefix("10.0.1.3/24"))
	srv.SetVLAN("vlan-2", netip.MustParsePrefix("10.0.2.3/24"))
	if got, want := vlans(), []string{"vlan-1=10.0.1.3/24", "vlan-2=10.0.2.3/24"}; !slices.Equal(got, want) {
		t.Fatalf("after SetVLAN, VLANs = %q, want %q", got, want)
	}
	srv.RemoveVLAN("vlan-1")
	if got, want := vlans(), []string{"vlan-2=10.0.2.3/24"}; !slices.Equal(got, want) {
		t.Fatalf("after RemoveVLAN, VLANs = %q, want %q", got, want)
	}

	srv.SetLabel("vpn-gw-2")
	var in fakemetadata.Instance
	get("/v1/instance", &in)
	if in.Label != "vpn-gw-2" {
		t.Errorf("label = %q after SetLabel", in.Label)
	}

	srv.SetUserData([]byte("new"))
	var ud string
	get("/v1/user-data", &ud)
	if ud != base64.StdEncoding.EncodeToString([]byte("new")) {
		t.Errorf("user data = %q after SetUserData", ud)
	}
}

func TestFailNextAndRequests(t *testing.T) {
	srv := fakemetadata.New(testConfig())
	srv.FailNext("/v1/token", 2, http.StatusServiceUnavailable)
	for range 2 {
		a := do(t, srv, http.MethodPut, "/v1/token", nil)
		if a.code != http.StatusServiceUnavailable || !strings.HasPrefix(a.hdr.Get("Content-Type"), "text/plain") {
			t.Fatalf("answer %d %q, want 503 text/plain", a.code, a.hdr.Get("Content-Type"))
		}
	}
	tok := token(t, srv, "60")
	do(t, srv, http.MethodGet, "/v1/user-data", map[string]string{fakemetadata.HeaderToken: tok})
	do(t, srv, http.MethodGet, "/v1/user-data", nil)

	for path, want := range map[string]int{"/v1/token": 3, "/v1/user-data": 2, "/v1/instance": 0} {
		if got := srv.Requests(path); got != want {
			t.Errorf("Requests(%q) = %d, want %d", path, got, want)
		}
	}
	srv.ResetRequests()
	if got := srv.Requests("/v1/token"); got != 0 {
		t.Errorf("Requests after ResetRequests = %d", got)
	}
}

// TestGoMetadata reads the fake with Linode's own client over a real socket:
// the shapes must be the ones it decodes.
func TestGoMetadata(t *testing.T) {
	cfg := testConfig()
	srv := fakemetadata.New(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url, stop := srv.Start(ln)
	t.Cleanup(stop)

	ctx := context.Background()
	// go-metadata v0.3.1's ClientWithBaseURL panics (it sets the URL before
	// making its resty client), so the URL is set after construction.
	c, err := gometadata.NewClient(ctx, gometadata.ClientWithoutManagedToken())
	if err != nil {
		t.Fatal(err)
	}
	c.SetBaseURL(url)
	if _, err := c.RefreshToken(ctx, gometadata.TokenWithExpiry(60)); err != nil {
		t.Fatal(err)
	}
	in, err := c.GetInstance(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if in.ID != cfg.Instance.ID || in.Label != cfg.Instance.Label || in.Region != cfg.Instance.Region ||
		in.Type != cfg.Instance.Type || in.HostUUID != cfg.Instance.HostUUID || in.Specs.Memory != cfg.Instance.Specs.Memory {
		t.Errorf("instance = %+v", in)
	}
	n, err := c.GetNetwork(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantIfc := []gometadata.InterfaceData{
		{Purpose: "public"},
		{Label: "vlan-1", Purpose: "vlan", IPAMAddress: netip.MustParsePrefix("10.0.1.2/24")},
	}
	if diff := cmp.Diff(wantIfc, n.Interfaces, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("interfaces (-want +got):\n%s", diff)
	}
	if !slices.Equal(n.IPv4.Public, cfg.Network.IPv4.Public) || n.IPv6.SLAAC != cfg.Network.IPv6.SLAAC {
		t.Errorf("network = %+v", n)
	}
	ud, err := c.GetUserData(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal([]byte(ud), cfg.UserData) {
		t.Errorf("user data = %q, want %q", ud, cfg.UserData)
	}
}
