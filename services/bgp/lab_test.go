package bgp

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidegate/tidegate/internal/deathsig"
	"github.com/tidegate/tidegate/internal/netnstest"
	"github.com/tidegate/tidegate/internal/testchild"
	"github.com/tidegate/tidegate/internal/testlog"
	"github.com/tidegate/tidegate/services/internal/frrtest"
)

// This file is the test lab: network namespaces joined by veth pairs, FRR
// daemons run per namespace from a temporary directory, and the speaker run
// as a child process (this test binary, re-executed) inside a namespace, so
// that its sockets and netlink calls belong to that namespace and it can be
// killed and restarted like the gateway process.

// TestMain runs the tests, or one of the children this package's tests
// start: the benchmark's feed (bench_test.go), or the speaker.
func TestMain(m *testing.M) {
	testchild.Main(m, func(value string) int {
		if spec, ok := strings.CutPrefix(value, feedChild); ok {
			return feedMain(spec)
		}
		return speakerMain(value)
	})
}

// speakerSpec is what a test hands to the speaker process: its Config
// but the hooks, which cannot leave this process (speakerMain sets its
// own), and the log level.
type speakerSpec struct {
	Config
	Debug bool
	// These shadow Config's hooks in JSON, which has no encoding for a
	// func; always nil, they are left out.
	OnAWSPaths, Logger *struct{} `json:",omitempty"`
}

// speakerMain runs a Speaker in this process and takes commands on stdin:
// master, backup, down NAME, up NAME, hold on|off, gone on|off, peervip
// on|off, peer ADDR, status. Replies go to stdout, one line each; EOF on
// stdin is a clean stop.
func speakerMain(specJSON string) int {
	var spec speakerSpec
	if err := json.Unmarshal([]byte(specJSON), &spec); err != nil {
		fmt.Fprintln(os.Stderr, "bad spec:", err)
		return 2
	}
	level := slog.LevelInfo
	if spec.Debug {
		level = slog.LevelDebug
	}
	var outMu sync.Mutex
	println := func(format string, args ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Fprintf(os.Stdout, format+"\n", args...)
	}
	cfg := spec.Config
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	cfg.OnAWSPaths = func(n int) { println("AWS %d", n) }
	s, err := New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(MemoryLimit) // as the gateway does
	}
	if f := os.Getenv("TIDEGATE_BGP_CPUPROFILE"); f != "" {
		out, err := os.Create(f)
		if err == nil && pprof.StartCPUProfile(out) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			switch {
			case len(f) == 1 && f[0] == "master":
				s.SetMaster(true)
			case len(f) == 1 && f[0] == "backup":
				s.SetMaster(false)
			case len(f) == 2 && f[0] == "down":
				s.TunnelDown(f[1])
			case len(f) == 2 && f[0] == "up":
				s.TunnelUp(f[1])
			case len(f) == 2 && f[0] == "peervip":
				s.SetPeerVIP(f[1] == "on")
			case len(f) == 2 && f[0] == "hold":
				s.HoldReturnPath(f[1] == "on")
			case len(f) == 2 && f[0] == "gone":
				s.PeerGone(f[1] == "on")
			case len(f) == 2 && f[0] == "peer":
				a, err := netip.ParseAddr(f[1])
				if err == nil {
					err = s.SetIBGPPeer(a)
				}
				if err != nil {
					fmt.Fprintln(os.Stderr, "peer:", err)
				}
			case len(f) == 1 && f[0] == "memstats":
				// The benchmark's view of the heap after convergence;
				// the CPU profile covers convergence only.
				pprof.StopCPUProfile()
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				inuse, idle, released, alloc, sys, gcs := m.HeapInuse>>20, m.HeapIdle>>20, m.HeapReleased>>20, m.HeapAlloc>>20, m.Sys>>20, m.NumGC
				runtime.GC()
				runtime.ReadMemStats(&m)
				fmt.Fprintf(os.Stderr, "MEMSTATS heap_inuse=%d heap_idle=%d heap_released=%d heap_alloc=%d sys=%d num_gc=%d live=%d\n",
					inuse, idle, released, alloc, sys, gcs, m.HeapAlloc>>20)
				if f := os.Getenv("TIDEGATE_BGP_HEAPPROFILE"); f != "" {
					if out, err := os.Create(f); err == nil {
						pprof.WriteHeapProfile(out)
						out.Close()
					}
				}
			case len(f) == 1 && f[0] == "status":
				b, _ := json.Marshal(s.Status())
				println("STATUS %s", b)
			}
		}
		cancel()
	}()
	err = s.Run(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "run:", err)
		return 1
	}
	return 0
}

// lab is the package's netnstest.Lab: namespaces named tgbgp-<pid>-<name>.
type lab struct {
	*netnstest.Lab
	t *testing.T
}

func newLab(t *testing.T) *lab {
	t.Helper()
	return &lab{Lab: netnstest.NewLab(t, "bgp"), t: t}
}

// kernelRoute is one route of `ip -j route`.
type kernelRoute struct {
	Dst      string `json:"dst"`
	Gateway  string `json:"gateway"`
	Dev      string `json:"dev"`
	Metric   int    `json:"metric"`
	Protocol string `json:"protocol"`
	Nexthops []struct {
		Gateway string `json:"gateway"`
		Dev     string `json:"dev"`
	} `json:"nexthops"`
}

// via is the route's next hops as "gw@dev,gw@dev", sorted as the kernel
// keeps them.
func (r kernelRoute) via() string {
	if len(r.Nexthops) == 0 {
		return r.Gateway + "@" + r.Dev
	}
	var s []string
	for _, n := range r.Nexthops {
		s = append(s, n.Gateway+"@"+n.Dev)
	}
	return strings.Join(s, ",")
}

// routes lists the namespace's routes with protocol bgp.
func (l *lab) routes(ns string) []kernelRoute {
	l.t.Helper()
	var rs []kernelRoute
	out := l.Run("ip", "-n", ns, "-j", "route", "show", "proto", "bgp")
	if err := json.Unmarshal([]byte(out), &rs); err != nil {
		l.t.Fatalf("parse routes %q: %v", out, err)
	}
	return rs
}

// speakerProc is the speaker running as a child process in a namespace.
type speakerProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	status chan Status
	done   chan struct{}
	log    *os.File

	mu  sync.Mutex
	aws []int // OnAWSPaths values seen
}

func startSpeaker(t *testing.T, ns string, spec speakerSpec) *speakerProc {
	t.Helper()
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := netnstest.Command(ns, exe)
	cmd.Env = append(os.Environ(), testchild.Env(string(b)))
	if gc := os.Getenv("TIDEGATE_BGP_SPEAKER_GOGC"); gc != "" {
		cmd.Env = append(cmd.Env, "GOGC="+gc)
	}
	if lim := os.Getenv("TIDEGATE_BGP_SPEAKER_GOMEMLIMIT"); lim != "" {
		cmd.Env = append(cmd.Env, "GOMEMLIMIT="+lim)
	}
	logf, err := os.CreateTemp("", "tgbgp-speaker-*.log")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(logf.Name()) })
	cmd.Stderr = logf
	p := &speakerProc{t: t, cmd: cmd, status: make(chan Status, 1), done: make(chan struct{}), log: logf}
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := deathsig.Start(cmd); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "STATUS "):
				var st Status
				if json.Unmarshal([]byte(line[7:]), &st) == nil {
					p.status <- st
				}
			case strings.HasPrefix(line, "AWS "):
				var n int
				fmt.Sscan(line[4:], &n)
				p.mu.Lock()
				p.aws = append(p.aws, n)
				p.mu.Unlock()
			}
		}
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("speaker log:\n%s", testlog.Tail(b, 80))
		}
	})
	return p
}

func (p *speakerProc) send(cmd string) {
	p.t.Helper()
	if _, err := fmt.Fprintln(p.stdin, cmd); err != nil {
		p.t.Fatalf("speaker command %q: %v", cmd, err)
	}
}

func (p *speakerProc) Status() Status {
	p.t.Helper()
	p.send("status")
	select {
	case st := <-p.status:
		return st
	case <-p.done:
		p.t.Fatal("speaker exited")
	case <-time.After(10 * time.Second):
		p.t.Fatal("speaker status: no answer")
	}
	return Status{}
}

// stop is a clean stop: EOF on stdin cancels Run.
func (p *speakerProc) stop() {
	p.t.Helper()
	p.stdin.Close()
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.t.Fatal("speaker did not stop")
	}

}

// kill is a crash: SIGKILL, nothing cleaned up.
func (p *speakerProc) kill() {
	p.cmd.Process.Kill()
	<-p.done
}

func (p *speakerProc) lastAWS() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.aws) == 0 {
		return -1
	}
	return p.aws[len(p.aws)-1]
}

// established waits until every peer of the speaker is established.
func (p *speakerProc) established(timeout time.Duration, names ...string) {
	p.t.Helper()
	frrtest.Eventually(p.t, timeout, "sessions established", func() error {
		st := p.Status()
		for _, ps := range st.Peers {
			for _, n := range names {
				if ps.Name == n && ps.State != "established" {
					return fmt.Errorf("%s is %s", n, ps.State)
				}
			}
		}
		return nil
	})
}
