package vrrp_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tidegate/tidegate/internal/deathsig"
	"github.com/tidegate/tidegate/internal/netnstest"
)

// The namespace tests build a small LAN: a namespace holding a bridge (the
// "VLAN") and one namespace per node, each with an eth1 on the bridge and an
// address in the seed's 10.0.1.0/24. Nothing has a route out.

var vrrpdBin string // built once by TestMain when running as root

func TestMain(m *testing.M) {
	code := func() int {
		if os.Geteuid() == 0 {
			dir, err := os.MkdirTemp("", "tgvrrp-bin-")
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			defer os.RemoveAll(dir)
			vrrpdBin = filepath.Join(dir, "vrrpd")
			goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
			args := []string{"build", "-o", vrrpdBin}
			if raceEnabled {
				args = append(args, "-race")
			}
			out, err := exec.Command(goBin, append(args, "./internal/vrrpd")...).CombinedOutput()
			if err != nil {
				fmt.Fprintf(os.Stderr, "building vrrpd: %v\n%s", err, out)
				return 1
			}
		}
		return m.Run()
	}()
	os.Exit(code)
}

var nodeAddrs = map[string]string{"a": "10.0.1.2", "b": "10.0.1.3", "c": "10.0.1.10"}

type lab struct {
	*netnstest.Lab
	t   testing.TB
	nss map[string]string // the namespaces by node: "a", "b", "c" and "lan"
}

// newLab creates the LAN with nodes a (10.0.1.2), b (10.0.1.3) and the
// client c (10.0.1.10).
func newLab(t testing.TB) *lab {
	t.Helper()
	l := &lab{Lab: netnstest.NewLab(t, "vrrp"), t: t, nss: map[string]string{}}
	lan := l.Netns("lan")
	l.nss["lan"] = lan
	l.Run("ip", "-n", lan, "link", "add", "br0", "type", "bridge")
	l.Run("ip", "-n", lan, "link", "set", "dev", "br0", "up")
	for _, n := range []string{"a", "b", "c"} {
		l.nss[n] = l.Netns(n)
		l.Wire(l.nss[n], "eth1", nodeAddrs[n]+"/24", lan, "port-"+n, "")
		l.Run("ip", "-n", lan, "link", "set", "dev", "port-"+n, "master", "br0")
	}
	return l
}

func (l *lab) ns(node string) string { return l.nss[node] }

// cut silences a node's link without touching its carrier: the bridge port
// leaves the bridge, so frames go nowhere in either direction. This is a
// crashed or isolated box as its peer sees it.
func (l *lab) cut(node string) {
	l.Run("ip", "-n", l.ns("lan"), "link", "set", "dev", "port-"+node, "nomaster")
}

func (l *lab) heal(node string) {
	l.Run("ip", "-n", l.ns("lan"), "link", "set", "dev", "port-"+node, "master", "br0")
}

// hasVIP reports whether node holds addr on any interface.
func (l *lab) hasVIP(node, addr string) bool {
	out := l.Run("ip", "-n", l.ns(node), "-4", "-o", "addr", "show")
	return strings.Contains(out, " "+addr+"/")
}

// vipOnlyOn says where the VIP is unless node ("a" or "b") alone holds it.
func (l *lab) vipOnlyOn(node string) error {
	other := map[string]string{"a": "b", "b": "a"}[node]
	if l.hasVIP(node, vipAddr) && !l.hasVIP(other, vipAddr) {
		return nil
	}
	return fmt.Errorf("VIP on a: %v, on b: %v", l.hasVIP("a", vipAddr), l.hasVIP("b", vipAddr))
}

// event is one line of vrrpd's output.
type event struct {
	Event             string            `json:"event"`
	From              string            `json:"from"`
	State             string            `json:"state"`
	Reason            string            `json:"reason"`
	Peer              string            `json:"peer"`         // state: whose advert caused it; status: the pair's peer
	PeerLearned       bool              `json:"peer_learned"` // status
	Time              time.Time         `json:"time"`
	Priority          int               `json:"priority"`
	EffectivePriority int               `json:"effective_priority"`
	Master            string            `json:"master"`
	MasterInterval    string            `json:"master_interval"`
	Transitions       int               `json:"transitions"`
	Sent              int               `json:"sent"`
	Received          int               `json:"received"`
	Drops             map[string]uint64 `json:"drops"`
}

// proc is a process started in a namespace whose output lines are
// collected: a vrrpd (JSON events) or a keepalived (log lines).
type proc struct {
	t     testing.TB
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	mu    sync.Mutex
	cond  *sync.Cond
	lines []string
	done  bool
	err   strings.Builder

	exited  chan struct{} // closed once the process has been waited for
	waitErr error
}

func startProc(t testing.TB, name, ns string, args ...string) *proc {
	t.Helper()
	return startProcOpt(t, false, name, ns, args...)
}

// startProcOpt starts a process; with merge, its stderr lines are collected
// with its stdout (keepalived logs to stderr).
func startProcOpt(t testing.TB, merge bool, name, ns string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: name, exited: make(chan struct{})}
	p.cond = sync.NewCond(&p.mu)
	p.cmd = netnstest.Command(ns, args[0], args[1:]...)
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = &lockedWriter{p: p}
	if merge {
		p.cmd.Stderr = p.cmd.Stdout // the same pipe
	}
	if err := deathsig.Start(p.cmd); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.cond.Broadcast()
			p.mu.Unlock()
		}
		// Stdout is at EOF: the process is gone (Wait must follow the reads).
		err := p.cmd.Wait()
		p.mu.Lock()
		p.done = true
		p.waitErr = err
		p.cond.Broadcast()
		p.mu.Unlock()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("%s output:\n%s\n%s stderr:\n%s", name, strings.Join(p.snapshot(), "\n"), name, p.stderr())
		}
	})
	return p
}

type lockedWriter struct{ p *proc }

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.err.Write(b)
}

func (p *proc) stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err.String()
}

func (p *proc) snapshot() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.lines)
}

func (p *proc) signal(sig syscall.Signal) {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(sig)
	}
}

// kill ends the process (by its pid) and waits for it.
func (p *proc) kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		p.t.Errorf("%s: not gone 10 s after SIGKILL", p.name)
	}
}

// wait waits for the process to exit by itself.
func (p *proc) wait(timeout time.Duration) {
	p.t.Helper()
	select {
	case <-p.exited:
		p.mu.Lock()
		err := p.waitErr
		p.mu.Unlock()
		if err != nil {
			p.t.Errorf("%s exited: %v", p.name, err)
		}
	case <-time.After(timeout):
		p.t.Fatalf("%s did not exit within %v", p.name, timeout)
	}
}

// waitLine waits for the first line from index from on that matches, and
// returns its index.
func (p *proc) waitLine(from int, match func(string) bool, timeout time.Duration) (int, string) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, func() {
		p.mu.Lock()
		p.cond.Broadcast()
		p.mu.Unlock()
	})
	defer timer.Stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := from; ; {
		for ; i < len(p.lines); i++ {
			if match(p.lines[i]) {
				return i, p.lines[i]
			}
		}
		if p.done || time.Now().After(deadline) {
			return -1, ""
		}
		p.cond.Wait()
	}
}

func (p *proc) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.lines)
}

// vrrpd is a tidegate router process.
type vrrpd struct{ *proc }

func startVRRPD(t testing.TB, l *lab, node string, args ...string) *vrrpd {
	t.Helper()
	return &vrrpd{startProc(t, "vrrpd-"+node, l.ns(node), append([]string{vrrpdBin, "-interface", "eth1"}, args...)...)}
}

func parseEvent(line string) (event, bool) {
	var e event
	if err := json.Unmarshal([]byte(line), &e); err != nil {
		return e, false
	}
	return e, true
}

// waitState waits for a state change into state from line index from on.
func (d *vrrpd) waitState(from int, state string, timeout time.Duration) (int, event) {
	d.t.Helper()
	var ev event
	i, _ := d.waitLine(from, func(s string) bool {
		e, ok := parseEvent(s)
		if ok && e.Event == "state" && e.State == state {
			ev = e
			return true
		}
		return false
	}, timeout)
	if i < 0 {
		d.t.Fatalf("%s: no transition to %s within %v", d.name, state, timeout)
	}
	return i, ev
}

// state is the last state vrrpd reported.
func (d *vrrpd) state() string {
	s := "initialize"
	for _, line := range d.snapshot() {
		if e, ok := parseEvent(line); ok && e.Event == "state" {
			s = e.State
		}
	}
	return s
}

func (d *vrrpd) command(cmd string) {
	if _, err := io.WriteString(d.stdin, cmd+"\n"); err != nil {
		d.t.Fatalf("%s: %v", d.name, err)
	}
}

func (d *vrrpd) status() event {
	d.t.Helper()
	n := d.count()
	d.command("status")
	var ev event
	i, _ := d.waitLine(n, func(s string) bool {
		e, ok := parseEvent(s)
		ev = e
		return ok && e.Event == "status"
	}, 5*time.Second)
	if i < 0 {
		d.t.Fatalf("%s: no status", d.name)
	}
	return ev
}

// pinger pings the VIP from the client every 10 ms, like a host routing
// through the gateway pair.
type pinger struct {
	*proc
	interval time.Duration
}

func startPinger(t testing.TB, l *lab, addr string) *pinger {
	t.Helper()
	p := &pinger{proc: startProc(t, "ping", l.ns("c"), "ping", "-n", "-D", "-i", "0.01", "-W", "1", addr), interval: 10 * time.Millisecond}
	// Wait for the first reply so that ARP is resolved.
	if i, _ := p.waitLine(0, func(s string) bool { return strings.Contains(s, "bytes from") }, 10*time.Second); i < 0 {
		t.Fatalf("no ping reply from %s", addr)
	}
	return p
}

var (
	seqRE = regexp.MustCompile(`icmp_seq=(\d+)`)
	tsRE  = regexp.MustCompile(`^\[(\d+\.\d+)\]`)
)

// stop ends the pinger and returns how many echo requests went unanswered
// and the traffic gap: the longest time between two consecutive replies
// (0 when nothing was lost). The gap comes from ping's reply timestamps,
// not from counting sequence numbers, because ping sends less often while
// the VIP's neighbour entry has failed.
func (p *pinger) stop() (lost int, gap time.Duration) {
	p.signal(syscall.SIGINT)
	p.wait(5 * time.Second)
	var seqs []int
	var stamps []float64
	for _, line := range p.snapshot() {
		if !strings.Contains(line, "bytes from") || strings.Contains(line, "DUP!") {
			continue
		}
		m := seqRE.FindStringSubmatch(line)
		ts := tsRE.FindStringSubmatch(line)
		if m == nil || ts == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		f, _ := strconv.ParseFloat(ts[1], 64)
		seqs = append(seqs, n)
		stamps = append(stamps, f)
	}
	if len(seqs) == 0 {
		return -1, -1
	}
	sorted := slices.Clone(seqs)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	for i := 1; i < len(sorted); i++ {
		lost += sorted[i] - sorted[i-1] - 1
	}
	if lost == 0 {
		return 0, 0
	}
	var maxGap float64
	for i := 1; i < len(stamps); i++ {
		maxGap = max(maxGap, stamps[i]-stamps[i-1])
	}
	return lost, time.Duration(maxGap * float64(time.Second)).Round(time.Millisecond)
}
