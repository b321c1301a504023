package ipsec_test

import (
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/tidegate/tidegate/internal/deathsig"
	"github.com/tidegate/tidegate/internal/netnstest"
	"github.com/tidegate/tidegate/internal/testlog"
	"github.com/tidegate/tidegate/internal/testrun"
	"github.com/tidegate/tidegate/services/ipsec"
)

// testLogger logs into t until the test ends.
func testLogger(t testing.TB, prefix string) *slog.Logger {
	l, _ := testlog.New(t, prefix)
	return l
}

// started runs svc until the test ends and waits for Run to return then.
func started(t testing.TB, svc *ipsec.Service) {
	t.Helper()
	testrun.Until(t, "Run", svc.Run)
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// peer is a plain charon configured with swanctl: the stand-in for AWS's
// virtual private gateway in the negotiation tests.
type peer struct {
	t   testing.TB
	ns  string
	dir string
	cmd *exec.Cmd
}

// peerConf is the AWS stand-in's strongswan.conf. It logs the proposals it
// receives, has and selects (cfg 2), which is what a failed negotiation
// test needs to show; the gateway's charon logs at 1.
const peerConf = `charon {
	load = random nonce openssl kdf kernel-netlink socket-default vici
	install_routes = no
	routing_table = 0
	plugins {
		vici {
			socket = unix:///run/charon.vici
		}
	}
	filelog {
		stderr {
			default = 1
			cfg = 2
			net = 0
			enc = 0
			asn = 0
			job = 0
			ike_name = yes
		}
	}
}
`

// startPeer runs charon in ns with dir mounted on its /run (so its pid
// file is its own) and loads swanctlConf into it.
func startPeer(t testing.TB, ns, dir, swanctlConf string) *peer {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "strongswan.conf"), []byte(peerConf), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "swanctl.conf"), []byte(swanctlConf), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &peer{t: t, ns: ns, dir: dir}
	p.start()
	t.Cleanup(p.kill)
	return p
}

func (p *peer) start() {
	p.t.Helper()
	_ = os.Remove(filepath.Join(p.dir, "charon.vici"))
	// ip netns exec and unshare exec, so the pid is charon's.
	p.cmd = netnstest.Command(p.ns, "unshare", "-m", "--propagation", "private",
		"sh", "-c", "mount --bind \"$0\" /run && exec /usr/lib/ipsec/charon", p.dir)
	p.cmd.Env = append(os.Environ(), "STRONGSWAN_CONF=/run/strongswan.conf")
	w := testlog.NewWriter(p.t, "aws: ")
	p.cmd.Stdout, p.cmd.Stderr = w, w
	// From deathsig's thread: the service under test ends the threads it
	// locks into the gateway's namespace, and a peer forked from one of
	// them would die with it, its IKE_SA_INIT unanswered.
	if err := deathsig.Start(p.cmd); err != nil {
		p.t.Fatal(err)
	}
	sock := filepath.Join(p.dir, "charon.vici")
	waitFor(p.t, 10*time.Second, "the peer's VICI socket", func() bool { _, err := os.Stat(sock); return err == nil })
	out, err := exec.Command("swanctl", "--load-all", "--noprompt", "--uri", "unix://"+sock,
		"--file", filepath.Join(p.dir, "swanctl.conf")).CombinedOutput()
	if err != nil {
		p.t.Fatalf("swanctl --load-all: %v\n%s", err, out)
	}
}

// kill kills the peer's charon (SIGKILL: no DELETE goes out, like a peer
// that vanished) and waits for it.
func (p *peer) kill() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
}
