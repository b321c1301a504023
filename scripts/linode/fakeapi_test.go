package linode

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeAPI answers as the Linode API v4 does for the calls this package makes:
// the same paths and methods, JSON bodies of the same shape, errors as
// {"errors":[{"reason":...,"field":...}]} with Content-Type application/json
// (linodego checks it), pagination ({"data","page","pages","results"}, page
// and page_size parameters, X-Filter), and instances that pass through
// transitional states ("provisioning", "booting", ...) before settling, with
// "Linode busy." for actions during a transition. Nothing here talks to the
// real API.
type fakeAPI struct {
	t     *testing.T
	srv   *httptest.Server
	token string

	mu        sync.Mutex
	calls     []string // "POST /v4/linode/instances"
	nextID    int
	pageSize  int // the default page size; small so lists span pages
	images    map[string]*fakeImage
	instances []*fakeInstance
	// fail makes the next call matching the key ("POST /v4/linode/instances")
	// answer status with the reasons.
	fail map[string]fakeFailure
	// onChange is called (without the lock) after an instance's status
	// settles, for the fake health.
	onChange func()
}

type fakeFailure struct {
	status  int
	reasons []map[string]string
}

type fakeImage struct {
	ID, Label, Description, Region, Status string
	Size                                   int
	CloudInit                              bool // "cloud-init" capability: user data allowed
	polls                                  int
	data                                   []byte
}

type fakeInstance struct {
	ID                  int
	Label, Region, Type string
	Image, Status       string
	target              string // status after the transition
	IPv4                string
	UserData            string // base64, as sent
	RootPass            string
	Tags                []string
	Disks               []map[string]any
	Configs             []map[string]any
	BootedConfig        int
	Rebuilds            int
}

func newFakeAPI(t *testing.T) *fakeAPI {
	f := &fakeAPI{t: t, token: "test-token", nextID: 100, pageSize: 2, images: map[string]*fakeImage{}, fail: map[string]fakeFailure{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v4/images/upload", f.createUpload)
	mux.HandleFunc("PUT /upload/{id}", f.putUpload)
	mux.HandleFunc("GET /v4/images/{id...}", f.getImage)
	mux.HandleFunc("GET /v4/linode/instances", f.listInstances)
	mux.HandleFunc("POST /v4/linode/instances", f.createInstance)
	mux.HandleFunc("GET /v4/linode/instances/{id}", f.withInstance(f.getInstance))
	mux.HandleFunc("GET /v4/linode/instances/{id}/disks", f.withInstance(f.listDisks))
	mux.HandleFunc("GET /v4/linode/instances/{id}/configs", f.withInstance(f.listConfigs))
	mux.HandleFunc("POST /v4/linode/instances/{id}/configs", f.withInstance(f.createConfig))
	mux.HandleFunc("DELETE /v4/linode/instances/{id}/configs/{cid}", f.withInstance(f.deleteConfig))
	mux.HandleFunc("POST /v4/linode/instances/{id}/boot", f.withInstance(f.boot))
	mux.HandleFunc("POST /v4/linode/instances/{id}/shutdown", f.withInstance(f.shutdown))
	mux.HandleFunc("POST /v4/linode/instances/{id}/rebuild", f.withInstance(f.rebuild))
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		key := r.Method + " " + r.URL.Path
		f.calls = append(f.calls, key)
		fail, failing := f.fail[key]
		delete(f.fail, key)
		f.mu.Unlock()
		// The upload URL is a pre-signed object storage URL: no token.
		if !strings.HasPrefix(r.URL.Path, "/upload/") && r.Header.Get("Authorization") != "Bearer "+f.token {
			apiError(w, http.StatusUnauthorized, "", "Invalid Token")
			return
		}
		if failing {
			writeJSON(w, fail.status, map[string]any{"errors": fail.reasons})
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) url() string { return f.srv.URL + "/v4" }

func (f *fakeAPI) callsMatching(prefix string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeAPI) instance(label string) *fakeInstance {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, in := range f.instances {
		if in.Label == label {
			return in
		}
	}
	return nil
}

// addImage adds an available image.
func (f *fakeAPI) addImage(label string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	id := fmt.Sprintf("private/%d", f.nextID)
	f.images[id] = &fakeImage{ID: id, Label: label, Region: "us-east", Status: "available", Size: 1500, CloudInit: true}
	return id
}

// addInstance adds an instance that was made elsewhere (pagination fodder).
func (f *fakeAPI) addInstance(label string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	f.instances = append(f.instances, &fakeInstance{ID: f.nextID, Label: label, Region: "us-east", Type: "g6-nanode-1", Status: "running", target: "running",
		IPv4: fmt.Sprintf("192.0.2.%d", f.nextID%250)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	// Exactly application/json: linodego compares it with its Accept header.
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, status int, field, reason string) {
	e := map[string]string{"reason": reason}
	if field != "" {
		e["field"] = field
	}
	writeJSON(w, status, map[string]any{"errors": []map[string]string{e}})
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if r.Header.Get("Content-Type") != "application/json" {
		apiError(w, http.StatusBadRequest, "", "Content-Type must be application/json")
		return false
	}
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		apiError(w, http.StatusBadRequest, "", "Invalid JSON")
		return false
	}
	return true
}

// paginate answers a list endpoint.
func (f *fakeAPI) paginate(w http.ResponseWriter, r *http.Request, items []any) {
	size := f.pageSize
	if s, err := strconv.Atoi(r.URL.Query().Get("page_size")); err == nil {
		if s < 25 || s > 500 {
			apiError(w, http.StatusBadRequest, "page_size", "Must be 25-500")
			return
		}
		size = s
	}
	page := 1
	if p, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil {
		page = p
	}
	pages := (len(items) + size - 1) / size
	if pages == 0 {
		pages = 1
	}
	if page < 1 || page > pages {
		apiError(w, http.StatusBadRequest, "page", fmt.Sprintf("Must be 1-%d", pages))
		return
	}
	lo, hi := (page-1)*size, page*size
	if hi > len(items) {
		hi = len(items)
	}
	data := items[lo:hi]
	if data == nil {
		data = []any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "page": page, "pages": pages, "results": len(items)})
}

func (f *fakeAPI) imageJSON(im *fakeImage) map[string]any {
	caps := []string{}
	if im.CloudInit {
		caps = append(caps, "cloud-init")
	}
	return map[string]any{"capabilities": caps, "id": im.ID, "label": im.Label, "description": im.Description, "status": im.Status, "size": im.Size,
		"type": "manual", "is_public": false, "deprecated": false, "vendor": nil, "created_by": "tester",
		"regions": []map[string]string{{"region": im.Region, "status": "available"}}}
}

func (f *fakeAPI) createUpload(w http.ResponseWriter, r *http.Request) {
	var req map[string]any
	if !decode(w, r, &req) {
		return
	}
	region, _ := req["region"].(string)
	label, _ := req["label"].(string)
	if region == "" {
		apiError(w, http.StatusBadRequest, "region", "region is required")
		return
	}
	if label == "" {
		apiError(w, http.StatusBadRequest, "label", "label is required")
		return
	}
	f.mu.Lock()
	f.nextID++
	n := f.nextID
	desc, _ := req["description"].(string)
	ci, _ := req["cloud_init"].(bool)
	im := &fakeImage{ID: fmt.Sprintf("private/%d", n), Label: label, Description: desc, Region: region, Status: "pending_upload", CloudInit: ci}
	f.images[im.ID] = im
	body := map[string]any{"image": f.imageJSON(im), "upload_to": fmt.Sprintf("%s/upload/%d?X-Amz-Signature=fake", f.srv.URL, n)}
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, body)
}

func (f *fakeAPI) putUpload(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Content-Type") != "application/octet-stream" || r.ContentLength <= 0 {
		http.Error(w, "want application/octet-stream with a Content-Length", http.StatusBadRequest)
		return
	}
	data, err := io.ReadAll(r.Body)
	if err != nil || int64(len(data)) != r.ContentLength {
		http.Error(w, "short body", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	im := f.images["private/"+r.PathValue("id")]
	if im == nil || im.Status != "pending_upload" {
		http.Error(w, "no such upload", http.StatusForbidden)
		return
	}
	im.data, im.Status = data, "creating"
	w.WriteHeader(http.StatusOK)
}

func (f *fakeAPI) getImage(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	im := f.images[r.PathValue("id")]
	if im == nil {
		apiError(w, http.StatusNotFound, "", "Not found")
		return
	}
	// Linode takes a few polls to process an upload.
	if im.Status == "creating" {
		if im.polls++; im.polls >= 2 {
			im.Status, im.Size = "available", 1500
		}
	}
	writeJSON(w, http.StatusOK, f.imageJSON(im))
}

func (in *fakeInstance) json() map[string]any {
	return map[string]any{"id": in.ID, "label": in.Label, "region": in.Region, "type": in.Type, "image": in.Image,
		"status": in.Status, "ipv4": []string{in.IPv4}, "ipv6": "2001:db8::1/128", "has_user_data": in.UserData != "",
		"tags": in.Tags, "hypervisor": "kvm", "group": "", "specs": map[string]int{"disk": 25600, "memory": 1024, "vcpus": 1}}
}

func (f *fakeAPI) listInstances(w http.ResponseWriter, r *http.Request) {
	var filter map[string]any
	if x := r.Header.Get("X-Filter"); x != "" {
		if err := json.Unmarshal([]byte(x), &filter); err != nil {
			apiError(w, http.StatusBadRequest, "X-Filter", "Invalid JSON")
			return
		}
	}
	f.mu.Lock()
	var items []any
	for _, in := range f.instances {
		if l, ok := filter["label"]; ok && l != in.Label {
			continue
		}
		items = append(items, in.json())
	}
	f.mu.Unlock()
	f.paginate(w, r, items)
}

func (f *fakeAPI) createInstance(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Region, Type, Label, Image string
		RootPass                   string `json:"root_pass"`
		Booted                     *bool
		Tags                       []string
		Metadata                   *struct {
			UserData string `json:"user_data"`
		}
	}
	if !decode(w, r, &req) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case req.Region == "":
		apiError(w, http.StatusBadRequest, "region", "region is required")
		return
	case req.Type == "" || !strings.HasPrefix(req.Type, "g6-"):
		apiError(w, http.StatusBadRequest, "type", "A valid plan type by that ID was not found")
		return
	case req.Image != "" && (f.images[req.Image] == nil || f.images[req.Image].Status != "available"):
		apiError(w, http.StatusBadRequest, "image", "Image is not available")
		return
	case req.Image != "" && len(req.RootPass) < 11:
		apiError(w, http.StatusBadRequest, "root_pass", "root_pass is required when deploying an image")
		return
	}
	for _, in := range f.instances {
		if in.Label == req.Label {
			apiError(w, http.StatusBadRequest, "label", "Label must be unique among your Linodes")
			return
		}
	}
	ud := ""
	if req.Metadata != nil {
		if !f.images[req.Image].CloudInit {
			apiError(w, http.StatusBadRequest, "metadata.user_data", "The image does not support metadata (no cloud-init capability)")
			return
		}
		if _, err := base64.StdEncoding.DecodeString(req.Metadata.UserData); err != nil {
			apiError(w, http.StatusBadRequest, "metadata.user_data", "user_data must be base64-encoded")
			return
		}
		ud = req.Metadata.UserData
	}
	f.nextID++
	in := &fakeInstance{ID: f.nextID, Label: req.Label, Region: req.Region, Type: req.Type, Image: req.Image, Status: "provisioning",
		target: "running", IPv4: fmt.Sprintf("203.0.113.%d", f.nextID%250), UserData: ud, RootPass: req.RootPass, Tags: req.Tags}
	if req.Booted != nil && !*req.Booted {
		in.target = "offline"
	}
	f.deployImage(in)
	f.instances = append(f.instances, in)
	writeJSON(w, http.StatusOK, in.json())
}

// deployImage gives the instance the disks and the default profile that
// deploying an image makes.
func (f *fakeAPI) deployImage(in *fakeInstance) {
	f.nextID++
	raw := f.nextID
	f.nextID++
	swap := f.nextID
	// Swap listed first, so that the boot disk has to be looked for.
	in.Disks = []map[string]any{
		{"id": swap, "label": "512 MB Swap Image", "filesystem": "swap", "size": 512, "status": "ready"},
		{"id": raw, "label": f.images[in.Image].Label + " Disk", "filesystem": "raw", "size": 25088, "status": "ready"},
	}
	f.nextID++
	in.Configs = []map[string]any{{"id": f.nextID, "label": "My Custom Image Profile", "kernel": "linode/grub2",
		"devices":    map[string]any{"sda": map[string]int{"disk_id": raw}, "sdb": map[string]int{"disk_id": swap}},
		"interfaces": []any{}, "root_device": "/dev/sda"}}
}

// withInstance finds the instance of the path and advances its transition
// one step per request, as the real one moves on while it is polled.
func (f *fakeAPI) withInstance(h func(w http.ResponseWriter, r *http.Request, in *fakeInstance)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.Atoi(r.PathValue("id"))
		f.mu.Lock()
		var in *fakeInstance
		for _, x := range f.instances {
			if x.ID == id {
				in = x
			}
		}
		if in == nil {
			f.mu.Unlock()
			apiError(w, http.StatusNotFound, "", "Not found")
			return
		}
		settled := false
		if r.Method == http.MethodGet && in.Status != in.target {
			in.Status, settled = in.target, true
		} else if r.Method != http.MethodGet && in.Status != in.target {
			f.mu.Unlock()
			apiError(w, http.StatusBadRequest, "", "Linode busy.")
			return
		}
		h(w, r, in)
		onChange := f.onChange
		f.mu.Unlock()
		if settled && onChange != nil {
			onChange()
		}
	}
}

func (f *fakeAPI) getInstance(w http.ResponseWriter, r *http.Request, in *fakeInstance) {
	writeJSON(w, http.StatusOK, in.json())
}

func (f *fakeAPI) listDisks(w http.ResponseWriter, r *http.Request, in *fakeInstance) {
	items := make([]any, len(in.Disks))
	for i, d := range in.Disks {
		items[i] = d
	}
	f.paginate(w, r, items)
}

func (f *fakeAPI) listConfigs(w http.ResponseWriter, r *http.Request, in *fakeInstance) {
	items := make([]any, len(in.Configs))
	for i, c := range in.Configs {
		items[i] = c
	}
	f.paginate(w, r, items)
}

func (f *fakeAPI) createConfig(w http.ResponseWriter, r *http.Request, in *fakeInstance) {
	var req map[string]any
	if !decode(w, r, &req) {
		return
	}
	label, _ := req["label"].(string)
	if label == "" {
		apiError(w, http.StatusBadRequest, "label", "label is required")
		return
	}
	devs, _ := req["devices"].(map[string]any)
	sda, _ := devs["sda"].(map[string]any)
	diskID, _ := sda["disk_id"].(float64)
	found := false
	for _, d := range in.Disks {
		if d["id"] == int(diskID) {
			found = true
		}
	}
	if !found {
		apiError(w, http.StatusBadRequest, "devices.sda.disk_id", "Disk not found on this Linode")
		return
	}
	ifs, _ := req["interfaces"].([]any)
	for i, x := range ifs {
		m, _ := x.(map[string]any)
		switch m["purpose"] {
		case "public":
			if i != 0 {
				apiError(w, http.StatusBadRequest, fmt.Sprintf("interfaces[%d].purpose", i), "The public interface must be eth0")
				return
			}
		case "vlan":
			if l, _ := m["label"].(string); l == "" {
				apiError(w, http.StatusBadRequest, fmt.Sprintf("interfaces[%d].label", i), "label is required for vlan interfaces")
				return
			}
			if a, _ := m["ipam_address"].(string); a != "" {
				if _, err := netip.ParsePrefix(a); err != nil {
					apiError(w, http.StatusBadRequest, fmt.Sprintf("interfaces[%d].ipam_address", i), "Must be a valid IPv4 network in CIDR notation")
					return
				}
			}
		default:
			apiError(w, http.StatusBadRequest, fmt.Sprintf("interfaces[%d].purpose", i), "Must be one of public, vlan, vpc")
			return
		}
	}
	f.nextID++
	req["id"] = f.nextID
	in.Configs = append(in.Configs, req)
	writeJSON(w, http.StatusOK, req)
}

func (f *fakeAPI) deleteConfig(w http.ResponseWriter, r *http.Request, in *fakeInstance) {
	cid, _ := strconv.Atoi(r.PathValue("cid"))
	for i, c := range in.Configs {
		if id, _ := c["id"].(int); id == cid {
			in.Configs = append(in.Configs[:i], in.Configs[i+1:]...)
			writeJSON(w, http.StatusOK, map[string]any{})
			return
		}
	}
	apiError(w, http.StatusNotFound, "", "Not found")
}

func (f *fakeAPI) boot(w http.ResponseWriter, r *http.Request, in *fakeInstance) {
	var req struct {
		ConfigID int `json:"config_id"`
	}
	if !decode(w, r, &req) {
		return
	}
	ok := false
	for _, c := range in.Configs {
		if id, _ := c["id"].(int); id == req.ConfigID {
			ok = true
		}
	}
	if !ok {
		apiError(w, http.StatusBadRequest, "config_id", "Config not found")
		return
	}
	in.BootedConfig, in.Status, in.target = req.ConfigID, "booting", "running"
	writeJSON(w, http.StatusOK, map[string]any{})
}

func (f *fakeAPI) shutdown(w http.ResponseWriter, r *http.Request, in *fakeInstance) {
	in.Status, in.target = "shutting_down", "offline"
	writeJSON(w, http.StatusOK, map[string]any{})
}

func (f *fakeAPI) rebuild(w http.ResponseWriter, r *http.Request, in *fakeInstance) {
	var req struct {
		Image    string
		RootPass string `json:"root_pass"`
		Booted   *bool
		Metadata *struct {
			UserData string `json:"user_data"`
		}
	}
	if !decode(w, r, &req) {
		return
	}
	switch {
	case f.images[req.Image] == nil:
		apiError(w, http.StatusBadRequest, "image", "Image not found")
		return
	case len(req.RootPass) < 11:
		apiError(w, http.StatusBadRequest, "root_pass", "root_pass is required")
		return
	case req.Metadata != nil && !f.images[req.Image].CloudInit:
		apiError(w, http.StatusBadRequest, "metadata.user_data", "The image does not support metadata (no cloud-init capability)")
		return
	}
	// A rebuild replaces the disks and the profiles, and the user data
	// with what the request carries (none if it carries none).
	in.Image, in.UserData, in.RootPass, in.Rebuilds = req.Image, "", req.RootPass, in.Rebuilds+1
	if req.Metadata != nil {
		in.UserData = req.Metadata.UserData
	}
	f.deployImage(in)
	in.Status, in.target = "rebuilding", "running"
	if req.Booted != nil && !*req.Booted {
		in.target = "offline"
	}
	writeJSON(w, http.StatusOK, in.json())
}

// sortedLabels lists the instances' labels, for messages.
func (f *fakeAPI) sortedLabels() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, in := range f.instances {
		out = append(out, in.Label)
	}
	sort.Strings(out)
	return out
}
