package bgp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/server"
	"github.com/tidegate/tidegate/internal/deathsig"
	"github.com/tidegate/tidegate/internal/netnstest"
	"github.com/tidegate/tidegate/internal/testchild"
	"github.com/tidegate/tidegate/internal/testgate"
	"github.com/tidegate/tidegate/services/internal/frrtest"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/types/known/anypb"
)

// The benchmark: a GoBGP announcer (gobgpd's code, run as a process in its
// own namespace) holds N prefixes and opens its session to our speaker,
// then, once our kernel has them all, to FRR bgpd+zebra (one after the
// other, so that neither competes with the other for the two CPUs); we
// measure, for each, the time from its session coming up until all N
// routes are in its namespace's kernel, and the memory of the receiving
// processes. Run with
//
//	TIDEGATE_BGP_BENCH=1 go test ./services/bgp/ -run TestBenchmarkVsFRR -v -timeout 20m
//
// The prefixes are /32s from 198.18.0.0/15, the range RFC 2544 sets aside
// for benchmarks; no packet is ever sent to them.

// feedChild begins the testchild value that makes this test binary the
// benchmark's feed; the feed's JSON specification follows it.
const feedChild = "feed "

type feedSpec struct {
	N     int
	Peers []netip.Addr // local address 169.254.x.1 of each session is derived by the kernel
}

// feedMain announces N prefixes to the peers, whose sessions are held down
// until "enable" arrives on stdin; it prints "UP addr unixnano" when a
// session is established.
func feedMain(specJSON string) int {
	var spec feedSpec
	if err := json.Unmarshal([]byte(specJSON), &spec); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	bs := server.NewBgpServer(server.LoggerOption(newGoBGPLogger(discardLogger())))
	go bs.Serve()
	ctx := context.Background()
	if err := bs.StartBgp(ctx, &api.StartBgpRequest{Global: &api.Global{Asn: 64512, RouterId: "169.254.30.1", ListenPort: 179}}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var mu sync.Mutex
	bs.WatchEvent(ctx, &api.WatchEventRequest{Peer: &api.WatchEventRequest_Peer{}}, func(r *api.WatchEventResponse) {
		if p := r.GetPeer(); p != nil && p.Type == api.WatchEventResponse_PeerEvent_STATE &&
			p.Peer.GetState().GetSessionState() == api.PeerState_ESTABLISHED {
			mu.Lock()
			fmt.Printf("UP %s %d\n", p.Peer.GetState().GetNeighborAddress(), time.Now().UnixNano())
			mu.Unlock()
		}
	})
	origin, _ := anypb.New(&api.OriginAttribute{Origin: 0})
	nh, _ := anypb.New(&api.NextHopAttribute{NextHop: "0.0.0.0"})
	family := &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}
	base := netip.MustParseAddr("198.18.0.0").As4()
	for i := range spec.N {
		a := netip.AddrFrom4([4]byte{base[0], base[1] + byte(i>>16), byte(i >> 8), byte(i)})
		nlri, _ := anypb.New(&api.IPAddressPrefix{Prefix: a.String(), PrefixLen: 32})
		if _, err := bs.AddPath(ctx, &api.AddPathRequest{Path: &api.Path{Family: family, Nlri: nlri, Pattrs: []*anypb.Any{origin, nh}}}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	for _, p := range spec.Peers {
		err := bs.AddPeer(ctx, &api.AddPeerRequest{Peer: &api.Peer{
			Conf:   &api.PeerConf{NeighborAddress: p.String(), PeerAsn: 65000, AdminDown: true},
			Timers: &api.Timers{Config: &api.TimersConfig{HoldTime: 90, KeepaliveInterval: 30, ConnectRetry: 1}},
			// Only the receiver connects: with both sides connecting, a
			// collision could keep the session from ever coming up.
			Transport: &api.Transport{PassiveMode: true},
			AfiSafis:  []*api.AfiSafi{{Config: &api.AfiSafiConfig{Family: family, Enabled: true}}},
		}})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	fmt.Println("READY")
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if addr, ok := strings.CutPrefix(sc.Text(), "enable "); ok {
			bs.EnablePeer(ctx, &api.EnablePeerRequest{Address: addr})
		}
	}
	return 0
}

type benchRow struct {
	N                 int
	OursTime, FRRTime time.Duration
	OursRSS, FRRRSS   int64 // KiB
	BgpdRSS, ZebraRSS int64
	OursPeak, FRRPeak int64
	// CPU time (user + system) the receivers used from enabling the
	// session to convergence: far less sensitive than the wall time to
	// other work on a shared machine.
	OursCPU, FRRCPU time.Duration
}

func TestBenchmarkVsFRR(t *testing.T) {
	testgate.OptIn(t, "TIDEGATE_BGP_BENCH", "a benchmark of a few minutes")
	sizes := []int{1000, 10000, 100000}
	if s := os.Getenv("TIDEGATE_BGP_BENCH_SIZES"); s != "" {
		sizes = nil
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(f)
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, n)
		}
	}
	var rows []benchRow
	for _, n := range sizes {
		t.Run(strconv.Itoa(n), func(t *testing.T) { rows = append(rows, benchOnce(t, n)) })
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%9s | %12s %12s | %12s %12s | %14s %14s %10s %10s\n", "prefixes", "tidegate", "FRR", "tidegate CPU", "FRR CPU", "tidegate RSS", "FRR RSS", "bgpd", "zebra")
	for _, r := range rows {
		fmt.Fprintf(&b, "%9d | %12v %12v | %12v %12v | %11.1f MiB %10.1f MiB %6.1f MiB %6.1f MiB\n", r.N,
			r.OursTime.Round(time.Millisecond), r.FRRTime.Round(time.Millisecond), r.OursCPU, r.FRRCPU,
			float64(r.OursRSS)/1024, float64(r.FRRRSS)/1024, float64(r.BgpdRSS)/1024, float64(r.ZebraRSS)/1024)
	}
	fmt.Fprintf(&b, "time: from the session's establishment to the last route in the kernel; CPU: user+system of the receiving processes over that; RSS after convergence (%d CPUs)\n", runtime.NumCPU())
	t.Log(b.String())
}

func benchOnce(t *testing.T, n int) benchRow {
	l := newLab(t)
	feed, gw, fr := l.Netns("feed"), l.Netns("gw"), l.Netns("frr")
	l.Wire(feed, "f1", "169.254.30.1/30", gw, "t1", "169.254.30.2/30")
	l.Wire(feed, "f2", "169.254.31.1/30", fr, "t1", "169.254.31.2/30")

	// The feed, preloaded and held down.
	b, _ := json.Marshal(feedSpec{N: n, Peers: []netip.Addr{netip.MustParseAddr("169.254.30.2"), netip.MustParseAddr("169.254.31.2")}})
	exe, _ := os.Executable()
	cmd := netnstest.Command(feed, exe) // as startSpeaker starts its child
	cmd.Env = append(os.Environ(), testchild.Env(feedChild+string(b)))
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := deathsig.Start(cmd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	up := make(chan [2]string, 2)
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			switch {
			case len(f) == 1 && f[0] == "READY":
				close(ready)
			case len(f) == 3 && f[0] == "UP":
				up <- [2]string{f[1], f[2]}
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(5 * time.Minute):
		t.Fatal("feed not ready")
	}

	// The receivers: our speaker, and FRR bgpd + zebra.
	sp := startSpeaker(t, gw, speakerSpec{Config: Config{
		RouterID: netip.MustParseAddr("10.0.1.2"), ASN: 65000,
		Advertise: []netip.Prefix{netip.MustParsePrefix(vlan)},
		Tunnels:   []Tunnel{{Name: "t1", Local: netip.MustParseAddr("169.254.30.2"), Remote: netip.MustParseAddr("169.254.30.1"), RemoteASN: 64512}},
		Master:    true, StartupGrace: time.Minute, ReconcileInterval: time.Hour,
	}})
	f := frrtest.Start(t, fr, "frr", `router bgp 65000
 bgp router-id 10.0.1.3
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor 169.254.31.1 remote-as 64512
 neighbor 169.254.31.1 timers connect 1
 address-family ipv4 unicast
  network 10.0.1.0/24
 exit-address-family
`)
	time.Sleep(time.Second) // both listening

	upAt := map[string]time.Time{}
	doneAt := map[string]time.Time{}
	cpu := map[string]time.Duration{}
	pids := map[string][]int{"ours": {sp.cmd.Process.Pid}, "frr": {f.Pid("bgpd"), f.Pid("zebra")}}
	for _, who := range []struct{ name, ns, addr string }{{"ours", gw, "169.254.30.2"}, {"frr", fr, "169.254.31.2"}} {
		c := newRouteCounter(t, who.ns)
		cpu[who.name] = -procCPU(t, pids[who.name]...)
		fmt.Fprintln(stdin, "enable "+who.addr)
		// Convergence takes seconds: a stuck run fails (with the
		// speaker's log) instead of hanging.
		deadline := time.Now().Add(2 * time.Minute)
		for doneAt[who.name].IsZero() {
			if time.Now().After(deadline) {
				t.Fatalf("%s not converged: %d/%d routes, session up: %v", who.name, c.count(), n, !upAt[who.name].IsZero())
			}
			select {
			case u := <-up:
				ns, _ := strconv.ParseInt(u[1], 10, 64)
				if u[0] == who.addr {
					upAt[who.name] = time.Unix(0, ns)
				}
			default:
			}
			if !upAt[who.name].IsZero() && c.count() >= n {
				doneAt[who.name] = time.Now()
				cpu[who.name] += procCPU(t, pids[who.name]...)
			}
			time.Sleep(10 * time.Millisecond)
		}
		c.stop()
	}
	time.Sleep(2 * time.Second) // let memory settle
	row := benchRow{N: n,
		OursTime: doneAt["ours"].Sub(upAt["ours"]),
		FRRTime:  doneAt["frr"].Sub(upAt["frr"]),
		OursCPU:  cpu["ours"],
		FRRCPU:   cpu["frr"],
	}
	row.OursRSS, row.OursPeak = procMem(t, sp.cmd.Process.Pid)
	var bgpdPeak, zebraPeak int64
	row.BgpdRSS, bgpdPeak = procMem(t, f.Pid("bgpd"))
	row.ZebraRSS, zebraPeak = procMem(t, f.Pid("zebra"))
	row.FRRRSS, row.FRRPeak = row.BgpdRSS+row.ZebraRSS, bgpdPeak+zebraPeak
	// The Go heap behind our RSS, read after it (ReadMemStats stops the
	// world, but does not change the RSS).
	sp.send("memstats")
	time.Sleep(200 * time.Millisecond)
	if b, err := os.ReadFile(sp.log.Name()); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "MEMSTATS ") {
				t.Logf("%d prefixes: peak RSS ours %d KiB, FRR %d KiB; our Go heap in MiB: %s", n, row.OursPeak, row.FRRPeak, strings.TrimPrefix(line, "MEMSTATS "))
			}
		}
	}
	t.Logf("%d prefixes: ours %v cpu %v %d KiB, FRR %v cpu %v %d KiB (bgpd %d + zebra %d)", n, row.OursTime, row.OursCPU, row.OursRSS,
		row.FRRTime, row.FRRCPU, row.FRRRSS, row.BgpdRSS, row.ZebraRSS)
	stdin.Close()
	sp.stop()
	if dir := os.Getenv("TIDEGATE_BGP_BENCH_LOGS"); dir != "" {
		// The speaker's log (with GODEBUG=gctrace=1, its GC cycles).
		b, _ := os.ReadFile(sp.log.Name())
		os.WriteFile(fmt.Sprintf("%s/speaker-%d.log", dir, n), b, 0o644)
	}
	return row
}

// routeCounter counts a namespace's protocol-bgp IPv4 routes from netlink
// notifications, which is far cheaper than dumping 100k routes each poll.
type routeCounter struct {
	mu   sync.Mutex
	m    map[netip.Prefix]bool
	done chan struct{}
	once sync.Once
}

func (c *routeCounter) stop() { c.once.Do(func() { close(c.done) }) }

func newRouteCounter(t *testing.T, ns string) *routeCounter {
	h, err := netns.GetFromName(ns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	ch := make(chan netlink.RouteUpdate, 4096)
	c := &routeCounter{m: make(map[netip.Prefix]bool), done: make(chan struct{})}
	t.Cleanup(c.stop)
	err = netlink.RouteSubscribeWithOptions(ch, c.done, netlink.RouteSubscribeOptions{
		Namespace: &h,
		// Forced past rmem_max: on a loaded machine 100k notifications
		// overflow a smaller buffer (ENOBUFS) and are lost.
		ReceiveBufferSize:      256 << 20,
		ReceiveBufferForceSize: true,
		ErrorCallback: func(err error) {
			select {
			case <-c.done: // closing
			default:
				t.Errorf("route monitor %s: %v", ns, err)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for u := range ch {
			if u.Protocol != unix.RTPROT_BGP || u.Dst == nil || u.Table != unix.RT_TABLE_MAIN {
				continue
			}
			p, ok := ipNetToPrefix(u.Dst)
			if !ok {
				continue
			}
			c.mu.Lock()
			if u.Type == unix.RTM_NEWROUTE {
				c.m[p] = true
			} else if u.Type == unix.RTM_DELROUTE {
				delete(c.m, p)
			}
			c.mu.Unlock()
		}
	}()
	return c
}

func (c *routeCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// procMem returns a process's VmRSS and VmHWM in KiB.
func procMem(t *testing.T, pid int) (rss, peak int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("memory of %d: %v", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && (f[0] == "VmRSS:" || f[0] == "VmHWM:") {
			v, _ := strconv.ParseInt(f[1], 10, 64)
			if f[0] == "VmRSS:" {
				rss = v
			} else {
				peak = v
			}
		}
	}
	return rss, peak
}

// procCPU returns the user + system time the processes have used, from
// /proc/PID/stat (fields 14 and 15, in clock ticks of 1/100 s on Linux).
func procCPU(t *testing.T, pids ...int) time.Duration {
	var ticks int64
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			t.Fatalf("cpu of %d: %v", pid, err)
		}
		// The command name (field 2) may hold spaces: count from its ")".
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		for _, i := range []int{11, 12} { // utime, stime: fields 14, 15
			v, _ := strconv.ParseInt(f[i], 10, 64)
			ticks += v
		}
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
