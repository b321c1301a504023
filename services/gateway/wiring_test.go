package gateway

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tidegate/tidegate/configs"
	"github.com/tidegate/tidegate/services/ipsec"
	"github.com/tidegate/tidegate/services/vrrp"
)

func TestAWSWeight(t *testing.T) {
	tests := []struct {
		prios  [2]uint8
		weight int
	}{
		{[2]uint8{100, 99}, -10}, // the seed: 100 -> 90, below 99
		{[2]uint8{99, 100}, -10},
		{[2]uint8{110, 100}, -11},
		{[2]uint8{200, 100}, -101},
		{[2]uint8{254, 1}, -254},
	}
	for _, tt := range tests {
		site := &configs.Site{Gateways: []configs.Gateway{{Priority: tt.prios[0]}, {Priority: tt.prios[1]}}}
		w := awsWeight(site)
		if w != tt.weight {
			t.Errorf("%v: weight %d, want %d", tt.prios, w, tt.weight)
		}
		hi, lo := int(max(tt.prios[0], tt.prios[1])), int(min(tt.prios[0], tt.prios[1]))
		if lo > 1 && hi+w >= lo {
			t.Errorf("%v: an unhealthy master (%d) would not drop below its peer (%d)", tt.prios, hi+w, lo)
		}
	}
}

func TestHealth(t *testing.T) {
	tests := []struct {
		name    string
		tunnels map[string]bool
		everUp  bool
		paths   int
		healthy bool
	}{
		{"boot: nothing yet", map[string]bool{"a": false, "b": false}, false, 0, false},
		{"paths, tunnels never reported up (host test)", map[string]bool{"a": false}, false, 1, true},
		{"tunnel and paths", map[string]bool{"a": true, "b": false}, true, 3, true},
		{"tunnel up, BGP not yet", map[string]bool{"a": true}, true, 0, false},
		{"all tunnels went down, BGP not told yet", map[string]bool{"a": false, "b": false}, true, 2, false},
	}
	for _, tt := range tests {
		h := health{tunnels: tt.tunnels, everUp: tt.everUp, awsPaths: tt.paths}
		if h.healthy() != tt.healthy {
			t.Errorf("%s: healthy %v, want %v", tt.name, h.healthy(), tt.healthy)
		}
	}
}

// recorder is a fake bgp and vrrp that records the calls as strings.
type recorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *recorder) add(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, fmt.Sprintf(format, args...))
}
func (r *recorder) SetMaster(m bool)         { r.add("master %v", m) }
func (r *recorder) SetPeerVIP(m bool)        { r.add("peer vip %v", m) }
func (r *recorder) TunnelUp(n string)        { r.add("up %s", n) }
func (r *recorder) TunnelDown(n string)      { r.add("down %s", n) }
func (r *recorder) SetTrack(n string, w int) { r.add("track %s %d", n, w) }

// waitFor waits until the recorded calls are want.
func (r *recorder) waitFor(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		r.mu.Lock()
		got := slices.Clone(r.calls)
		r.mu.Unlock()
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("calls:\n got %q\nwant %q", got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWiring(t *testing.T) {
	rec := &recorder{}
	w := newWiring([]configs.Tunnel{{Name: "t1"}, {Name: "t2"}}, -10, discard)
	w.bgp, w.vrrp = rec, []vrrpControl{rec}
	tunnels := make(chan ipsec.TunnelEvent)
	roles := make(chan vrrp.StateChange, 4)

	// Before the services run: no AWS path yet, so the track is set.
	w.start()
	rec.waitFor(t, "track aws -10")
	runWiring(t, w, tunnels, roles, nil)

	want := play(t, rec, []string{"track aws -10"}, []wiringStep{
		{"startup as backup: bgp already prepends", func() {
			roles <- vrrp.StateChange{From: vrrp.StateInitialize, State: vrrp.StateBackup, Reason: vrrp.ReasonStartup}
		}, nil},
		{"bgp learns AWS paths", func() { w.onAWSPaths(1) }, []string{"track aws 0"}},
		{"same count again", func() { w.onAWSPaths(1) }, nil},
		{"master", func() {
			roles <- vrrp.StateChange{From: vrrp.StateBackup, State: vrrp.StateMaster, Reason: vrrp.ReasonMasterDown}
		}, []string{"master true"}},
		{"tunnel up", func() { tunnels <- ipsec.TunnelEvent{Tunnel: "t1", Up: true} }, []string{"up t1"}},
		{"tunnel down: bgp first, then the track (before bgp's count)", func() {
			tunnels <- ipsec.TunnelEvent{Tunnel: "t1", Up: false}
		}, []string{"down t1", "track aws -10"}},
		{"bgp's count follows", func() { w.onAWSPaths(0) }, nil},
		{"unknown tunnel: bgp is told, health unchanged", func() {
			tunnels <- ipsec.TunnelEvent{Tunnel: "zz", Up: true}
		}, []string{"up zz"}},
		{"the other tunnel and its paths", func() {
			tunnels <- ipsec.TunnelEvent{Tunnel: "t2", Up: true}
			w.onAWSPaths(2)
		}, []string{"up t2", "track aws 0"}},
		{"planned handover", func() {
			roles <- vrrp.StateChange{From: vrrp.StateMaster, State: vrrp.StateInitialize, Reason: vrrp.ReasonResigned}
		}, []string{"master false"}},
	})
	h := w.snapshot()
	if !h.Healthy || h.AWSPaths != 2 || h.TunnelsUp != 1 || h.VRRPWeight != 0 || h.VRRPMaster {
		t.Errorf("snapshot %+v", h)
	}

	// ipsec's channel closes when it stops; the wiring carries on until
	// its context ends.
	close(tunnels)
	w.onAWSPaths(0)
	rec.waitFor(t, append(want, "track aws -10")...)
}

// runWiring runs w.run on its own goroutine until the test ends.
func runWiring(t *testing.T, w *wiring, tunnels <-chan ipsec.TunnelEvent, own, peer <-chan vrrp.StateChange) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.run(ctx, tunnels, own, peer)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// wiringStep is one step of a wiring test: what happens, and the calls
// it adds.
type wiringStep struct {
	name string
	do   func()
	want []string
}

// play runs steps in order, each once the calls before it are want and
// the earlier steps', and returns all the calls.
func play(t *testing.T, rec *recorder, want []string, steps []wiringStep) []string {
	t.Helper()
	for _, s := range steps {
		s.do()
		want = append(want, s.want...)
		rec.waitFor(t, want...)
	}
	return want
}

// rpRecorder is the recorder with the failover's side of BGP.
type rpRecorder struct {
	*recorder
	back bool
}

func (r *rpRecorder) HoldReturnPath(on bool) { r.add("hold %v", on) }
func (r *rpRecorder) PeerGone(gone bool)     { r.add("gone %v", gone) }
func (r *rpRecorder) PeerBack() bool         { return r.back }

// TestWiringActiveActive: in active-active our own virtual IP's role only
// moves the prepend of our half; taking over the peer's virtual IP by its
// master-down timer is the failover (its half unprepended and the
// return path held once the VLAN shows traffic), and the peer taking its
// virtual IP back releases it. The AWS track applies to both routers.
func TestWiringActiveActive(t *testing.T) {
	rec := &rpRecorder{recorder: &recorder{}}
	own, theirs := &recorder{}, &recorder{}
	rx := &fakeRx{n: 1000}
	w := newWiring([]configs.Tunnel{{Name: "t1"}}, -10, discard)
	w.bgp, w.vrrp, w.activeActive = rec, []vrrpControl{own, theirs}, true
	w.fo = &failover{bgp: rec, rx: rx.read}
	ownEvents, peerEvents := make(chan vrrp.StateChange, 4), make(chan vrrp.StateChange, 4)
	w.start()
	own.waitFor(t, "track aws -10")
	theirs.waitFor(t, "track aws -10")
	runWiring(t, w, nil, ownEvents, peerEvents)
	w.onAWSPaths(1)
	own.waitFor(t, "track aws -10", "track aws 0")
	theirs.waitFor(t, "track aws -10", "track aws 0")

	play(t, rec.recorder, nil, []wiringStep{
		{"boot: our own virtual IP by master-down is no failover", func() {
			ownEvents <- vrrp.StateChange{From: vrrp.StateBackup, State: vrrp.StateMaster, Reason: vrrp.ReasonMasterDown}
		}, []string{"master true"}},
		{"backup of the peer's", func() {
			peerEvents <- vrrp.StateChange{From: vrrp.StateInitialize, State: vrrp.StateBackup, Reason: vrrp.ReasonStartup}
		}, nil},
		{"the peer dies: its paths ignored, its half held back until VLAN traffic", func() {
			peerEvents <- vrrp.StateChange{From: vrrp.StateBackup, State: vrrp.StateMaster, Reason: vrrp.ReasonMasterDown, Peer: netip.MustParseAddr("10.0.1.3")}
		}, []string{"gone true"}},
		{"VLAN traffic: hold, and the peer's half unprepended", func() { rx.n += evidenceFrames }, []string{"hold true", "peer vip true"}},
		{"the peer takes its virtual IP back: released", func() {
			peerEvents <- vrrp.StateChange{From: vrrp.StateMaster, State: vrrp.StateBackup, Reason: vrrp.ReasonHigherPriority}
		}, []string{"peer vip false", "hold false", "gone false"}},
		{"a planned handover of the peer's: no failover", func() {
			peerEvents <- vrrp.StateChange{From: vrrp.StateBackup, State: vrrp.StateMaster, Reason: vrrp.ReasonPriorityZero}
		}, []string{"peer vip true"}},
	})
}

// onAWSPaths is called from bgp's goroutine and must never block, even
// when the wiring is not reading.
func TestOnAWSPathsNeverBlocks(t *testing.T) {
	w := newWiring(nil, -10, discard)
	done := make(chan struct{})
	go func() {
		for i := range 1000 {
			w.onAWSPaths(i)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("onAWSPaths blocked")
	}
}

// The wiring ticks quickly only while something waits on a quick tick: the
// VLAN evidence after a takeover, or the first iBGP peer address.
func TestTickPeriod(t *testing.T) {
	learnedPeer := netip.MustParseAddr("10.0.1.3")
	for _, tc := range []struct {
		name  string
		fo    *failover
		learn *peerLearner
		want  time.Duration
	}{
		{"not wired yet", nil, nil, tickIdle},
		{"no takeover", &failover{}, nil, tickIdle},
		{"takeover waiting for VLAN traffic", &failover{pending: true}, nil, tickWatching},
		{"holding the return path", &failover{holding: true}, nil, tickIdle},
		{"iBGP peer not learned yet", &failover{}, &peerLearner{}, tickWatching},
		{"iBGP peer learned", &failover{}, &peerLearner{learned: learnedPeer}, tickIdle},
		{"learned, takeover waiting", &failover{pending: true}, &peerLearner{learned: learnedPeer}, tickWatching},
	} {
		w := newWiring(nil, -10, discard)
		w.fo, w.learn = tc.fo, tc.learn
		if got := w.tickPeriod(); got != tc.want {
			t.Errorf("%s: tick %v, want %v", tc.name, got, tc.want)
		}
	}
}
