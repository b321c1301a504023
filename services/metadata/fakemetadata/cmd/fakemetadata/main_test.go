package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"github.com/tidegate/tidegate/services/metadata"
)

// The netns test runs this test binary as the command.
const runMainEnv = "FAKEMETADATA_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestRun serves on loopback and reads it with the tidegate client: gzip
// user data from a file, a late VLAN, and a reload.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "site.yaml")
	if err := os.WriteFile(file, []byte("version: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reload := make(chan struct{})
	ready := make(chan net.Addr, 1)
	var stderr bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{
			"-listen", "127.0.0.1:0", "-freebind=false",
			"-label", "vpn-gw-2", "-id", "77",
			"-vlan-ipam", "10.0.1.3/24", "-hide-vlan", "2",
			"-userdata-file", file, "-userdata-gzip",
		}, &stderr, reload, ready)
	}()
	var addr net.Addr
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}

	c := metadata.New("http://"+addr.String(), metadata.WithBackoff(5*time.Millisecond, 20*time.Millisecond))
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	info, err := c.Wait(wctx, metadata.NeedVLAN("vlan-1"))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := info.VLAN("vlan-1")
	if info.ID != 77 || info.Label != "vpn-gw-2" || v.IPAMAddress != netip.MustParsePrefix("10.0.1.3/24") ||
		string(info.UserData) != "version: 1\n" {
		t.Errorf("Info = %v, user data %q", info, info.UserData)
	}

	if err := os.WriteFile(file, []byte("version: 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	reload <- struct{}{}
	deadline := time.Now().Add(5 * time.Second)
	for {
		info, err := c.Fetch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if string(info.UserData) == "version: 2\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("user data still %q after reload", info.UserData)
		}
		time.Sleep(10 * time.Millisecond)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if !strings.Contains(stderr.String(), "path=/v1/user-data status=200") {
		t.Errorf("no request log:\n%s", stderr.String())
	}
}

// TestNetns runs the command as a lab would: inside a network namespace, on
// 169.254.169.254:80, started before the address exists, and reached from
// inside that namespace.
func TestNetns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces")
	}
	name := fmt.Sprintf("tgmetadata-%d-a", os.Getpid())
	ip(t, "netns", "add", name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", name, exe,
		"-label", "vpn-gw-1", "-vlan-ipam", "10.0.1.2/24", "-userdata-file", "/dev/null")
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})

	// Wait for "serving" before the namespace has the address: the bind
	// must not need it. (Debian's 6.1 kernel refuses a non-local bind
	// without IP_FREEBIND; this machine's kernel happens to allow it, so
	// here the test shows the order works rather than that FREEBIND is
	// what makes it work.)
	lines := bufio.NewScanner(stderr)
	servingc := make(chan bool, 1)
	go func() {
		for lines.Scan() {
			if strings.Contains(lines.Text(), "msg=serving") {
				servingc <- true
				break
			}
		}
		for lines.Scan() { // drain, so the command never blocks on stderr
		}
		close(servingc)
	}()
	select {
	case ok := <-servingc:
		if !ok {
			t.Fatal("the command exited before serving")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the command did not start serving")
	}
	ip(t, "-n", name, "link", "set", "lo", "up")
	ip(t, "-n", name, "addr", "add", "169.254.169.254/32", "dev", "lo")

	target, err := netns.GetFromName(name)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	hc := &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{DialContext: dialIn(target), Proxy: nil},
	}
	c := metadata.New("", metadata.WithHTTPClient(hc), metadata.WithBackoff(10*time.Millisecond, 100*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	info, err := c.Wait(ctx, metadata.NeedVLAN(""))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := info.VLAN(""); info.Label != "vpn-gw-1" || v.IPAMAddress != netip.MustParsePrefix("10.0.1.2/24") || len(info.UserData) != 0 {
		t.Errorf("Info = %v", info)
	}
}

// dialIn dials from inside the namespace ns: a socket belongs to the
// namespace of the thread that makes it.
func dialIn(ns netns.NsHandle) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			return nil, err
		}
		defer orig.Close()
		if err := netns.Set(ns); err != nil {
			runtime.UnlockOSThread()
			return nil, err
		}
		conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if netns.Set(orig) == nil {
			// Only a thread back in its own namespace goes back to the
			// pool; otherwise it dies with this goroutine.
			runtime.UnlockOSThread()
		}
		return conn, err
	}
}

func ip(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}
