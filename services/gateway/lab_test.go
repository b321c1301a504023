package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// This file is the lab: network namespaces named tggateway-<pid>-<name>,
// FRR (zebra + bgpd) run from a temporary directory in one of them, and the
// tidegate binary run in standalone mode (--config, --name) in others. Every
// process is stopped by its pid and every namespace deleted in t.Cleanup.

type lab struct {
	t      *testing.T
	prefix string
	dir    string
}

func newLab(t *testing.T) *lab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces")
	}
	return &lab{t: t, prefix: fmt.Sprintf("tggateway-%d-", os.Getpid()), dir: t.TempDir()}
}

func (l *lab) run(args ...string) string {
	l.t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		l.t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// netns creates a namespace with loopback up. Cleanup kills whatever is
// still running in it (only our processes can be: the namespace is ours)
// and deletes it.
func (l *lab) netns(name string) string {
	l.t.Helper()
	ns := l.prefix + name
	l.run("ip", "netns", "add", ns)
	l.t.Cleanup(func() {
		out, _ := exec.Command("ip", "netns", "pids", ns).Output()
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		exec.Command("ip", "netns", "del", ns).Run()
	})
	l.run("ip", "-n", ns, "link", "set", "lo", "up")
	return ns
}

// wire joins two namespaces with a veth pair and addresses its ends.
func (l *lab) wire(nsA, ifA, addrA, nsB, ifB, addrB string) {
	l.t.Helper()
	l.run("ip", "link", "add", "name", ifA, "netns", nsA, "type", "veth", "peer", "name", ifB, "netns", nsB)
	for _, e := range [][2]string{{nsA, ifA}, {nsB, ifB}} {
		addr := addrA
		if e[0] == nsB {
			addr = addrB
		}
		if addr != "" {
			l.run("ip", "-n", e[0], "addr", "add", addr, "dev", e[1])
		}
		l.run("ip", "-n", e[0], "link", "set", e[1], "up")
	}
}

// bridge makes ns a LAN: a bridge br0 with one port per node namespace,
// whose end is called ifname and has no address (the gateway sets it).
func (l *lab) bridge(ns, ifname string, nodes ...string) {
	l.t.Helper()
	l.run("ip", "-n", ns, "link", "add", "br0", "type", "bridge")
	l.run("ip", "-n", ns, "link", "set", "br0", "up")
	for i, node := range nodes {
		port := fmt.Sprintf("port%d", i)
		l.wire(node, ifname, "", ns, port, "")
		l.run("ip", "-n", ns, "link", "set", port, "master", "br0")
	}
}

// addrs lists the IPv4 addresses on ns's interface ifname.
func (l *lab) addrs(ns, ifname string) []string {
	l.t.Helper()
	out := l.run("ip", "-n", ns, "-j", "-4", "addr", "show", "dev", ifname)
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
	t    *testing.T
	name string
	cmd  *exec.Cmd
	log  string // its stderr
	done chan struct{}
	err  error // Wait's, once done is closed
}

func (l *lab) startGateway(bin, ns, config, name string) *gwProc {
	l.t.Helper()
	runDir := filepath.Join(l.dir, name)
	logPath := filepath.Join(l.dir, fmt.Sprintf("%s-%d.log", name, time.Now().UnixNano()))
	f, err := os.Create(logPath)
	if err != nil {
		l.t.Fatal(err)
	}
	// ip netns exec execs the command: cmd's pid is tidegate's.
	cmd := exec.Command("ip", "netns", "exec", ns, bin, "--config", config, "--name", name, "--run-dir", runDir)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		l.t.Fatal(err)
	}
	f.Close()
	p := &gwProc{t: l.t, name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	l.t.Cleanup(func() {
		p.signal(syscall.SIGKILL)
		<-p.done
		if l.t.Failed() {
			l.t.Logf("%s log (%s):\n%s", name, logPath, lastLines(p.logText(), 60))
		}
	})
	return p
}

func (p *gwProc) signal(sig syscall.Signal) {
	select {
	case <-p.done:
	default:
		p.cmd.Process.Signal(sig)
	}
}

// exited waits for the process to end and returns Wait's error.
func (p *gwProc) exited(timeout time.Duration) error {
	p.t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		p.t.Fatalf("%s did not exit within %v", p.name, timeout)
		return nil
	}
}

func (p *gwProc) logText() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

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

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// frr is zebra + bgpd in one namespace, every file in a temporary
// directory (never the system's /etc/frr or its sockets).
type frr struct {
	t   *testing.T
	dir string
}

const frrDir = "/usr/lib/frr"

func (l *lab) startFRR(ns, bgpConf string) *frr {
	t := l.t
	t.Helper()
	for _, d := range []string{"zebra", "bgpd"} {
		if _, err := os.Stat(filepath.Join(frrDir, d)); err != nil {
			t.Fatalf("FRR is needed (Debian package frr): %v", err)
		}
	}
	// Not under t.TempDir: its parents are private to root, and the daemons
	// run as frr.
	dir, err := os.MkdirTemp("", l.prefix+"frr-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// The daemons drop to user frr; the directory and files must be theirs.
	u, err := user.Lookup("frr")
	if err != nil {
		t.Fatalf("FRR's user: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	files := map[string]string{
		"zebra.conf": fmt.Sprintf("hostname aws\nlog file %s/zebra.log\n", dir),
		"bgpd.conf":  fmt.Sprintf("frr defaults traditional\nhostname aws\nlog file %s/bgpd.log\n!\n%s", dir, bgpConf),
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	f := &frr{t: t, dir: dir}
	zsock := filepath.Join(dir, "zserv.api")
	f.daemon(ns, "zebra", "-z", zsock)
	eventually(t, 10*time.Second, "zebra socket", func() error { _, err := os.Stat(zsock); return err })
	f.daemon(ns, "bgpd", "-z", zsock, "-p", "179")
	eventually(t, 10*time.Second, "bgpd vty", func() error { _, err := f.vtysh("show bgp summary"); return err })
	return f
}

func (f *frr) daemon(ns, name string, args ...string) {
	f.t.Helper()
	argv := append([]string{"netns", "exec", ns, filepath.Join(frrDir, name),
		"-f", filepath.Join(f.dir, name+".conf"),
		"-i", filepath.Join(f.dir, name+".pid"),
		"--vty_socket", f.dir,
		"-A", "127.0.0.1", "-P", "0", // no TCP vty
	}, args...)
	cmd := exec.Command("ip", argv...)
	out, err := os.Create(filepath.Join(f.dir, name+".out"))
	if err != nil {
		f.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		f.t.Fatalf("start %s: %v", name, err)
	}
	f.t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		out.Close()
		if f.t.Failed() {
			b, _ := os.ReadFile(filepath.Join(f.dir, name+".log"))
			f.t.Logf("FRR %s log:\n%s", name, lastLines(string(b), 30))
		}
	})
}

func (f *frr) vtysh(cmds ...string) ([]byte, error) {
	args := []string{"--vty_socket", f.dir, "-d", "bgpd"}
	for _, c := range cmds {
		args = append(args, "-c", c)
	}
	out, err := exec.Command("vtysh", args...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("vtysh %q: %v: %s", cmds, err, out)
	}
	return out, nil
}

// sessions returns FRR's BGP session states by neighbour address.
func (f *frr) sessions() (map[string]string, error) {
	out, err := f.vtysh("show bgp ipv4 unicast summary json")
	if err != nil {
		return nil, err
	}
	var v struct {
		Peers map[string]struct {
			State string `json:"state"`
		} `json:"peers"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return nil, fmt.Errorf("parse %s: %v", out, err)
	}
	m := map[string]string{}
	for a, p := range v.Peers {
		m[a] = p.State
	}
	return m, nil
}

// frrPath is one path of `show bgp ipv4 unicast PREFIX json`.
type frrPath struct {
	ASPath struct {
		String string `json:"string"`
	} `json:"aspath"`
	Med      uint32 `json:"metric"`
	Bestpath struct {
		Overall bool `json:"overall"`
	} `json:"bestpath"`
	Peer struct {
		PeerID string `json:"peerId"`
	} `json:"peer"`
}

// paths returns FRR's paths for prefix by the neighbour that sent them, and
// which neighbour's path is best ("" if none).
func (f *frr) paths(prefix string) (map[string]frrPath, string, error) {
	out, err := f.vtysh("show bgp ipv4 unicast " + prefix + " json")
	if err != nil {
		return nil, "", err
	}
	var v struct {
		Paths []frrPath `json:"paths"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), &v); err != nil {
		return nil, "", fmt.Errorf("parse %s: %v", out, err)
	}
	m := map[string]frrPath{}
	best := ""
	for _, p := range v.Paths {
		m[p.Peer.PeerID] = p
		if p.Bestpath.Overall {
			best = p.Peer.PeerID
		}
	}
	return m, best, nil
}
