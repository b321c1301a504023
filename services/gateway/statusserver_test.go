package gateway

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidegate/tidegate/configs"
	"github.com/tidegate/tidegate/services/bgp"
	"github.com/tidegate/tidegate/services/ipsec"
	"github.com/tidegate/tidegate/services/status"
	"github.com/tidegate/tidegate/services/vrrp"
)

// fill sets every field reachable from v to a non-zero value: one element
// in each slice and map, every pointer allocated.
func fill(v reflect.Value) {
	switch v.Type() {
	case reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)))
		return
	case reflect.TypeFor[netip.Addr]():
		v.Set(reflect.ValueOf(netip.MustParseAddr("192.0.2.1")))
		return
	case reflect.TypeFor[netip.Prefix]():
		v.Set(reflect.ValueOf(netip.MustParsePrefix("192.0.2.0/25")))
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem())
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0))
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k)
		fill(e)
		v.SetMapIndex(k, e)
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1.5)
	}
}

// zeros lists the paths of the exported fields reachable from v that are
// zero (an empty slice or map counts, a nil pointer is not followed).
func zeros(path string, v reflect.Value, out *[]string) {
	if v.Kind() != reflect.Struct || v.Type() == reflect.TypeFor[time.Time]() {
		if v.IsZero() || ((v.Kind() == reflect.Slice || v.Kind() == reflect.Map) && v.Len() == 0) {
			*out = append(*out, path)
			return
		}
	}
	switch v.Kind() {
	case reflect.Pointer:
		zeros(path, v.Elem(), out)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if f := v.Type().Field(i); f.IsExported() {
				zeros(path+"."+f.Name, v.Field(i), out)
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			zeros(path+"[]", v.Index(i), out)
		}
	}
}

// TestStatusFillsTheDocument: the gateway builds the status API's document
// from the services' Status values; a field of the document's service
// sections that none of them fills would silently stay empty in /status,
// the shell and the metrics.
func TestStatusFillsTheDocument(t *testing.T) {
	var (
		is ipsec.Status
		bs bgp.Status
		vs vrrp.Status
	)
	for _, v := range []any{&is, &bs, &vs} {
		fill(reflect.ValueOf(v).Elem())
	}
	var missing []string
	zeros("ipsec", reflect.ValueOf(ipsecStatus(is)), &missing)
	zeros("bgp", reflect.ValueOf(bgpStatus(bs)), &missing)
	zeros("vrrp", reflect.ValueOf(vrrpStatus(vs)), &missing)
	if len(missing) > 0 {
		t.Errorf("status.Document fields the gateway leaves empty although the services report everything:\n  %s", strings.Join(missing, "\n  "))
	}
}

// TestStatusAPI runs the status API of a gateway that has not run: the
// console socket answers at once ("starting", no configuration), and the
// VLAN listener opens once a role is set.
func TestStatusAPI(t *testing.T) {
	dir := t.TempDir()
	g := New(Options{RunDir: dir, Version: "v9", Log: discard, ConfigFile: "site.yaml", Name: "vpn-gw-1"})
	stop := g.startStatus()
	defer stop()

	c, err := status.NewClient(filepath.Join(dir, status.SocketName))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d, err := c.Status(ctx)
	if err != nil {
		t.Fatalf("status over the socket: %v", err)
	}
	if d.Phase != PhaseStarting || d.Version != "v9" || d.Time.IsZero() {
		t.Errorf("document: %+v", d)
	}
	if _, err := c.Config(ctx); !errors.Is(err, status.ErrNoConfig) {
		t.Errorf("config before a role: %v", err)
	}
	if h, err := c.Health(ctx); err != nil || h.Healthy {
		t.Errorf("health before a role: %+v %v", h, err)
	}

	// A role whose VLAN address is on loopback (every 127/8 address is
	// local), so that the test can connect to it.
	site, err := configs.Load("../../configs/examples/seed-keepalived-v2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	self, _ := site.Gateway("vpn-gw-1")
	vlan := netip.MustParsePrefix("127.77.0.1/8")
	g.setRole(&Role{Site: site, Self: self, VLANAddress: vlan})

	addr := netip.AddrPortFrom(vlan.Addr(), status.Port).String()
	deadline := time.Now().Add(5 * time.Second)
	for {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			conn.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no status API on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	vc, err := status.NewClient(vlan.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	d, err = vc.Status(ctx)
	if err != nil || d.Gateway != "vpn-gw-1" || d.Peer != "vpn-gw-2" {
		t.Errorf("status on the VLAN address: %+v %v", d, err)
	}
	conf, err := vc.Config(ctx)
	if err != nil || !strings.Contains(string(conf), "vpn-gw-2") {
		t.Errorf("config: %q %v", conf, err)
	}
	for _, secret := range []string{"password", "EXAMPLE.psk"} {
		if strings.Contains(string(conf), secret) {
			t.Errorf("config shows the secret %q", secret)
		}
	}
	for _, path := range []string{"/status", "/metrics", "/healthz", "/log"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, secret := range []string{"password", "EXAMPLE.psk"} {
			if strings.Contains(string(b), secret) {
				t.Errorf("GET %s shows the secret %q", path, secret)
			}
		}
	}

	stop()
	if _, err := c.Status(ctx); !status.NotRunning(err) {
		t.Errorf("after stop: %v, want nothing listening", err)
	}
}

// listenCall is one attempt of the status server to open its TCP listener.
type listenCall struct {
	asked netip.Addr
	bound net.Addr // nil when it failed
}

// TestStatusAPIFollowsTheVLANAddress: the console socket answers from the
// start; the TCP listener appears only once the role (its VLAN address)
// arrives, late here, is bound to that address and never to the wildcard,
// moves when the address changes, and is retried when it cannot be opened.
func TestStatusAPIFollowsTheVLANAddress(t *testing.T) {
	defer func(d time.Duration) { statusRetry = d }(statusRetry)
	statusRetry = 50 * time.Millisecond

	dir := t.TempDir()
	g := New(Options{RunDir: dir, Log: discard})
	var (
		mu    sync.Mutex
		calls []listenCall
		fail  = map[netip.Addr]int{} // failures to inject, by address
	)
	g.listenVLAN = func(ctx context.Context, a netip.Addr) (net.Listener, error) {
		mu.Lock()
		defer mu.Unlock()
		if fail[a] > 0 {
			fail[a]--
			calls = append(calls, listenCall{asked: a})
			return nil, errors.New("injected failure")
		}
		ln, err := status.ListenVLAN(ctx, a)
		if err == nil {
			calls = append(calls, listenCall{asked: a, bound: ln.Addr()})
		}
		return ln, err
	}
	listens := func() []listenCall {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(calls)
	}
	stop := g.startStatus()
	defer stop()

	ctx := context.Background()
	sock, err := status.NewClient(filepath.Join(dir, status.SocketName))
	if err != nil {
		t.Fatal(err)
	}
	if d, err := sock.Status(ctx); err != nil || d.Phase != PhaseStarting {
		t.Fatalf("console socket before the role: %+v %v", d, err)
	}

	// answers reports whether a status API answers on a:8179, with the
	// gateway name it reports.
	answers := func(a netip.Addr) (string, bool) {
		c, err := status.NewClient(a.String())
		if err != nil {
			t.Fatal(err)
		}
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		d, err := c.Status(cctx)
		if err != nil {
			return "", false
		}
		return d.Gateway, true
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; listen calls %+v", what, listens())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	first, second, third := netip.MustParseAddr("127.77.1.1"), netip.MustParseAddr("127.77.1.2"), netip.MustParseAddr("127.77.1.3")
	// The role is late (the Metadata Service has not given it yet): the
	// socket serves, nothing listens on TCP.
	time.Sleep(300 * time.Millisecond)
	if c := listens(); len(c) != 0 {
		t.Fatalf("TCP listener opened before the role was known: %+v", c)
	}
	if _, ok := answers(first); ok {
		t.Fatal("status API on the VLAN address before the role was known")
	}

	role, err := roleFromFile("testdata/site.yaml", "vpn-gw-1")
	if err != nil {
		t.Fatal(err)
	}
	role.VLANAddress = netip.PrefixFrom(first, 8) // loopback, so the test can connect
	g.setRole(role)
	waitFor("the status API on "+first.String(), func() bool { name, ok := answers(first); return ok && name == "vpn-gw-1" })
	c := listens()
	if len(c) != 1 || c[0].asked != first || c[0].bound.String() != netip.AddrPortFrom(first, status.Port).String() {
		t.Fatalf("listen calls %+v, want one bound to %v:%d", c, first, status.Port)
	}

	// The address changes (a metadata update): the listener moves.
	g.setStatusAddress(second)
	waitFor("the status API to move to "+second.String(), func() bool {
		_, onNew := answers(second)
		_, onOld := answers(first)
		return onNew && !onOld
	})

	// An address that cannot be listened on at first is retried.
	mu.Lock()
	fail[third] = 2
	mu.Unlock()
	g.setStatusAddress(third)
	waitFor("the status API on "+third.String()+" after two failures", func() bool { _, ok := answers(third); return ok })
	if _, ok := answers(second); ok {
		t.Error("still listening on the previous address")
	}

	for _, call := range listens() {
		if call.bound == nil {
			continue
		}
		ap, err := netip.ParseAddrPort(call.bound.String())
		if err != nil || ap.Addr().IsUnspecified() || ap.Addr() != call.asked {
			t.Errorf("listener bound to %v for %v: want exactly the VLAN address", call.bound, call.asked)
		}
	}
	if got := len(listens()); got != 5 { // first, second, third failed twice, third
		t.Errorf("%d listen calls, want 5: %+v", got, listens())
	}

	// No address: no TCP listener; the socket still serves.
	g.setStatusAddress(netip.Addr{})
	waitFor("the TCP listener to close", func() bool { _, ok := answers(third); return !ok })
	if _, err := sock.Status(ctx); err != nil {
		t.Errorf("console socket: %v", err)
	}
	stop()
	if _, err := sock.Status(ctx); !status.NotRunning(err) {
		t.Errorf("after stop: %v, want nothing listening", err)
	}
}

// TestStatusAPIForManagement: with status.allow the public address serves
// /healthz and /metrics to those sources, and nothing else; without it,
// nothing listens there.
func TestStatusAPIForManagement(t *testing.T) {
	dir := t.TempDir()
	g := New(Options{RunDir: dir, Log: discard})
	public := netip.MustParseAddr("127.77.2.1")
	var mu sync.Mutex
	var asked []netip.Addr
	g.listenVLAN = func(ctx context.Context, a netip.Addr) (net.Listener, error) {
		mu.Lock()
		asked = append(asked, a)
		mu.Unlock()
		return status.ListenVLAN(ctx, a)
	}
	stop := g.startStatus()
	defer stop()
	role, err := roleFromFile("testdata/site.yaml", "vpn-gw-1")
	if err != nil {
		t.Fatal(err)
	}
	role.PublicAddress = public
	g.serveManagement(role) // no status.allow: nothing
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	if len(asked) != 0 {
		t.Fatalf("a listener without status.allow: %v", asked)
	}
	mu.Unlock()

	role.Site.Status.Allow = []netip.Prefix{netip.MustParsePrefix("127.77.2.9/32")}
	g.serveManagement(role)
	get := func(src, path string) (int, error) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: time.Second}
		hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
		resp, err := hc.Get("http://" + net.JoinHostPort(public.String(), strconv.Itoa(status.Port)) + path)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, err := get("127.77.2.9", "/metrics")
		if err == nil && code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics from an allowed source: %d %v", code, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, err := get("127.77.2.9", "/status"); err != nil || code != http.StatusNotFound {
		t.Errorf("/status on the management listener: %d %v, want 404", code, err)
	}
	if code, err := get("127.77.2.8", "/healthz"); err == nil {
		t.Errorf("/healthz from a source outside status.allow answered %d", code)
	}
}
