package status

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A Client reads one gateway's status API, over TCP or the unix socket.
type Client struct {
	base string // http://host:port
	hc   *http.Client
	addr string // as given, for errors
	unix bool   // addr is a unix socket
}

// NewClient returns a Client for address: a host or IP (port Port), a
// host:port, an http:// URL, or the path of the unix socket (starting with /
// or unix:).
func NewClient(address string) (*Client, error) {
	c := &Client{addr: address}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // a gateway on the VLAN is never behind the workstation's proxy
	switch {
	case address == "":
		return nil, errors.New("status: no address")
	case strings.HasPrefix(address, "/") || strings.HasPrefix(address, "unix:"):
		path := strings.TrimPrefix(address, "unix:")
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}
		c.base, c.unix = "http://gateway", true
	case strings.HasPrefix(address, "http://") || strings.HasPrefix(address, "https://"):
		c.base = strings.TrimRight(address, "/")
	default:
		host := address
		if a, err := netip.ParseAddr(strings.Trim(address, "[]")); err == nil {
			host = netip.AddrPortFrom(a, Port).String()
		} else if _, _, err := net.SplitHostPort(address); err != nil {
			host = net.JoinHostPort(address, strconv.Itoa(Port))
		}
		c.base = "http://" + host
	}
	c.hc = &http.Client{Transport: tr, Timeout: 10 * time.Second}
	return c, nil
}

// dialVia makes c's TCP connections with dial (a unix socket address keeps
// its own).
func (c *Client) dialVia(dial func(ctx context.Context, network, addr string) (net.Conn, error)) {
	if dial != nil && !c.unix {
		c.hc.Transport.(*http.Transport).DialContext = dial
	}
}

// Status fetches the status Document.
func (c *Client) Status(ctx context.Context) (*Document, error) {
	var d Document
	if err := c.getJSON(ctx, "/status", &d, http.StatusOK); err != nil {
		return nil, err
	}
	return &d, nil
}

// Health fetches the health report. A gateway that answers 503 (unhealthy)
// is not an error: the report says why.
func (c *Client) Health(ctx context.Context) (*HealthReport, error) {
	var h HealthReport
	if err := c.getJSON(ctx, "/healthz", &h, http.StatusOK, http.StatusServiceUnavailable); err != nil {
		return nil, err
	}
	return &h, nil
}

// Log fetches the last n lines of the gateway's console log (all when n <= 0).
func (c *Client) Log(ctx context.Context, n int) ([]string, error) {
	path := "/log"
	if n > 0 {
		path += "?n=" + strconv.Itoa(n)
	}
	b, err := c.get(ctx, path, http.StatusOK)
	if err != nil {
		return nil, err
	}
	s := strings.TrimRight(string(b), "\n")
	if s == "" {
		return nil, nil
	}
	return strings.Split(s, "\n"), nil
}

// ErrNoConfig is returned by Config while the gateway has no valid site
// configuration.
var ErrNoConfig = errors.New("the gateway has no valid configuration yet")

// Config fetches the effective site configuration, secrets masked.
func (c *Client) Config(ctx context.Context) ([]byte, error) {
	b, err := c.get(ctx, "/config", http.StatusOK)
	var se *statusError
	if errors.As(err, &se) && se.code == http.StatusNotFound {
		return nil, ErrNoConfig
	}
	return b, err
}

type statusError struct {
	code int
	msg  string
}

func (e *statusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.code, e.msg) }

// get fetches path and returns its body when the response code is one of ok.
func (c *Client) get(ctx context.Context, path string, ok ...int) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("status of %s: %w", c.addr, unwrapURL(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, fmt.Errorf("status of %s: %s: %w", c.addr, path, err)
	}
	if !slices.Contains(ok, resp.StatusCode) {
		return nil, fmt.Errorf("status of %s: %s: %w", c.addr, path, &statusError{resp.StatusCode, strings.TrimSpace(string(b))})
	}
	return b, nil
}

func (c *Client) getJSON(ctx context.Context, path string, v any, ok ...int) error {
	b, err := c.get(ctx, path, ok...)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("status of %s: %s: decoding: %w", c.addr, path, err)
	}
	return nil
}

// unwrapURL drops url.Error's repetition of the method and URL (the caller
// names the gateway).
func unwrapURL(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

// NotRunning reports whether err means that nothing listens at the address:
// no socket (the gateway has not started it) or the connection refused.
func NotRunning(err error) bool {
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED)
}

// HealthClient implements scripts/linode's Health: it asks a gateway's
// /healthz, at a host or host:port, for its VRRP role and health.
type HealthClient struct {
	// Dial, when set, makes the TCP connections (the lab dials from inside
	// its VLAN host's network namespace); [net.Dialer].
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Health returns the gateway's VRRP role ("master", "backup") and whether it
// could carry the site's traffic. An unhealthy gateway is not an error.
func (h HealthClient) Health(ctx context.Context, gatewayAddress string) (role string, healthy bool, err error) {
	c, err := NewClient(gatewayAddress)
	if err != nil {
		return "", false, err
	}
	c.dialVia(h.Dial)
	hz, err := c.Health(ctx)
	if err != nil {
		var se *statusError
		if !errors.As(err, &se) {
			// Most likely asked at the public address, where nothing
			// listens by design.
			err = fmt.Errorf("%w (the status API listens on the gateway's VLAN address only, port %d: from a host on the VLAN, give --status NAME=VLAN-ADDRESS)", err, Port)
		}
		return "", false, err
	}
	return hz.Role, hz.Healthy, nil
}
