package qemu

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
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

// peerNetns makes a namespace, removed at the end of the test, with the
// "pub" segment for an AWS peer alone (startPeer).
func peerNetns(t *testing.T, name string) *Netns {
	t.Helper()
	netnstest.NeedRoot(t)
	ns, err := NewNetns(fmt.Sprintf("tgqemu-%d-%s", os.Getpid(), name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	if err := ns.Bridge("pub", PublicRouter+"/24"); err != nil {
		t.Fatal(err)
	}
	return ns
}

// startPeer boots the AWS peer guest with eth0 on bridge "pub" of ns and
// files added to its initramfs.
func startPeer(t *testing.T, ns *Netns, cfg awspeer.Config, files ...awspeer.File) *AWSPeer {
	t.Helper()
	if err := ns.Tap("tapaws", "pub"); err != nil {
		t.Fatal(err)
	}
	peer, err := StartAWSPeer(AWSPeerOptions{
		Netns: ns, NIC: NIC{Tap: "tapaws", MAC: peerMAC}, Config: cfg, Files: files,
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
	ns := peerNetns(t, "awspeer")
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
		{"ip -d link show xfrm1", []string{"mtu 1446", "xfrm if_id 0x1", "alias vpn-1a"}},
		{"ip -d link show xfrm4", []string{"mtu 1446", "xfrm if_id 0x4", "alias vpn-2b"}},
		{"ip -4 addr show", []string{"inet 169.254.80.145/30", "inet 169.254.83.157/30", "inet 192.0.2.10/24", "inet 192.0.2.13/24", "inet 10.0.0.24/24"}},
		{"vtysh -c 'show bgp summary'", []string{"local AS number 64512", "169.254.80.146", "169.254.81.150", "169.254.82.154", "169.254.83.158"}},
		{"vtysh -c 'show bgp ipv4 unicast'", []string{"10.0.0.0/24"}},
		{"ping -c 1 -W 2 10.0.0.24", []string{"1 packets received"}},
		{"ping -c 1 -W 2 " + PublicRouter, []string{"1 packets received"}},
		{"lsmod", []string{"esp4", "xfrm_interface", "drbg", "gcm"}},
		// -cpu max offers AES-NI: ESP's AES-GCM is the CPU's, as on AWS.
		{"grep -A2 'rfc4106(gcm(aes))' /proc/crypto", []string{"driver       : rfc4106-gcm-aesni"}},
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

// ipsecSite is the site of the data-path test, the seed's example with
// vpn-gw-1's first tunnel (vpn-1a) moved onto the AWS peer guest and a key
// new for every run, and the AWS peer's configuration for that tunnel
// alone. Its other tunnels point at addresses nobody holds, and vpn-gw-2
// does not boot.
func ipsecSite(t *testing.T) ([]byte, *configs.Site, awspeer.Config) {
	t.Helper()
	b := make([]byte, 12)
	rand.Read(b)
	doc, err := ExampleSite("seed.yaml",
		"203.0.113.10", peerOutside.String(),
		"EXAMPLE.psk.for.vpn_1a", "tg."+hex.EncodeToString(b))
	if err != nil {
		t.Fatal(err)
	}
	site, err := configs.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	peer, err := awspeer.FromSite(site, "vpn-gw-1")
	if err != nil {
		t.Fatal(err)
	}
	peer.Tunnels = peer.Tunnels[:1]
	return doc, site, peer
}

// pingAcross pings dst from the AWS peer until three echoes in a row are
// answered, for up to 20 s.
func pingAcross(ctx context.Context, peer *AWSPeer, dst string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	return poll(ctx, peer, "ping -c 3 -W 2 "+dst, regexp.MustCompile(` 0% packet loss`))
}

// poll runs the peer's cmd every second until its output matches re.
func poll(ctx context.Context, peer *AWSPeer, cmd string, re *regexp.Regexp) (string, error) {
	var last string
	for {
		out, _, err := peer.Shell(ctx, cmd)
		if err != nil {
			return last, err
		}
		if last = out; re.MatchString(out) {
			return out, nil
		}
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("%q never showed %q: %w; last output:\n%s", cmd, re, ctx.Err(), last)
		case <-time.After(time.Second):
		}
	}
}

// TestIPsecDataPath boots the real image as vpn-gw-1 and the AWS peer guest
// on the same "Internet" segment, and checks the data path the host kernel
// cannot give: the tunnel comes up (the gateway initiates; AWS only
// responds), ESP carries pings through both XFRM interfaces, BGP over the
// tunnel brings the VPC prefix and the VLAN prefix to the two sides so that
// the VPC host reaches the gateway's VLAN address and, forwarded by the
// gateway, a host on the VLAN, and when AWS's endpoint
// dies the gateway notices by DPD in about 30 s and brings the tunnel back
// by itself once the endpoint returns.
func TestIPsecDataPath(t *testing.T) {
	doc, site, peerCfg := ipsecSite(t)
	tun := peerCfg.Tunnels[0]
	s, gw := bootSite(t, "vpn-gw-1", netip.MustParsePrefix("10.0.1.2/24"), doc)
	peer := startPeer(t, s.Netns, peerCfg)
	start := gw.Started
	since := func() float64 { return time.Since(start).Seconds() }

	ctx, cancel := context.WithTimeout(context.Background(), 170*time.Second)
	defer cancel()
	if _, err := peer.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("AWS peer ready: %.1f s", since())
	if _, _, err := gw.WaitFor(ctx, 0, regexp.MustCompile(`msg=configured .*gateway=vpn-gw-1`)); err != nil {
		t.Fatal(err)
	}
	t.Logf("gateway configured: %.1f s", since())

	// The tunnel: AWS's charon shows it established and its CHILD_SA
	// installed; the gateway says so on its console.
	sas, err := poll(ctx, peer, "swanctl --list-sas", regexp.MustCompile(`(?s)vpn-1a: #\d+, ESTABLISHED, IKEv2.*vpn-1a: #\d+, reqid \d+, INSTALLED, TUNNEL`))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("tunnel up (AWS side INSTALLED): %.1f s\n%s", since(), sas)
	if _, _, err := gw.WaitFor(ctx, 0, regexp.MustCompile(`tunnel=vpn-1a up=true`)); err != nil {
		t.Fatal(err)
	}

	// ESP through the XFRM interfaces: AWS's inside address to the
	// gateway's.
	// The first echo may race the gateway's side of the fresh SA: what
	// counts is three in a row answered, within a few seconds.
	out, err := pingAcross(ctx, peer, tun.CustomerInside().String())
	if err != nil {
		t.Errorf("ping across the tunnel: %v\n%s", err, out)
	}
	out, err = peer.ShellOK(ctx, "ip -s link show xfrm1; swanctl --list-sas --ike vpn-1a | grep -E 'bytes_i|in  |out '")
	if err != nil {
		t.Error(err)
	}
	t.Logf("XFRM interface and SA counters on AWS's side after the pings:\n%s", out)

	// BGP: the gateway's GoBGP session with AWS's bgpd, each side learning
	// the other's prefix, then the VPC host reaching the gateway's VLAN
	// address (the route back to 10.0.0.0/24 is the gateway's BGP route).
	bgpCtx, bgpCancel := context.WithTimeout(ctx, 60*time.Second)
	route, err := poll(bgpCtx, peer, "vtysh -c 'show ip route 10.0.1.0/24'", regexp.MustCompile(`169\.254\.80\.146, via xfrm1`))
	bgpCancel()
	if err != nil {
		out, _, _ := peer.Shell(ctx, "vtysh -c 'show bgp summary'")
		t.Errorf("no BGP route to the VLAN prefix on AWS's side: %v\n%s", err, out)
	} else {
		t.Logf("BGP route to 10.0.1.0/24 on AWS's side: %.1f s\n%s", since(), route)
		// The gateway installs its route to the VPC a moment after AWS has
		// the VLAN's: allow it that long.
		pingCtx, pingCancel := context.WithTimeout(ctx, 20*time.Second)
		out, err := poll(pingCtx, peer, "ping -c 1 -W 1 -I "+awspeer.DefaultVPCHost.String()+" 10.0.1.2", regexp.MustCompile(` 0% packet loss`))
		pingCancel()
		if err != nil {
			t.Errorf("the VPC host cannot reach the gateway's VLAN address: %v\n%s", err, out)
		} else {
			t.Logf("VPC host %s -> gateway VLAN address 10.0.1.2 over BGP routes both ways:\n%s", awspeer.DefaultVPCHost, out)
		}
	}

	// Forwarding through the gateway: a VLAN host (the namespace's
	// VLANHost, routing the VPC through the virtual IP as the seed's hosts
	// do) and the VPC host reach each other.
	if err := s.Netns.IP("route", "add", awspeer.DefaultVPC.String(), "via", site.VLAN.VirtualIP.String()); err != nil {
		t.Fatal(err)
	}
	fwdCtx, fwdCancel := context.WithTimeout(ctx, 20*time.Second)
	err = s.WaitPing(fwdCtx, awspeer.DefaultVPCHost.String())
	fwdCancel()
	if err != nil {
		t.Errorf("VLAN host %s -> VPC host through the gateway and the tunnel: %v", VLANHost, err)
	} else {
		out, err := peer.ShellOK(ctx, "ping -c 3 -W 2 -I "+awspeer.DefaultVPCHost.String()+" "+VLANHost)
		if err != nil || !strings.Contains(out, " 0% packet loss") {
			t.Errorf("VPC host -> VLAN host %s: %v\n%s", VLANHost, err, out)
		} else {
			t.Logf("VLAN host %s <-> VPC host %s through the gateway: %.1f s", VLANHost, awspeer.DefaultVPCHost, since())
		}
	}

	// AWS's endpoint vanishes (charon killed, no DELETE, its SAs gone from
	// the kernel). The gateway's DPD declares it dead in about 30 s.
	off := len(gw.Console())
	if _, err := peer.ShellOK(ctx, "aws-charon-stop"); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	line, off, err := gw.WaitFor(ctx, off, regexp.MustCompile(`.*tunnel=vpn-1a up=false.*`))
	if err != nil {
		t.Fatal(err)
	}
	dead := time.Since(killed)
	t.Logf("AWS's endpoint gone: the gateway logged the tunnel down after %.1f s:\n%s", dead.Seconds(), line)
	if dead > 45*time.Second {
		t.Errorf("the gateway took %.1f s to notice the dead peer; AWS's DPD timeout is 30 s", dead.Seconds())
	}

	// The endpoint comes back; AWS never initiates, so the gateway must.
	if _, err := peer.ShellOK(ctx, "aws-charon-start"); err != nil {
		t.Fatal(err)
	}
	restarted := time.Now()
	line, _, err = gw.WaitFor(ctx, off, regexp.MustCompile(`.*tunnel=vpn-1a up=true.*`))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("AWS's charon started again: the gateway brought the tunnel back after %.1f s:\n%s", time.Since(restarted).Seconds(), line)
	if _, err := poll(ctx, peer, "swanctl --list-sas", regexp.MustCompile(`INSTALLED, TUNNEL`)); err != nil {
		t.Error(err)
	}
	out, err = pingAcross(ctx, peer, tun.CustomerInside().String())
	if err != nil {
		t.Errorf("ping across the tunnel after it came back: %v\n%s", err, out)
	}

	if strings.Contains(gw.Console(), tun.PSK) {
		t.Error("the pre-shared key appeared on the gateway's console")
	}
	t.Logf("total: %.1f s", since())
}

// TestIPsecInterfacesInGuest runs services/ipsec's TestInterfaces (XFRM
// interfaces made and reconciled over netlink) in the Debian kernel the
// image boots, which the test host's kernel cannot do. The product image has
// no shell to start a test binary, so it runs in the AWS peer guest: the same
// pinned kernel with the same XFRM modules.
func TestIPsecInterfacesInGuest(t *testing.T) {
	netnstest.NeedRoot(t)
	bin := filepath.Join(t.TempDir(), "ipsec.test")
	build := exec.Command("go", "test", "-c", "-o", bin, "../services/ipsec")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go test -c ./services/ipsec: %v\n%s", err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	_, _, cfg := ipsecSite(t)
	peer := startPeer(t, peerNetns(t, "xfrmi"), cfg, awspeer.File{Path: "/usr/local/bin/ipsec.test", Mode: 0o755, Data: data})
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	if _, err := peer.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	out, status, err := peer.Shell(ctx, "cd /tmp && /usr/local/bin/ipsec.test -test.run '^TestInterfaces$' -test.v -test.count=1")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("services/ipsec TestInterfaces in the guest:\n%s", out)
	if status != 0 || !strings.Contains(out, "--- PASS: TestInterfaces") {
		t.Fatalf("TestInterfaces did not pass in the guest (exit %d)", status)
	}
}
