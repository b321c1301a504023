package gateway

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tidegate/tidegate/internal/netnstest"
)

// This file is the lab: network namespaces named tggateway-<pid>-<name>,
// FRR (zebra + bgpd) run from a temporary directory in one of them, and the
// tidegate binary run in standalone mode (--config, --name) in others. Every
// process is stopped by its pid and every namespace deleted in t.Cleanup.

// lab is the package's netnstest.Lab (namespaces named
// tggateway-<pid>-<name>) with a directory for binaries and logs.
type lab struct {
	*netnstest.Lab
	t   *testing.T
	dir string
}

func newLab(t *testing.T) *lab {
	t.Helper()
	return &lab{Lab: netnstest.NewLab(t, "gateway"), t: t, dir: t.TempDir()}
}

// bridge makes ns a LAN: a bridge br0 with one port per node namespace,
// whose end is called ifname and has no address (the gateway sets it).
func (l *lab) bridge(ns, ifname string, nodes ...string) {
	l.t.Helper()
	l.Run("ip", "-n", ns, "link", "add", "br0", "type", "bridge")
	l.Run("ip", "-n", ns, "link", "set", "br0", "up")
	for i, node := range nodes {
		port := fmt.Sprintf("port%d", i)
		l.Wire(node, ifname, "", ns, port, "")
		l.Run("ip", "-n", ns, "link", "set", port, "master", "br0")
	}
}

// addrs lists the IPv4 addresses on ns's interface ifname.
func (l *lab) addrs(ns, ifname string) []string {
	l.t.Helper()
	out := l.Run("ip", "-n", ns, "-j", "-4", "addr", "show", "dev", ifname)
	var v []struct {
		AddrInfo []struct {
			Local     string `json:"local"`
			PrefixLen int    `json:"prefixlen"`
		} `json:"addr_info"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		l.t.Fatalf("parse %q: %v", out, err)
	}
	var as []string
	for _, i := range v {
		for _, a := range i.AddrInfo {
			as = append(as, fmt.Sprintf("%s/%d", a.Local, a.PrefixLen))
		}
	}
	return as
}

func (l *lab) has(ns, ifname, addr string) bool {
	for _, a := range l.addrs(ns, ifname) {
		if a == addr {
			return true
		}
	}
	return false
}

// eventually retries f every interval until it succeeds or timeout
// passes, and returns how long that took.
func eventually(t *testing.T, timeout time.Duration, what string, f func() error) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		err := f()
		if err == nil {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("%s: not within %v: %v", what, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// buildTidegate builds the tidegate command (./init) into the lab's
// directory: the test runs the real binary, as PID 1's child would.
func (l *lab) buildTidegate() string {
	l.t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(l.dir, "tidegate")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command(goTool, append(args, "github.com/tidegate/tidegate/init")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		l.t.Fatalf("go build ./init: %v\n%s", err, out)
	}
	return bin
}

// gwProc is one tidegate gateway running in standalone mode in a namespace.
type gwProc struct {
	*netnstest.Process
	t    *testing.T
	name string
}

func (l *lab) startGateway(bin, ns, config, name string) *gwProc {
	l.t.Helper()
	runDir := filepath.Join(l.dir, name)
	logPath := filepath.Join(l.dir, fmt.Sprintf("%s-%d.log", name, time.Now().UnixNano()))
	// ip netns exec execs the command: the process is tidegate.
	cmd := netnstest.Command(ns, bin, "--config", config, "--name", name, "--run-dir", runDir)
	return &gwProc{Process: netnstest.Start(l.t, cmd, logPath), t: l.t, name: name}
}

// exited waits for the process to end and returns Wait's error.
func (p *gwProc) exited(timeout time.Duration) error {
	p.t.Helper()
	select {
	case <-p.Done():
		return p.Err()
	case <-time.After(timeout):
		p.t.Fatalf("%s did not exit within %v", p.name, timeout)
		return nil
	}
}

func (p *gwProc) logText() string { return string(p.Output()) }

// logLine returns the first log line holding every one of parts, or "".
func (p *gwProc) logLine(parts ...string) string {
	lines := strings.Split(p.logText(), "\n")
	if i := logIndex(lines, parts); i >= 0 {
		return lines[i]
	}
	return ""
}

// logLines returns every log line holding every one of parts.
func (p *gwProc) logLines(parts ...string) []string {
	var out []string
	for _, line := range strings.Split(p.logText(), "\n") {
		if logIndex([]string{line}, parts) == 0 {
			out = append(out, line)
		}
	}
	return out
}

// logIndex returns the number of the first log line holding every one of
// parts, or -1.
func (p *gwProc) logIndex(parts ...string) int {
	return logIndex(strings.Split(p.logText(), "\n"), parts)
}

func logIndex(lines, parts []string) int {
	for i, line := range lines {
		ok := true
		for _, s := range parts {
			ok = ok && strings.Contains(line, s)
		}
		if ok {
			return i
		}
	}
	return -1
}

// waitLog waits until a log line holds every one of parts.
func (p *gwProc) waitLog(timeout time.Duration, parts ...string) string {
	p.t.Helper()
	var line string
	eventually(p.t, timeout, fmt.Sprintf("%s logs %q", p.name, parts), func() error {
		if line = p.logLine(parts...); line == "" {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	return line
}
