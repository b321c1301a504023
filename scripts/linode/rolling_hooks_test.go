package linode

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidegate/tidegate/scripts/linode/fakelinode"
)

// vms stands in for the machines behind the fake's instances, as the QEMU
// lab's VMs will: the fake's hooks switch them off and on, and Health
// answers from what they are, not from the API.
type vms struct {
	mu       sync.Mutex
	up       map[string]bool   // label -> running
	image    map[string]string // label -> image booted
	addr     map[string]string // public IPv4 -> label
	priority map[string]int
	log      []string // hook calls
	failBoot string   // label whose boot fails
}

func (v *vms) OnShutdown(label string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.log = append(v.log, "shutdown "+label)
	v.up[label] = false
	return nil
}

func (v *vms) OnBoot(label, image string, userData []byte) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.log = append(v.log, "boot "+label+" "+image)
	if label == v.failBoot {
		return errors.New("no console")
	}
	if seed, _ := os.ReadFile(seedPath); string(userData) != string(seed) {
		return fmt.Errorf("%s booted without the site YAML as user data", label)
	}
	v.up[label], v.image[label] = true, image
	return nil
}

func (v *vms) Health(ctx context.Context, addr string) (string, bool, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	self := v.addr[addr]
	if !v.up[self] {
		return "", false, fmt.Errorf("dial tcp %s: connection refused", addr)
	}
	for l, up := range v.up {
		if up && l != self && v.priority[l] > v.priority[self] {
			return RoleBackup, true, nil
		}
	}
	return RoleMaster, true, nil
}

func (v *vms) hooks() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.log)
}

// hookedPair seeds a fake whose instances are v's machines, running the
// pair on an old image, and returns the pair for a new one.
func hookedPair(t *testing.T, v *vms) (*fakelinode.Server, [2]Gateway) {
	t.Helper()
	f := newFakeAPI(t, fakelinode.Config{OnShutdown: v.OnShutdown, OnBoot: v.OnBoot})
	old := f.AddImage("tidegate-1")
	seed, _ := os.ReadFile(seedPath)
	for i, g := range seedPair(t, old) {
		addr := fmt.Sprintf("192.0.2.%d", i+1)
		if _, err := f.AddInstance(fakelinode.Instance{Label: g.Label, Region: g.Region, Type: g.Type, Image: old, IPv4: []string{addr},
			UserData: seed, VLAN: g.VLAN, IPAMAddress: g.IPAMAddress.String()}); err != nil {
			t.Fatal(err)
		}
		v.up[g.Label], v.image[g.Label], v.addr[addr] = true, old, g.Label
	}
	return f, seedPair(t, f.AddImage("tidegate-2"))
}

func newVMs() *vms {
	return &vms{up: map[string]bool{}, image: map[string]string{}, addr: map[string]string{},
		priority: map[string]int{"vpn-gw-1": 100, "vpn-gw-2": 99}}
}

func TestRollingReimageHooks(t *testing.T) {
	v := newVMs()
	f, pair := hookedPair(t, v)
	c := newTestClient(t, f, nil)
	if err := c.RollingReimage(ctx(t), pair, v, RollingOptions{HealthTimeout: 5 * time.Second, HandoverTimeout: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	next := pair[0].Image
	want := []string{
		"shutdown vpn-gw-2",     // the backup's rebuild shuts it down
		"boot vpn-gw-2 " + next, // and it boots the new image
		"shutdown vpn-gw-1",     // planned handover
		"boot vpn-gw-1 " + next, // the old master, rebuilt while off
	}
	if got := v.hooks(); !slices.Equal(got, want) {
		t.Errorf("hooks:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The hooks ran inside the API calls that cause them.
	log := timeline(f)
	at := 0
	for _, s := range []string{"POST  vpn-gw-2/rebuild", "OnShutdown vpn-gw-2", "POST  vpn-gw-2/boot", "OnBoot vpn-gw-2",
		"POST  vpn-gw-1/shutdown", "OnShutdown vpn-gw-1", "POST  vpn-gw-1/rebuild", "POST  vpn-gw-1/boot", "OnBoot vpn-gw-1"} {
		if at = index(log, at, s); at < 0 {
			t.Fatalf("no %q in order in:\n%s", s, strings.Join(log, "\n"))
		}
		at++
	}
	for _, l := range []string{"vpn-gw-1", "vpn-gw-2"} {
		if in := instance(f, l); in.Status != "running" || in.Image != next || v.image[l] != next {
			t.Errorf("%s: %s, image %s, machine runs %s", l, in.Status, in.Image, v.image[l])
		}
	}
}

func TestRollingReimageHookFails(t *testing.T) {
	// The backup's machine does not come back: the fake leaves it offline,
	// the client's wait for "running" times out, and the master is left
	// alone.
	v := newVMs()
	v.failBoot = "vpn-gw-2"
	f, pair := hookedPair(t, v)
	c, err := New(Config{Token: f.Token(), BaseURL: f.URL(), PollInterval: 5 * time.Millisecond, InstanceTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	err = c.RollingReimage(ctx(t), pair, v, RollingOptions{})
	if err == nil || !strings.Contains(err.Error(), "vpn-gw-2") || !strings.Contains(err.Error(), "waiting for running") {
		t.Errorf("err = %v", err)
	}
	if in := instance(f, "vpn-gw-2"); in.Status != fakelinode.StatusBootFailed {
		t.Errorf("vpn-gw-2 is %s", in.Status)
	}
	if got := v.hooks(); slices.Contains(got, "shutdown vpn-gw-1") {
		t.Errorf("the master was shut down: %q", got)
	}
}
