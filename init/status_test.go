package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidegate/tidegate/services/status"
)

func TestStatusCommand(t *testing.T) {
	doc := status.Document{
		Time: time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC), Version: "v1", Mode: "appliance", Phase: "running",
		Gateway: "vpn-gw-1", VLANAddress: "10.0.1.2/24",
		VRRP:   &status.VRRP{State: "master", Priority: 100, EffectivePriority: 100},
		BGP:    &status.BGP{Running: true, Master: true, Peers: []status.Peer{{Name: "vpn-1a", Address: "169.254.80.145", ASN: 64512, State: "idle"}}},
		IPsec:  &status.IPsec{CharonRunning: true},
		Routes: []status.Route{},
	}
	srv, err := status.NewServer(status.Config{
		Status: func() status.Document { return doc },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	addr := strings.TrimPrefix(ts.URL, "http://")

	code, out, errOut := runCmd(t, "status", addr)
	if code != 0 || errOut != "" {
		t.Fatalf("status %s = %d %q", addr, code, errOut)
	}
	wantAll(t, "status output", out, "Gateway    vpn-gw-1", "Tunnel  State", "169.254.80.145  64512  never    Idle", "State           MASTER", "No BGP routes in the kernel.")

	code, out, _ = runCmd(t, "status", "--json", addr)
	var d status.Document
	if err := json.Unmarshal([]byte(out), &d); code != 0 || err != nil || d.Gateway != "vpn-gw-1" {
		t.Errorf("status --json = %d %v %q", code, err, out)
	}

	sock := filepath.Join(t.TempDir(), "none.sock")
	if code, _, errOut := runCmd(t, "status", sock); code != 1 || !strings.Contains(errOut, "none.sock") {
		t.Errorf("status of a missing socket = %d %q", code, errOut)
	}
	if code, _, errOut := runCmd(t, "status"); code != 2 || !strings.Contains(errOut, "usage: tidegate status") {
		t.Errorf("status without an address = %d %q", code, errOut)
	}
}

// TestShellCommand runs `tidegate shell` with commands piped in, against a
// socket where no gateway answers.
func TestShellCommand(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	if err := os.WriteFile(in, []byte("show status\nreboot\ny\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stdin, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	oldIn := os.Stdin
	os.Stdin = stdin
	code := run([]string{"shell", "--socket", filepath.Join(dir, "status.sock")}, stdout, os.Stderr)
	os.Stdin = oldIn
	b, _ := os.ReadFile(out)
	if code != 0 || !strings.Contains(string(b), "Gateway not running (nothing answers on "+dir) {
		t.Errorf("tidegate shell = %d:\n%s", code, b)
	}
	// PID 1 here is not this test binary: reboot must refuse, not signal.
	if !strings.Contains(string(b), "% reboot: not on the appliance console") {
		t.Errorf("reboot outside the appliance:\n%s", b)
	}
}
