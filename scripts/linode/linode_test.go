package linode

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidegate/tidegate/scripts/linode/fakelinode"
)

const seedPath = "../../configs/examples/seed.yaml"

var configID = regexp.MustCompile(`/configs/[0-9]+`)

// newFakeAPI starts a fake Linode API for the test.
func newFakeAPI(t *testing.T, cfg fakelinode.Config) *fakelinode.Server {
	f := fakelinode.New(cfg)
	t.Cleanup(f.Close)
	return f
}

// callsMatching returns the fake's calls that start with prefix.
func callsMatching(f *fakelinode.Server, prefix string) []string {
	var out []string
	for _, c := range f.Calls() {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

// instance returns what the fake holds for the instance labelled label,
// or nil.
func instance(f *fakelinode.Server, label string) *fakelinode.Instance {
	if in, ok := f.Instance(label); ok {
		return &in
	}
	return nil
}

// sortedLabels lists the fake's instances' labels, for messages.
func sortedLabels(f *fakelinode.Server) []string {
	var out []string
	for _, in := range f.Instances() {
		out = append(out, in.Label)
	}
	sort.Strings(out)
	return out
}

func newTestClient(t *testing.T, f *fakelinode.Server, progress *bytes.Buffer) *Client {
	t.Helper()
	cfg := Config{Token: f.Token(), BaseURL: f.URL(), PollInterval: 5 * time.Millisecond, InstanceTimeout: 5 * time.Second, ImageTimeout: 5 * time.Second}
	if progress != nil {
		cfg.Progress = progress
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func gzFile(t *testing.T) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(bytes.Repeat([]byte("tidegate disk "), 10000))
	zw.Close()
	p := filepath.Join(t.TempDir(), "tidegate.img.gz")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p, b.Bytes()
}

func seedPair(t *testing.T, image string) [2]Gateway {
	t.Helper()
	data, err := os.ReadFile(seedPath)
	if err != nil {
		t.Fatal(err)
	}
	pair, _, err := SiteGateways(data, Gateway{Region: "us-east", Type: "g6-standard-1", Image: image, VLAN: "tidegate-vlan"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return pair
}

func TestUpload(t *testing.T) {
	f := newFakeAPI(t, fakelinode.Config{})
	var progress bytes.Buffer
	c := newTestClient(t, f, &progress)
	path, data := gzFile(t)
	img, err := c.Upload(ctx(t), UploadOptions{Path: path, Region: "us-east", Label: "tidegate-test", Description: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if img.Status != "available" || !strings.HasPrefix(img.ID, "private/") || img.Label != "tidegate-test" {
		t.Errorf("image = %+v", img)
	}
	im, _ := f.Image(img.ID)
	if !im.CloudInit {
		t.Error("the image was not marked cloud-init compatible: the API would refuse user data for it")
	}
	if got := im.Data; !bytes.Equal(got, data) {
		t.Errorf("uploaded %d bytes, want the file's %d", len(got), len(data))
	}
	calls := f.Calls()
	if len(calls) < 4 || calls[0] != "POST /v4/images/upload" || !strings.HasPrefix(calls[1], "PUT /upload/") ||
		calls[2] != "GET /v4/images/"+img.ID {
		t.Errorf("calls = %v", calls)
	}

	// Refused before any call: not gzip.
	raw := filepath.Join(t.TempDir(), "tidegate.img")
	os.WriteFile(raw, []byte("raw disk"), 0o644)
	n := len(f.Calls())
	if _, err := c.Upload(ctx(t), UploadOptions{Path: raw, Region: "us-east", Label: "x"}); err == nil || !strings.Contains(err.Error(), "not gzip") {
		t.Errorf("raw image: err = %v", err)
	}
	if len(f.Calls()) != n {
		t.Error("a raw image reached the API")
	}

	// The API's error reasons come through.
	f.FailNext("POST /v4/images/upload", 400, fakelinode.Reason{Reason: "Image label must be unique", Field: "label"})
	if _, err := c.Upload(ctx(t), UploadOptions{Path: path, Region: "us-east", Label: "dup"}); err == nil ||
		!strings.Contains(err.Error(), "[label] Image label must be unique") {
		t.Errorf("API error: err = %v", err)
	}
}

func TestDeploy(t *testing.T) {
	// One item per page: the image's disk and the swap disk are on two
	// pages, and the boot disk must be found whichever comes first.
	f := newFakeAPI(t, fakelinode.Config{PageSize: 1})
	// Other instances on the account, so that the label lookup spans pages.
	for _, l := range []string{"web-1", "web-2", "db-1", "db-2", "build"} {
		if _, err := f.AddInstance(fakelinode.Instance{Label: l}); err != nil {
			t.Fatal(err)
		}
	}
	image := f.AddImage("tidegate-1")
	var progress bytes.Buffer
	c := newTestClient(t, f, &progress)
	pair := seedPair(t, image)

	for _, g := range pair {
		inst, err := c.Deploy(ctx(t), g)
		if err != nil {
			t.Fatalf("deploy %s: %v", g.Label, err)
		}
		if inst.Status != "running" || inst.Label != g.Label {
			t.Errorf("instance = %s %s", inst.Label, inst.Status)
		}
	}
	seed, _ := os.ReadFile(seedPath)
	for i, label := range []string{"vpn-gw-1", "vpn-gw-2"} {
		in := instance(f, label)
		if in == nil {
			t.Fatalf("no instance %s; have %v", label, sortedLabels(f))
		}
		checkGateway(t, in, image, seed, "tidegate-vlan", []string{"10.0.1.2/24", "10.0.1.3/24"}[i])
		if in.Region != "us-east" || in.Type != "g6-standard-1" {
			t.Errorf("%s: region %s type %s", label, in.Region, in.Type)
		}
		if strings.Contains(progress.String(), in.RootPass) {
			t.Error("the root password was printed")
		}
	}

	if n := len(callsMatching(f, "GET /v4/linode/instances/"+strconv.Itoa(instance(f, "vpn-gw-1").ID)+"/disks")); n != 2 {
		t.Errorf("disks listed in %d requests, want 2 pages", n)
	}
	// Without a filter the account's instances span pages too.
	if all, err := c.api.ListInstances(ctx(t), nil); err != nil || len(all) != 7 {
		t.Errorf("ListInstances = %d instances, %v", len(all), err)
	}

	// Deploying again is refused by us, before the API's label check.
	before := len(callsMatching(f, "POST /v4/linode/instances"))
	if _, err := c.Deploy(ctx(t), pair[0]); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second deploy: err = %v", err)
	}
	if len(callsMatching(f, "POST /v4/linode/instances")) != before {
		t.Error("second deploy created an instance")
	}
}

// checkGateway checks what the API holds for a deployed gateway: its image,
// the site YAML as user data, and exactly tidegate's profile, booted.
func checkGateway(t *testing.T, in *fakelinode.Instance, image string, userData []byte, vlan, ipam string) {
	t.Helper()
	if in.Image != image || in.Status != "running" {
		t.Errorf("%s: image %s status %s", in.Label, in.Image, in.Status)
	}
	if !bytes.Equal(in.UserData, userData) {
		t.Errorf("%s: user data is not the site YAML", in.Label)
	}
	if len(in.Configs) != 1 {
		t.Fatalf("%s: %d config profiles, want tidegate's only", in.Label, len(in.Configs))
	}
	p := in.Configs[0]
	if p["kernel"] != Kernel || p["label"] != ProfileLabel || p["id"] != in.BootedConfig || p["root_device"] != "/dev/sda" {
		t.Errorf("%s: profile %v, booted %d", in.Label, p, in.BootedConfig)
	}
	sda := p["devices"].(map[string]any)["sda"].(map[string]any)["disk_id"]
	if sda != float64(in.Disks[1]["id"].(int)) || in.Disks[1]["filesystem"] != "raw" {
		t.Errorf("%s: sda is %v, want the image's disk %v", in.Label, sda, in.Disks[1])
	}
	ifs := p["interfaces"].([]any)
	if len(ifs) != 2 {
		t.Fatalf("%s: interfaces %v", in.Label, ifs)
	}
	eth0, eth1 := ifs[0].(map[string]any), ifs[1].(map[string]any)
	if eth0["purpose"] != "public" || eth1["purpose"] != "vlan" || eth1["label"] != vlan || eth1["ipam_address"] != ipam {
		t.Errorf("%s: interfaces %v", in.Label, ifs)
	}
	if h, _ := p["helpers"].(map[string]any); h == nil || h["distro"] != false || h["network"] != false || h["modules_dep"] != false {
		t.Errorf("%s: helpers %v", in.Label, p["helpers"])
	}
}

func TestReimage(t *testing.T) {
	f := newFakeAPI(t, fakelinode.Config{})
	c := newTestClient(t, f, nil)
	old := f.AddImage("tidegate-1")
	pair := seedPair(t, old)
	if _, err := c.Deploy(ctx(t), pair[1]); err != nil {
		t.Fatal(err)
	}
	before := instance(f, "vpn-gw-2")
	id, ip := before.ID, before.IPv4[0]

	next := f.AddImage("tidegate-2")
	g := pair[1]
	g.Image = next
	if _, err := c.Reimage(ctx(t), g); err != nil {
		t.Fatal(err)
	}
	in := instance(f, "vpn-gw-2")
	if in.ID != id || in.IPv4[0] != ip || in.Rebuilds != 1 {
		t.Errorf("reimage made another instance: id %d ip %s rebuilds %d", in.ID, in.IPv4, in.Rebuilds)
	}
	seed, _ := os.ReadFile(seedPath)
	checkGateway(t, in, next, seed, "tidegate-vlan", "10.0.1.3/24")

	// The steps, in order: the rebuild's default profile is replaced by ours.
	var steps []string
	for _, c := range f.Calls() {
		if !strings.HasPrefix(c, "GET") {
			steps = append(steps, configID.ReplaceAllString(c, "/configs/N"))
		}
	}
	p := "/v4/linode/instances/" + strconv.Itoa(id)
	want := []string{"POST " + p + "/rebuild", "DELETE " + p + "/configs/N", "POST " + p + "/configs", "POST " + p + "/boot"}
	if got := steps[len(steps)-4:]; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("steps %v, want %v", got, want)
	}

	if _, err := c.Reimage(ctx(t), Gateway{Label: "nope", Image: next, UserData: []byte("x"), VLAN: "v", IPAMAddress: netip.MustParsePrefix("10.0.1.9/24")}); err == nil ||
		!strings.Contains(err.Error(), "no instance labelled nope") {
		t.Errorf("reimage of a missing instance: err = %v", err)
	}
}

func TestAPIErrors(t *testing.T) {
	f := newFakeAPI(t, fakelinode.Config{})
	image := f.AddImage("tidegate-1")
	c := newTestClient(t, f, nil)
	g := seedPair(t, image)[0]

	bad := g
	bad.Type = "nanode-9000"
	if _, err := c.Deploy(ctx(t), bad); err == nil || !strings.Contains(err.Error(), "[type] A valid plan type by that ID was not found") ||
		!strings.Contains(err.Error(), "vpn-gw-1") {
		t.Errorf("bad type: err = %v", err)
	}

	noMeta := f.AddImage("no-metadata")
	f.SetImageCloudInit(noMeta, false)
	bad = g
	bad.Image = noMeta
	if _, err := c.Deploy(ctx(t), bad); err == nil || !strings.Contains(err.Error(), "[metadata.user_data]") {
		t.Errorf("image without cloud-init: err = %v", err)
	}

	f.FailNext("POST /v4/linode/instances", 400,
		fakelinode.Reason{Reason: "Region does not support VLANs", Field: "region"}, fakelinode.Reason{Reason: "Too many Linodes"})
	if _, err := c.Deploy(ctx(t), g); err == nil || !strings.Contains(err.Error(), "Region does not support VLANs") {
		t.Errorf("two reasons: err = %v", err)
	}

	wrong, err := New(Config{Token: "wrong", BaseURL: f.URL(), PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.Deploy(ctx(t), g); err == nil || !strings.Contains(err.Error(), "Invalid Token") {
		t.Errorf("wrong token: err = %v", err)
	}
	if _, err := New(Config{}); err == nil || !strings.Contains(err.Error(), "LINODE_TOKEN") {
		t.Errorf("no token: err = %v", err)
	}

	// Checked before any call.
	n := len(f.Calls())
	for _, mod := range []func(*Gateway){
		func(g *Gateway) { g.UserData = nil },
		func(g *Gateway) { g.UserData = bytes.Repeat([]byte("x"), 13000) },
		func(g *Gateway) { g.VLAN = "" },
		func(g *Gateway) { g.IPAMAddress = netip.Prefix{} },
		func(g *Gateway) { g.Region = "" },
	} {
		b := g
		mod(&b)
		if _, err := c.Deploy(ctx(t), b); err == nil {
			t.Errorf("deploy of %+v accepted", b)
		}
	}
	if len(f.Calls()) != n {
		t.Error("an invalid gateway reached the API")
	}
}

func TestSiteGateways(t *testing.T) {
	seed, err := os.ReadFile(seedPath)
	if err != nil {
		t.Fatal(err)
	}
	noAddr := strings.ReplaceAll(string(seed), "    vlan_address: 10.0.1.2/24\n", "")
	base := Gateway{Image: "private/1"}
	pair, site, err := SiteGateways([]byte(noAddr), base, map[string]netip.Prefix{"vpn-gw-1": netip.MustParsePrefix("10.0.1.12/24")})
	if err != nil {
		t.Fatal(err)
	}
	if pair[0].IPAMAddress.String() != "10.0.1.12/24" || pair[1].IPAMAddress.String() != "10.0.1.3/24" || pair[0].VLAN != site.Site {
		t.Errorf("pair = %+v", pair)
	}
	for _, tt := range []struct {
		doc  string
		ipam map[string]netip.Prefix
		want string
	}{
		{noAddr, nil, "--ipam vpn-gw-1="},
		{string(seed), map[string]netip.Prefix{"vpn-gw-1": netip.MustParsePrefix("10.0.1.12/24")}, "differs from its vlan_address"},
		{noAddr, map[string]netip.Prefix{"vpn-gw-1": netip.MustParsePrefix("10.0.2.12/24")}, "ipam address for vpn-gw-1"},
		{noAddr, map[string]netip.Prefix{"gw-9": netip.MustParsePrefix("10.0.1.12/24")}, "gw-9"},
		{strings.Replace(string(seed), "vrid: 10", "vrid: 0", 1), nil, "does not validate"},
	} {
		if _, _, err := SiteGateways([]byte(tt.doc), base, tt.ipam); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("err = %v, want %q", err, tt.want)
		}
	}
}

func TestRootPassword(t *testing.T) {
	c := &Client{rand: rand.Reader}
	seen := map[string]bool{}
	for i := 0; i < 20; i++ {
		p, err := c.rootPassword()
		if err != nil {
			t.Fatal(err)
		}
		if len(p) != 40 || seen[p] || !strings.ContainsAny(p, "abcdefghijklmnopqrstuvwxyz") || !strings.ContainsAny(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") ||
			!strings.ContainsAny(p, "0123456789") || !strings.ContainsAny(p, "!#%+,-.:=@^_~") {
			t.Errorf("weak or repeated password")
		}
		seen[p] = true
	}
}
