package ipsec_test

import (
	"context"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strongswan/govici/vici"
	"github.com/tidegate/tidegate/configs"
	"github.com/tidegate/tidegate/internal/netnstest"
	"github.com/tidegate/tidegate/internal/testlog"
	"github.com/tidegate/tidegate/services/ipsec"
)

// awsConf is the AWS side of one tunnel as swanctl.conf: a responder
// (AWS's default startup action is "add") that accepts what AWS accepts.
func awsConf(tun configs.Tunnel, self, gw string) string {
	return fmt.Sprintf(`connections {
	%[1]s {
		version = 2
		local_addrs = %[2]s
		remote_addrs = %[3]s
		proposals = aes128gcm16-aes256gcm16-prfsha256-prfsha384-prfsha512-ecp256-ecp384-ecp521-modp2048-modp3072-modp4096, aes128-aes256-sha1-sha256-sha384-sha512-ecp256-ecp384-modp2048-modp3072-modp4096
		dpd_delay = 10s
		local {
			auth = psk
			id = %[2]s
		}
		remote {
			auth = psk
			id = %[3]s
		}
		children {
			%[1]s {
				local_ts = 0.0.0.0/0
				remote_ts = 0.0.0.0/0
				esp_proposals = aes128gcm16-aes256gcm16-ecp384-modp2048, aes128-aes256-sha1-sha256-modp2048
				start_action = none
			}
		}
	}
}
secrets {
	ike-%[1]s {
		id = %[3]s
		secret = "%[4]s"
	}
}
`, tun.Name, self, gw, tun.PSK.Reveal())
}

// TestNegotiate runs the service against a second charon standing in for
// AWS, in two namespaces joined by a veth. The host kernel cannot install
// ESP SAs, so only the IKE_SA comes up; that is what is checked, with the
// events that report it, and its recovery when either charon dies.
func TestNegotiate(t *testing.T) {
	l := netnstest.NewLab(t, "ipsec")
	gwNS, awsNS := l.Netns("gw"), l.Netns("aws")
	const gwAddr, awsAddr = "198.51.100.1", "198.51.100.2"
	l.Wire(gwNS, "eth0", gwAddr+"/24", awsNS, "eth0", awsAddr+"/24")

	tun := tunnel("vpn-1a", awsAddr, "169.254.80.144/30", "EXAMPLE.psk.for.vpn_1a")
	aws := startPeer(t, awsNS, t.TempDir(), awsConf(tun, awsAddr, gwAddr))

	dir := t.TempDir()
	log, logged := testlog.New(t, "gw: ")
	svc, err := ipsec.New(ipsec.Config{RunDir: dir, NetNS: "/run/netns/" + gwNS, Tunnels: []configs.Tunnel{tun},
		LocalAddress: netip.MustParseAddr(gwAddr), Logger: log, ReconcileInterval: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	started(t, svc)

	established := func() bool {
		ts := svc.Status().Tunnels[0]
		return ts.IKEState == "ESTABLISHED" && ts.LastEvent == "ike-updown up"
	}
	waitFor(t, 20*time.Second, "the IKE_SA established and its ike-updown event", established)
	t.Logf("IKE_SA established %v after Run", time.Since(start).Round(time.Millisecond))
	ts := svc.Status().Tunnels[0]
	if want := "AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384"; ts.IKEProposal != want {
		t.Errorf("IKE proposal %q, want the strongest default %q", ts.IKEProposal, want)
	}
	if ts.Established.IsZero() || time.Since(ts.Established) > time.Minute {
		t.Errorf("Established = %v", ts.Established)
	}
	t.Logf("status: %+v", ts)

	// The PSK went to charon (the IKE_SA authenticated with it) and nowhere
	// else: not into the service's or charon's log lines, Status, or any
	// file in RunDir. Checked again at the end, after restarts and DPD.
	noPSK := func() {
		t.Helper()
		psk := tun.PSK.Reveal()
		if strings.Contains(logged.String(), psk) {
			t.Errorf("the PSK appears in the log")
		}
		if strings.Contains(fmt.Sprintf("%+v %#v", svc.Status(), svc.Status()), psk) {
			t.Errorf("the PSK appears in Status")
		}
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if b, _ := os.ReadFile(p); strings.Contains(string(b), psk) {
					t.Errorf("the PSK is in %s", p)
				}
			}
			return nil
		})
	}
	noPSK()
	defer noPSK()

	t.Run("IKE rekey", func(t *testing.T) {
		s := session(t, dir)
		m := vici.NewMessage()
		_ = m.Set("ike", tun.Name)
		if _, err := s.Call(context.Background(), "rekey", m); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "the ike-rekey event counted", func() bool {
			ts := svc.Status().Tunnels[0]
			return ts.IKERekeys == 1 && ts.IKEState == "ESTABLISHED"
		})
	})

	t.Run("gateway charon restarts", func(t *testing.T) {
		pid := svc.Status().Charon.PID
		killed := time.Now()
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "a new charon with the IKE_SA established again", func() bool {
			st := svc.Status()
			return st.Charon.PID != pid && st.Charon.Running && established()
		})
		t.Logf("gateway charon killed; IKE_SA established again in %v", time.Since(killed).Round(time.Millisecond))
	})

	t.Run("dead peer", func(t *testing.T) {
		// AWS's charon vanishes without a DELETE: DPD must notice in
		// about 30 s (10 s delay + retransmits at 2, 3, 4.5, 6.75 s and a
		// last 10.1 s wait), not charon's default 165 s.
		waitFor(t, 5*time.Second, "an established IKE_SA", established)
		aws.kill()
		killed := time.Now()
		waitFor(t, 60*time.Second, "ike-updown down", func() bool {
			return svc.Status().Tunnels[0].LastEvent == "ike-updown down"
		})
		took := time.Since(killed)
		t.Logf("dead peer declared %v after it died", took.Round(time.Millisecond))
		if took > 45*time.Second {
			t.Errorf("dead peer detection took %v, want about 30 s", took)
		}
		// dpd_action restart: the gateway keeps trying, and gets through
		// once the peer is back.
		aws.start()
		back := time.Now()
		waitFor(t, 60*time.Second, "the IKE_SA established again", established)
		t.Logf("IKE_SA back %v after the peer restarted", time.Since(back).Round(time.Millisecond))
	})
}
