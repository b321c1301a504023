package qemu

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"time"

	"github.com/tidegate/tidegate/internal/netnstest"
)

// Netns is a network namespace made by a test or the lab.
type Netns struct {
	Name string
}

// NewNetns creates the named namespace with its loopback up.
func NewNetns(name string) (*Netns, error) {
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ip netns add %s: %v: %s", name, err, out)
	}
	n := &Netns{Name: name}
	if err := n.IP("link", "set", "lo", "up"); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// Close deletes the namespace; the bridges and TAPs in it go with it.
func (n *Netns) Close() error {
	out, err := exec.Command("ip", "netns", "del", n.Name).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip netns del %s: %v: %s", n.Name, err, out)
	}
	return nil
}

// IP runs `ip ARGS` inside the namespace.
func (n *Netns) IP(args ...string) error {
	out, err := exec.Command("ip", append([]string{"-n", n.Name}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip -n %s %s: %v: %s", n.Name, strings.Join(args, " "), err, out)
	}
	return nil
}

// Command returns a command that runs inside the namespace.
func (n *Netns) Command(name string, args ...string) *exec.Cmd {
	return netnstest.Command(n.Name, name, args...)
}

// Bridge creates a bridge with the given addresses (CIDR notation), up.
func (n *Netns) Bridge(name string, addrs ...string) error {
	if err := n.IP("link", "add", name, "type", "bridge"); err != nil {
		return err
	}
	for _, a := range addrs {
		if err := n.IP("addr", "add", a, "dev", name); err != nil {
			return err
		}
	}
	return n.IP("link", "set", name, "up")
}

// Tap creates a TAP device for QEMU, enslaved to bridge, up.
func (n *Netns) Tap(name, bridge string) error {
	if err := n.IP("tuntap", "add", "dev", name, "mode", "tap"); err != nil {
		return err
	}
	if err := n.IP("link", "set", name, "master", bridge); err != nil {
		return err
	}
	return n.IP("link", "set", name, "up")
}

// Listen opens a listener inside the namespace: the socket stays in the
// namespace it was made in, whichever thread later uses it.
func (n *Netns) Listen(network, addr string) (net.Listener, error) {
	var ln net.Listener
	err := netnstest.In(n.Name, func() error {
		var err error
		ln, err = net.Listen(network, addr)
		return err
	})
	return ln, err
}

// HTTPGet fetches url from inside the namespace: the connection is dialled
// on a thread switched into it, as a host there would.
func (n *Netns) HTTPGet(ctx context.Context, url string) ([]byte, error) {
	tr := &http.Transport{DisableKeepAlives: true, DialContext: n.DialContext}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode/100 != 2 {
		err = fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return b, err
}

// DialContext connects from inside the namespace (the socket is made
// there; the connection then works from any goroutine).
func (n *Netns) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := netnstest.In(n.Name, func() error {
		var err error
		c, err = (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, addr)
		return err
	})
	return c, err
}
