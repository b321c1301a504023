package qemu

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidegate/tidegate/configs"
	"github.com/tidegate/tidegate/internal/netnstest"
	"github.com/tidegate/tidegate/qemu/awspeer"
)

// Addresses of the AWS peer on the site's "pub" segment.
var (
	peerOutside = netip.MustParseAddr("192.0.2.10")
	peerMAC     = "52:54:00:00:0a:00"
)

// startPeer boots the AWS peer guest with eth0 on bridge "pub" of ns.
func startPeer(t *testing.T, ns *Netns, cfg awspeer.Config) *AWSPeer {
	t.Helper()
	if err := ns.Tap("tapaws", "pub"); err != nil {
		t.Fatal(err)
	}
	peer, err := StartAWSPeer(AWSPeerOptions{
		Netns: ns, NIC: NIC{Tap: "tapaws", MAC: peerMAC}, Config: cfg,
		LogFile: filepath.Join(t.TempDir(), "aws-console.log"),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			if out, _, err := peer.Shell(ctx, "tail -n 40 /var/log/charon.log; tail -n 20 /var/log/frr/bgpd.log"); err == nil {
				t.Logf("AWS peer logs:\n%s", out)
			}
			cancel()
		}
		peer.Kill()
		if t.Failed() {
			t.Logf("console of the AWS peer:\n%s", peer.Console())
		}
	})
	return peer
}

// TestAWSPeerBoots boots the AWS peer of the seed's four tunnels alone and
// checks from its console
// and from the namespace that it is what tests and the lab need: charon with
// the connections loaded (responder: no SA yet), the XFRM interfaces with
// AWS's inside addresses and MTU, bgpd with the neighbours configured and the
// VPC prefix, a VPC host that answers, and its outside addresses on the
// segment.
func TestAWSPeerBoots(t *testing.T) {
	netnstest.NeedRoot(t)
	ns, err := NewNetns(fmt.Sprintf("tgqemu-%d-awspeer", os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	if err := ns.Bridge("pub", PublicRouter+"/24"); err != nil {
		t.Fatal(err)
	}
	// The lab's peer: the seed's four tunnels, AWS's outside addresses
	// moved onto this segment.
	site, err := configs.Load("../configs/examples/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := awspeer.FromSite(site)
	if err != nil {
		t.Fatal(err)
	}
	for i := range cfg.Tunnels {
		cfg.Tunnels[i].OutsideAWS = netip.AddrFrom4([4]byte{192, 0, 2, byte(10 + i)})
	}
	peer := startPeer(t, ns, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	up, err := peer.WaitReady(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("AWS peer ready: %.1f s after QEMU start, %.1f s of guest uptime", time.Since(peer.Started).Seconds(), up.Seconds())

	for _, tc := range []struct {
		cmd  string
		want []string
	}{
		{"swanctl --list-conns", []string{"vpn-1a: IKEv2", "local:  192.0.2.10", "remote: %any", "vpn-1a: TUNNEL", "0.0.0.0/0", "vpn-2b: IKEv2", "local:  192.0.2.13"}},
		{"swanctl --list-sas", nil},
		{"ip -d link show xfrm1", []string{"mtu 1436", "xfrm if_id 0x1", "alias vpn-1a"}},
		{"ip -d link show xfrm4", []string{"mtu 1436", "xfrm if_id 0x4", "alias vpn-2b"}},
		{"ip -4 addr show", []string{"inet 169.254.80.145/30", "inet 169.254.83.157/30", "inet 192.0.2.10/24", "inet 192.0.2.13/24", "inet 10.0.0.24/24"}},
		{"vtysh -c 'show bgp summary'", []string{"local AS number 64512", "169.254.80.146", "169.254.81.150", "169.254.82.154", "169.254.83.158"}},
		{"vtysh -c 'show bgp ipv4 unicast'", []string{"10.0.0.0/24"}},
		{"ping -c 1 -W 2 10.0.0.24", []string{"1 packets received"}},
		{"ping -c 1 -W 2 " + PublicRouter, []string{"1 packets received"}},
		{"lsmod", []string{"esp4", "xfrm_interface", "drbg", "gcm"}},
		{"ip -V", []string{"iproute2"}},
	} {
		out, err := peer.ShellOK(ctx, tc.cmd)
		if err != nil {
			t.Error(err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: no %q in:\n%s", tc.cmd, w, out)
			}
		}
	}
	if _, status, err := peer.Shell(ctx, "false"); err != nil || status != 1 {
		t.Errorf("Shell(false) = %d, %v; want status 1", status, err)
	}
	// A line that leaves the shell waiting (an open quote, as a line cut
	// during the shell's start does) fails by its deadline; the next
	// command still works: Shell ends the open input with Ctrl-C first.
	short, cancelShort := context.WithTimeout(ctx, 3*time.Second)
	_, _, err = peer.Shell(short, `echo "never closed`)
	cancelShort()
	if err == nil {
		t.Error("a command with an open quote returned")
	}
	if out, err := peer.ShellOK(ctx, "echo recovered"); err != nil || !strings.Contains(out, "recovered") {
		t.Errorf("after an open quote: %q, %v", out, err)
	}
	for _, tun := range cfg.Tunnels {
		if out, err := ns.Command("ping", "-c", "1", "-W", "2", tun.OutsideAWS.String()).CombinedOutput(); err != nil {
			t.Errorf("the namespace cannot ping the peer's outside address %s: %v\n%s", tun.OutsideAWS, err, out)
		}
	}

	// aws-charon-stop / aws-charon-start, as the data-path test uses them.
	t0 := time.Now()
	if out, err := peer.ShellOK(ctx, "aws-charon-stop"); err != nil || !strings.Contains(out, "charon: killed") {
		t.Fatalf("aws-charon-stop: %v %s", err, out)
	}
	if out, err := peer.ShellOK(ctx, "aws-charon-start"); err != nil || !strings.Contains(out, "charon: loaded") {
		t.Fatalf("aws-charon-start: %v %s", err, out)
	}
	t.Logf("charon killed and started again in %.1f s", time.Since(t0).Seconds())
	if out, err := peer.ShellOK(ctx, "swanctl --list-conns"); err != nil || !regexp.MustCompile(`vpn-1a: IKEv2`).MatchString(out) {
		t.Errorf("after a restart: %v\n%s", err, out)
	}
}
