package status

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tidegate/tidegate/internal/testrun"
)

// serveManagement runs s.ServeManagement on a listener on 127.0.0.1 until
// the test ends and returns its address.
func serveManagement(t *testing.T, s *Server, allow ...netip.Prefix) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	testrun.Until(t, "ServeManagement", func(ctx context.Context) error { return s.ServeManagement(ctx, ln, allow) })
	return ln.Addr().String()
}

// clientFrom is an HTTP client whose connections come from the loopback
// address src (the whole of 127.0.0.0/8 is on lo).
func clientFrom(src string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}, Timeout: 10 * time.Second}
}

// TestManagementListener serves the management listener to 127.0.0.1 only
// and attacks it from 127.0.0.2 and with the endpoints it must not serve.
func TestManagementListener(t *testing.T) {
	s := newServer(t, Config{
		Status: masterDoc,
		Log:    func() []string { return []string{"a log line\n"} },
		Config: func() ([]byte, error) { return []byte("version: 1\n"), nil },
	})
	addr := serveManagement(t, s, netip.MustParsePrefix("127.0.0.1/32"))
	base := "http://" + addr
	allowed := clientFrom("127.0.0.1")

	// From outside the list: closed before a byte is read or written.
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: gw\r\n\r\n")
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(c)
	c.Close()
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("a connection from 127.0.0.2 was kept open")
	}
	if len(got) > 0 {
		t.Errorf("127.0.0.2 was answered: %q", got)
	}
	if _, err := clientFrom("127.0.0.2").Get(base + "/metrics"); err == nil {
		t.Errorf("GET /metrics from 127.0.0.2 succeeded")
	}

	// From inside: health and metrics only.
	if code, body, _ := getWith(t, allowed, base+"/healthz"); code != http.StatusOK || !strings.Contains(body, `"role": "master"`) {
		t.Errorf("GET /healthz from 127.0.0.1: %d %s", code, body)
	}
	refused := []string{"/status", "/log", "/config", "/", "/metrics/../status", "/healthz/", "/status?x=/healthz"}
	for _, path := range refused {
		code, body, _ := getWith(t, allowed, base+path)
		if code != http.StatusNotFound {
			t.Errorf("GET %s on the management listener: %d, want 404", path, code)
		}
		for _, leak := range []string{"a log line", "version: 1", "vpn-gw-1", "10.0.0.0/24"} {
			if strings.Contains(body, leak) {
				t.Errorf("GET %s on the management listener shows %q", path, leak)
			}
		}
	}
	code, body, _ := getWith(t, allowed, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics from 127.0.0.1: %d", code)
	}
	for _, want := range []string{
		`tidegate_status_rejected_total{reason="source"} 2`,
		`tidegate_status_rejected_total{reason="path"} 7`,
		`tidegate_healthy 1`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestManagementAllowList: the list is checked against the source address,
// prefixes and all, and an empty or broken list serves nobody.
func TestManagementAllowList(t *testing.T) {
	s := newServer(t, Config{Status: masterDoc})
	addr := serveManagement(t, s, netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("127.0.0.0/30"))
	for src, ok := range map[string]bool{"127.0.0.1": true, "127.0.0.3": true, "127.0.0.4": false, "127.1.0.1": false} {
		_, err := clientFrom(src).Get("http://" + addr + "/healthz")
		if (err == nil) != ok {
			t.Errorf("GET /healthz from %s: %v, want answered %v", src, err, ok)
		}
	}

	for _, allow := range [][]netip.Prefix{nil, {}, {netip.Prefix{}}} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.ServeManagement(context.Background(), ln, allow); err == nil {
			t.Errorf("ServeManagement with allow %v: no error", allow)
		}
		if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
			c.Close()
			t.Errorf("ServeManagement with allow %v left the listener open", allow)
		}
	}
}

// TestRejectedMetricLint: the management listener's counter follows the
// naming conventions like the rest.
func TestRejectedMetricLint(t *testing.T) {
	problems, err := lintCollector(newRejected())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}
