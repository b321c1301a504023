package gateway

import (
	"errors"
	"os/exec"
	"testing"
	"time"

	"github.com/tidegate/tidegate/internal/netnstest"
)

// A service that fails stops the gateway with an error (and exit status 1,
// for PID 1's supervisor to restart it), instead of leaving the others
// running without it. Here BGP cannot listen: its port is taken.
func TestServiceFailureStopsTheGateway(t *testing.T) {
	l := newLab(t)
	bin := l.buildTidegate()
	vlan, gw := l.Netns("vlan"), l.Netns("gw1")
	l.bridge(vlan, "eth1", gw)
	netnstest.ListenTCP(t, gw, "0.0.0.0:179", false)

	start := time.Now()
	p := l.startGateway(bin, gw, "testdata/site.yaml", "vpn-gw-1")
	err := p.exited(20 * time.Second)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit: %v, want status 1", err)
	}
	t.Logf("gateway exited with status 1 %v after start", time.Since(start).Round(time.Millisecond))
	p.waitLog(time.Second, `msg="service failed"`, "service=bgp")
	p.waitLog(time.Second, `msg="gateway failed"`, "bgp:")
	// The others were stopped, not abandoned.
	p.waitLog(time.Second, `msg="service stopped"`, "service=ipsec")
	p.waitLog(time.Second, `msg="service stopped"`, "service=vrrp")
}
