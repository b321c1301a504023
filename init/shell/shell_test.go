package shell

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tidegate/tidegate/internal/testrun"

	"github.com/tidegate/tidegate/internal/golden"
	"github.com/tidegate/tidegate/services/status"
)

var t0 = time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)

func runningDoc() status.Document {
	return status.Document{
		Time: t0, Version: "v0.4.0", Mode: "appliance", Phase: "running",
		Gateway: "vpn-gw-1", Site: "linode-to-aws", Peer: "vpn-gw-2", VLANAddress: "10.0.1.2/24",
		Started: t0.Add(-time.Hour), UptimeSeconds: 3600,
		Health: &status.Health{Healthy: true, AWSPaths: 1, TunnelsUp: 1, VRRPMaster: true},
		IPsec: &status.IPsec{CharonRunning: true, CharonPID: 42, CharonVersion: "strongSwan 5.9.8",
			Tunnels: []status.Tunnel{{Name: "vpn-1a", Remote: "52.1.197.46", Interface: "xfrm1", Up: true,
				IKEState: "ESTABLISHED", ChildState: "INSTALLED", Established: t0.Add(-50 * time.Minute),
				BytesIn: 2048, BytesOut: 4096, PacketsIn: 2, PacketsOut: 4}}},
		BGP: &status.BGP{Running: true, Master: true, RoutesInstalled: 1, AWSPaths: 1, Peers: []status.Peer{
			{Name: "vpn-1a", Address: "169.254.80.145", ASN: 64512, State: "established", UptimeSeconds: 2990, Received: 1, Accepted: 1, Advertised: 1},
			{Name: "ibgp", Address: "10.0.1.3", ASN: 65000, State: "active"},
		}},
		VRRP: &status.VRRP{State: "master", Priority: 100, EffectivePriority: 100, MasterAddress: "10.0.1.2",
			MasterPriority: 100, VirtualIPs: []string{"10.0.1.200/24"}, Transitions: 2,
			LastChange: "master down timer expired", LastChangeAt: t0.Add(-59 * time.Minute), AdvertsSent: 3540},
		Routes: []status.Route{{Prefix: "10.0.0.0/24", Metric: 20, NextHops: []status.NextHop{{Gateway: "169.254.80.145", Interface: "xfrm1"}}}},
	}
}

func configuringDoc() status.Document {
	return status.Document{
		Time: t0, Version: "v0.4.0", Mode: "appliance", Phase: "configuring", UptimeSeconds: 12,
		ConfigErrors: []string{"user-data:9: bgp.asn: required"},
		Routes:       []status.Route{},
	}
}

// fakeGateway is a status server on a unix socket, as the gateway serves
// the console shell, with a document the test chooses.
type fakeGateway struct {
	mu   sync.Mutex
	doc  status.Document
	conf []byte
	sock string
}

func startFake(t *testing.T, doc status.Document, conf []byte) *fakeGateway {
	t.Helper()
	f := &fakeGateway{doc: doc, conf: conf, sock: filepath.Join(t.TempDir(), status.SocketName)}
	srv, err := status.NewServer(status.Config{
		Status: func() status.Document { f.mu.Lock(); defer f.mu.Unlock(); return f.doc },
		Config: func() ([]byte, error) { f.mu.Lock(); defer f.mu.Unlock(); return f.conf, nil },
		Log: func() []string {
			return []string{"time=2026-11-25T19:59:58.000Z level=INFO msg=\"services started\"\n", "time=2026-11-25T19:59:59.000Z level=INFO msg=\"vrrp master\"\n", "time=2026-11-25T20:00:00.000Z level=INFO msg=\"tunnel up\" tunnel=vpn-1a\n"}
		},
		Routes: func() ([]status.Route, error) { return nil, errors.New("not in this test") },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := status.ListenUnix(f.sock)
	if err != nil {
		t.Fatal(err)
	}
	testrun.Until(t, "Serve", func(ctx context.Context) error { return srv.Serve(ctx, ln) })
	return f
}

// outputHas checks that out, what the shell printed, has each of wants.
func outputHas(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// session runs a shell on input against the socket and returns what it
// printed and the signals it sent to "PID 1".
func session(t *testing.T, sock, input string, signal bool) (string, []syscall.Signal) {
	t.Helper()
	c, err := status.NewClient(sock)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	var sigs []syscall.Signal
	sh := &Shell{
		In: strings.NewReader(input), Out: &out, Source: c, Where: "status.sock",
		Hostname: func() (string, error) { return "vpn-gw-1", nil },
	}
	if signal {
		sh.Signal = func(s syscall.Signal) error { sigs = append(sigs, s); return nil }
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := sh.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	return out.String(), sigs
}

// TestTranscript drives every command through the shell against a running
// gateway and compares the whole console transcript with a golden file.
func TestTranscript(t *testing.T) {
	f := startFake(t, runningDoc(), []byte("version: 1\nsite: linode-to-aws\n"))
	input := strings.Join([]string{
		"show status", "sh tun", "show bgp", "show ip bgp summary", "show vrrp", "show routes",
		"show config", "show log 2", "help", "", "frobnicate", "show", "show bgp now", "show log x",
	}, "\n") + "\n"
	out, _ := session(t, f.sock, input, true)
	golden.Check(t, "transcript.golden", out)
}

func TestCommands(t *testing.T) {
	f := startFake(t, runningDoc(), []byte("version: 1\n"))
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"show status", []string{"vpn-gw-1> ", "Gateway    vpn-gw-1 (site linode-to-aws, peer vpn-gw-2)", "VRRP       master, priority 100"}},
		{"sh st", []string{"Phase      running, up 01:00:00"}},
		{"show tunnels", []string{"Tunnel  State  Uptime    Bytes In/Out", "vpn-1a  up     00:50:00  2.0K/4.0K"}},
		{"show vpn ipsec sa", []string{"vpn-1a  up"}},
		{"show bgp", []string{"Neighbor        AS     Up/Down   State/PfxRcd", "10.0.1.3        65000  never     Active", "Total number of neighbors 2"}},
		{"s b", []string{"Total number of neighbors 2"}},
		{"show ip bgp summary", []string{"Total number of neighbors 2"}},
		{"show vrrp", []string{"State           MASTER since 19:01:00 UTC", "Master          10.0.1.2, priority 100 (this gateway)"}},
		{"show routes", []string{"10.0.0.0/24  169.254.80.145  xfrm1      20", "1 route installed by BGP"}},
		{"show ip route", []string{"1 route installed by BGP"}},
		{"show config", []string{"secrets shown as *****", "version: 1"}},
		{"show running-config", []string{"version: 1"}},
		{"show log", []string{`msg="services started"`, "tunnel=vpn-1a"}},
		{"show log 1", []string{"tunnel=vpn-1a"}},
		{"help", []string{"show tunnels", "reboot", "poweroff"}},
		{"?", []string{"show tunnels"}},
		{"nonsense", []string{"% unknown command: nonsense", "show status|tunnels|bgp"}},
		{"show", []string{"% incomplete command; one of: show status, show tunnels"}},
		{"show vrrp please", []string{"% show vrrp takes no arguments"}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			out, _ := session(t, f.sock, tc.in+"\n", false)
			outputHas(t, out, tc.want...)
			if tc.in == "show log 1" && strings.Contains(out, "services started") {
				t.Errorf("show log 1 printed more than one line:\n%s", out)
			}
		})
	}
}

// TestGatewayNotRunning: nothing listens on the socket (the gateway crashed
// or has not started): the shell says so and keeps going.
func TestGatewayNotRunning(t *testing.T) {
	sock := filepath.Join(t.TempDir(), status.SocketName)
	out, _ := session(t, sock, "show status\nshow log\nshow config\n", false)
	if n := strings.Count(out, "Gateway not running (nothing answers on status.sock)."); n != 3 {
		t.Errorf("said not running %d times, want 3:\n%s", n, out)
	}
	if !strings.Contains(out, "vpn-gw-1> ") {
		t.Errorf("prompt not from the hostname:\n%s", out)
	}
}

// TestWaitingForConfiguration: the gateway runs but its user data does not
// validate.
func TestWaitingForConfiguration(t *testing.T) {
	f := startFake(t, configuringDoc(), nil)
	out, _ := session(t, f.sock, "show status\nshow bgp\nshow tunnels\nshow vrrp\nshow config\n", false)
	outputHas(t, out,
		"Phase    configuring (waiting for a valid configuration)",
		"No BGP: gateway waiting for configuration.",
		"No tunnels: gateway waiting for configuration.",
		"No VRRP: gateway waiting for configuration.",
		"No valid configuration yet: the gateway waits for one.",
		"  user-data:9: bgp.asn: required",
	)
	if strings.Count(out, "user-data:9: bgp.asn: required") < 5 {
		t.Errorf("not every command showed the configuration error:\n%s", out)
	}
}

func TestRebootAndPowerOff(t *testing.T) {
	f := startFake(t, runningDoc(), nil)
	for _, tc := range []struct {
		name, in string
		signal   bool
		want     []syscall.Signal
		says     []string
	}{
		{"reboot confirmed", "reboot\ny\n", true, []syscall.Signal{syscall.SIGTERM},
			[]string{"Planned handover first: vpn-gw-1 is the VRRP master; it hands the virtual IP to\nvpn-gw-2", "Reboot vpn-gw-1 now? [y/N] ", "Reboot: planned handover under way"}},
		{"poweroff confirmed", "poweroff\nyes\n", true, []syscall.Signal{syscall.SIGUSR2}, []string{"Poweroff vpn-gw-1 now? [y/N] "}},
		{"reboot declined", "reboot\n\n", true, nil, []string{"Cancelled."}},
		{"reboot at end of input", "reboot\n", true, nil, []string{"now? [y/N] "}},
		{"not the appliance", "reboot\ny\n", false, nil, []string{"% reboot: not on the appliance console"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, sigs := session(t, f.sock, tc.in, tc.signal)
			if diff := cmp.Diff(tc.want, sigs); diff != "" {
				t.Errorf("signals (-want +got):\n%s", diff)
			}
			outputHas(t, out, tc.says...)
		})
	}

	f.mu.Lock()
	f.doc.VRRP.State = "backup"
	f.mu.Unlock()
	out, sigs := session(t, f.sock, "reboot\ny\n", true)
	if len(sigs) != 1 || !strings.Contains(out, "vpn-gw-1 is VRRP backup, so no traffic moves") {
		t.Errorf("backup reboot: signals %v:\n%s", sigs, out)
	}
}

// TestContextEndsShell: Run returns when its context ends while it waits
// for a line that never comes (PID 1 stopping the shell).
func TestContextEndsShell(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	c, _ := status.NewClient(filepath.Join(t.TempDir(), "none.sock"))
	sh := &Shell{In: r, Out: io.Discard, Source: c, Hostname: func() (string, error) { return "x", nil }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- sh.Run(ctx) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
}

func TestLookup(t *testing.T) {
	for _, tc := range []struct {
		in, cmd, args, err string
	}{
		{"show bgp", "show bgp", "", ""},
		{"SHOW BGP", "show bgp", "", ""},
		{"sh b", "show bgp", "", ""},
		{"show log 20", "show log", "20", ""},
		{"sh lo all", "show log", "all", ""},
		{"show ip bgp summary", "show ip bgp summary", "", ""},
		{"show ip", "", "", "unknown command: show ip"},
		{"reb", "reboot", "", ""},
		{"show", "", "", "incomplete command; one of: show status, show tunnels, show bgp, show vrrp, show routes, show config, show log, show system"},
		{"show x", "", "", "unknown command: show x"},
		{"deb k g", "debug kill gateway", "", ""},
		{"deb k c", "debug kill charon", "", ""},
		{"debug kill", "", "", "incomplete command; one of: debug kill charon, debug kill gateway"},
	} {
		c, args, err := lookup(strings.Fields(tc.in))
		var got, gotErr string
		if c != nil {
			got = strings.Join(c.words, " ")
		}
		if err != nil {
			gotErr = err.Error()
		}
		if got != tc.cmd || strings.Join(args, " ") != tc.args || gotErr != tc.err {
			t.Errorf("lookup(%q) = %q %q %q, want %q %q %q", tc.in, got, args, gotErr, tc.cmd, tc.args, tc.err)
		}
	}
}
