package linode

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidegate/tidegate/scripts/linode/fakelinode"
)

// fakeHealth stands in for the gateway status API client. It derives each
// gateway's state from the fake Linode API: a gateway answers only while its
// instance runs, is healthy from its second answer on (tunnels and BGP take
// a moment), and is VRRP master when no running gateway has a higher
// priority (preemption, as the site configures it). Every answer goes into
// the fake API's call log, so tests see one timeline.
type fakeHealth struct {
	f        *fakelinode.Server
	priority map[string]int // label -> VRRP priority
	polls    map[string]int // answers since the instance last started running
	// neverHealthy names a gateway that comes up from its reimage but never
	// gets healthy; sick one that is unhealthy all along; noTakeover a
	// backup that does not become master.
	neverHealthy, sick, noTakeover string
}

func newFakeHealth(f *fakelinode.Server) *fakeHealth {
	return &fakeHealth{f: f, priority: map[string]int{"vpn-gw-1": 100, "vpn-gw-2": 99}, polls: map[string]int{}}
}

func (h *fakeHealth) Health(ctx context.Context, addr string) (string, bool, error) {
	if err := ctx.Err(); err != nil {
		return "", false, err
	}
	var self *fakelinode.Instance
	running := map[string]bool{}
	for _, in := range h.f.Instances() {
		if slices.Contains(in.IPv4, addr) {
			self = &in
		}
		if in.Status == "running" {
			running[in.Label] = true
		}
	}
	if self == nil {
		return "", false, fmt.Errorf("no instance at %s", addr)
	}
	if !running[self.Label] {
		h.polls[self.Label] = 0
		h.f.Note("HEALTH " + self.Label + " down")
		return "", false, fmt.Errorf("dial tcp %s: connection refused", addr)
	}
	h.polls[self.Label]++
	role := RoleMaster
	for l := range running {
		if l != self.Label && h.priority[l] > h.priority[self.Label] {
			role = RoleBackup
		}
	}
	if self.Label == h.noTakeover {
		role = RoleBackup
	}
	healthy := h.polls[self.Label] >= 2 && self.Label != h.sick && !(self.Label == h.neverHealthy && self.Rebuilds > 0)
	h.f.Note(fmt.Sprintf("HEALTH %s %s healthy=%v", self.Label, role, healthy))
	return role, healthy, nil
}

// deployedPair deploys the seed's pair on a fake API and returns the pair
// for the next image.
func deployedPair(t *testing.T) (*fakelinode.Server, *Client, [2]Gateway) {
	t.Helper()
	f := newFakeAPI(t, fakelinode.Config{})
	c := newTestClient(t, f, nil)
	for _, g := range seedPair(t, f.AddImage("tidegate-1")) {
		if _, err := c.Deploy(ctx(t), g); err != nil {
			t.Fatal(err)
		}
	}
	return f, c, seedPair(t, f.AddImage("tidegate-2"))
}

// timeline returns the fake's log without reads of the API, with instance
// paths replaced by labels.
func timeline(f *fakelinode.Server) []string {
	ids := map[string]string{}
	for _, l := range []string{"vpn-gw-1", "vpn-gw-2"} {
		if in := instance(f, l); in != nil {
			ids["/v4/linode/instances/"+strconv.Itoa(in.ID)] = l
		}
	}
	var out []string
	for _, c := range f.Calls() {
		if strings.HasPrefix(c, "GET ") {
			continue
		}
		for p, l := range ids {
			c = strings.Replace(c, p, " "+l, 1)
		}
		out = append(out, configID.ReplaceAllString(c, "/configs/N"))
	}
	return out
}

// index returns the position of the first entry containing s after from.
func index(log []string, from int, s string) int {
	for i := from; i < len(log); i++ {
		if strings.Contains(log[i], s) {
			return i
		}
	}
	return -1
}

func TestRollingReimage(t *testing.T) {
	f, c, pair := deployedPair(t)
	h := newFakeHealth(f)
	h.polls["vpn-gw-1"], h.polls["vpn-gw-2"] = 1, 1 // up for a while
	if err := c.RollingReimage(ctx(t), pair, h, RollingOptions{HealthTimeout: 5 * time.Second, HandoverTimeout: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	log := timeline(f)
	// The order that keeps the site up.
	steps := []string{
		"HEALTH vpn-gw-1 master healthy=true", // checked before anything
		"HEALTH vpn-gw-2 backup healthy=true", //
		"POST  vpn-gw-2/rebuild",              // the backup first
		"POST  vpn-gw-2/boot",                 //
		"HEALTH vpn-gw-2 backup healthy=true", // back and healthy
		"POST  vpn-gw-1/shutdown",             // planned handover
		"HEALTH vpn-gw-2 master healthy=true", // took over
		"POST  vpn-gw-1/rebuild",              // then the old master
		"POST  vpn-gw-1/boot",                 //
		"HEALTH vpn-gw-1 master healthy=true", // and it is back (preempting)
	}
	at := 0
	for _, s := range steps {
		i := index(log, at, s)
		if i < 0 {
			t.Fatalf("no %q after step %d in:\n%s", s, at, strings.Join(log, "\n"))
		}
		at = i + 1
	}
	seed, _ := os.ReadFile(seedPath)
	for i, l := range []string{"vpn-gw-1", "vpn-gw-2"} {
		in := instance(f, l)
		if in.Rebuilds != 1 {
			t.Errorf("%s rebuilt %d times", l, in.Rebuilds)
		}
		checkGateway(t, in, pair[i].Image, seed, "tidegate-vlan", []string{"10.0.1.2/24", "10.0.1.3/24"}[i])
	}
}

func TestRollingReimageBackupFirst(t *testing.T) {
	// vpn-gw-2 is master (say gw-1 was reimaged by hand and did not preempt
	// yet): gw-1 is the backup and goes first.
	f, c, pair := deployedPair(t)
	h := newFakeHealth(f)
	h.priority["vpn-gw-2"] = 200
	h.polls["vpn-gw-1"], h.polls["vpn-gw-2"] = 1, 1
	if err := c.RollingReimage(ctx(t), pair, h, RollingOptions{HealthTimeout: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	log := timeline(f)
	if r1, s2 := index(log, 0, "vpn-gw-1/rebuild"), index(log, 0, "vpn-gw-2/shutdown"); r1 < 0 || s2 < r1 {
		t.Errorf("gw-1 (backup) not first:\n%s", strings.Join(log, "\n"))
	}
}

func TestRollingReimageStops(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(h *fakeHealth)
		want    string
		notDone string // a step that must not have happened
	}{
		{"backup never healthy", func(h *fakeHealth) { h.neverHealthy = "vpn-gw-2" },
			"vpn-gw-2 was reimaged but is not healthy, so vpn-gw-1 was left alone", "vpn-gw-1/shutdown"},
		{"no takeover", func(h *fakeHealth) { h.noTakeover = "vpn-gw-2" },
			"vpn-gw-1 is off but vpn-gw-2 did not take over", "vpn-gw-1/rebuild"},
		{"unhealthy at start", func(h *fakeHealth) { h.sick = "vpn-gw-1" },
			"refusing to start", "/rebuild"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c, pair := deployedPair(t)
			h := newFakeHealth(f)
			// Healthy from the first answer, so the start check sees the
			// pair as it is.
			h.polls["vpn-gw-1"], h.polls["vpn-gw-2"] = 1, 1
			tt.setup(h)
			err := c.RollingReimage(ctx(t), pair, h, RollingOptions{HealthTimeout: 200 * time.Millisecond, HandoverTimeout: 200 * time.Millisecond})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if i := index(timeline(f), 0, tt.notDone); i >= 0 {
				t.Errorf("%s happened:\n%s", tt.notDone, strings.Join(timeline(f), "\n"))
			}
		})
	}

	// Force goes ahead anyway.
	f, c, pair := deployedPair(t)
	h := newFakeHealth(f)
	h.sick = "vpn-gw-2" // refused without Force, as above
	h.polls["vpn-gw-1"], h.polls["vpn-gw-2"] = 1, 1
	err := c.RollingReimage(ctx(t), pair, h, RollingOptions{Force: true, HealthTimeout: 100 * time.Millisecond, HandoverTimeout: 100 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "vpn-gw-2 was reimaged but is not healthy") || index(timeline(f), 0, "vpn-gw-2/rebuild") < 0 {
		t.Errorf("forced: err = %v, timeline:\n%s", err, strings.Join(timeline(f), "\n"))
	}

	if err := c.RollingReimage(ctx(t), pair, nil, RollingOptions{}); err == nil {
		t.Error("no Health accepted")
	}
}

func TestWaitHealthCancel(t *testing.T) {
	f := newFakeAPI(t, fakelinode.Config{})
	c := newTestClient(t, f, nil)
	cx, cancel := context.WithCancel(context.Background())
	cancel()
	err := c.waitHealth(cx, newFakeHealth(f), "gw", "192.0.2.1", "", time.Minute)
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v", err)
	}
}
