package fakelinode

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

func (in *instance) json() map[string]any {
	return map[string]any{"id": in.ID, "label": in.Label, "region": in.Region, "type": in.Type, "image": in.Image,
		"status": in.Status, "ipv4": in.IPv4, "ipv6": "2001:db8::1/128", "has_user_data": len(in.UserData) != 0,
		"tags": in.Tags, "hypervisor": "kvm", "group": "", "specs": map[string]int{"disk": 25600, "memory": 1024, "vcpus": 1}}
}

func (s *Server) listInstances(w http.ResponseWriter, r *http.Request) {
	var filter map[string]any
	if x := r.Header.Get("X-Filter"); x != "" {
		if err := json.Unmarshal([]byte(x), &filter); err != nil {
			apiError(w, http.StatusBadRequest, "X-Filter", "Invalid JSON")
			return
		}
	}
	s.mu.Lock()
	var items []any
	for _, in := range s.instances {
		if l, ok := filter["label"]; ok && l != in.Label {
			continue
		}
		items = append(items, in.json())
	}
	s.mu.Unlock()
	s.paginate(w, r, items)
}

func (s *Server) createInstance(w http.ResponseWriter, r *http.Request) {
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
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case req.Region == "":
		apiError(w, http.StatusBadRequest, "region", "region is required")
		return
	case req.Type == "" || !strings.HasPrefix(req.Type, "g6-"):
		apiError(w, http.StatusBadRequest, "type", "A valid plan type by that ID was not found")
		return
	case req.Image != "" && (s.images[req.Image] == nil || s.images[req.Image].Status != "available"):
		apiError(w, http.StatusBadRequest, "image", "Image is not available")
		return
	case req.Image != "" && len(req.RootPass) < 11:
		apiError(w, http.StatusBadRequest, "root_pass", "root_pass is required when deploying an image")
		return
	}
	for _, in := range s.instances {
		if in.Label == req.Label {
			apiError(w, http.StatusBadRequest, "label", "Label must be unique among your Linodes")
			return
		}
	}
	var ud []byte
	if req.Metadata != nil {
		if im := s.images[req.Image]; im == nil || !im.CloudInit {
			apiError(w, http.StatusBadRequest, "metadata.user_data", "The image does not support metadata (no cloud-init capability)")
			return
		}
		var err error
		if ud, err = base64.StdEncoding.DecodeString(req.Metadata.UserData); err != nil {
			apiError(w, http.StatusBadRequest, "metadata.user_data", "user_data must be base64-encoded")
			return
		}
	}
	s.nextID++
	in := &instance{Instance: Instance{ID: s.nextID, Label: req.Label, Region: req.Region, Type: req.Type, Image: req.Image,
		IPv4: []string{fmt.Sprintf("203.0.113.%d", s.nextID%250)}, UserData: ud, RootPass: req.RootPass, Tags: req.Tags}}
	s.deployImage(in)
	s.instances = append(s.instances, in)
	if req.Booted != nil && !*req.Booted {
		s.begin(in, "offline", phase{status: "provisioning"})
	} else {
		in.BootedConfig = in.Configs[0]["id"].(int)
		s.begin(in, "running", phase{status: "provisioning"}, s.bootPhase())
	}
	writeJSON(w, http.StatusOK, in.json())
}

// deployImage gives the instance the disks and the default profile that
// deploying an image makes.
func (s *Server) deployImage(in *instance) {
	label := "Linode"
	if im := s.images[in.Image]; im != nil {
		label = im.Label
	}
	s.nextID++
	raw := s.nextID
	s.nextID++
	swap := s.nextID
	// Swap listed first, so that the boot disk has to be looked for.
	in.Disks = []map[string]any{
		{"id": swap, "label": "512 MB Swap Image", "filesystem": "swap", "size": 512, "status": "ready"},
		{"id": raw, "label": label + " Disk", "filesystem": "raw", "size": 25088, "status": "ready"},
	}
	s.nextID++
	in.Configs = []map[string]any{{"id": s.nextID, "label": "My Custom Image Profile", "kernel": "linode/grub2",
		"devices":    map[string]any{"sda": map[string]int{"disk_id": raw}, "sdb": map[string]int{"disk_id": swap}},
		"interfaces": []any{}, "root_device": "/dev/sda"}}
}

// withInstance finds the instance of the path. A GET ends the transitional
// phases that have no hook, as the real instance moves on while it is
// polled; any other method during an action is refused as the API does.
func (s *Server) withInstance(h func(w http.ResponseWriter, r *http.Request, in *instance)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.Atoi(r.PathValue("id"))
		s.mu.Lock()
		defer s.mu.Unlock()
		var in *instance
		for _, x := range s.instances {
			if x.ID == id {
				in = x
			}
		}
		if in == nil {
			apiError(w, http.StatusNotFound, "", "Not found")
			return
		}
		if r.Method == http.MethodGet {
			s.settle(in)
		} else if in.busy() {
			apiError(w, http.StatusBadRequest, "", "Linode busy.")
			return
		}
		h(w, r, in)
	}
}

func (s *Server) getInstance(w http.ResponseWriter, r *http.Request, in *instance) {
	writeJSON(w, http.StatusOK, in.json())
}

func (s *Server) boot(w http.ResponseWriter, r *http.Request, in *instance) {
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
	in.BootedConfig = req.ConfigID
	s.begin(in, "running", s.bootPhase())
	writeJSON(w, http.StatusOK, map[string]any{})
}

func (s *Server) shutdown(w http.ResponseWriter, r *http.Request, in *instance) {
	p := s.shutdownPhase("shutting_down")
	if in.Status == "offline" {
		// No machine to press the power button of.
		p.hook = ""
	}
	s.begin(in, "offline", p)
	writeJSON(w, http.StatusOK, map[string]any{})
}

func (s *Server) rebuild(w http.ResponseWriter, r *http.Request, in *instance) {
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
	case s.images[req.Image] == nil:
		apiError(w, http.StatusBadRequest, "image", "Image not found")
		return
	case len(req.RootPass) < 11:
		apiError(w, http.StatusBadRequest, "root_pass", "root_pass is required")
		return
	case req.Metadata != nil && !s.images[req.Image].CloudInit:
		apiError(w, http.StatusBadRequest, "metadata.user_data", "The image does not support metadata (no cloud-init capability)")
		return
	}
	// A rebuild replaces the disks and the profiles, and the user data
	// with what the request carries (none if it carries none).
	in.Image, in.UserData, in.RootPass, in.Rebuilds = req.Image, nil, req.RootPass, in.Rebuilds+1
	if req.Metadata != nil {
		// Not checked as the create is (nor by the real API): what does
		// not decode is kept as far as it does.
		in.UserData, _ = base64.StdEncoding.DecodeString(req.Metadata.UserData)
	}
	s.deployImage(in)
	// Linode shuts a running instance down before it rebuilds the disk.
	first := phase{status: "rebuilding"}
	if in.Status == "running" {
		first = s.shutdownPhase("rebuilding")
	}
	if req.Booted != nil && !*req.Booted {
		s.begin(in, "offline", first)
	} else {
		in.BootedConfig = in.Configs[0]["id"].(int)
		s.begin(in, "running", first, s.bootPhase())
	}
	writeJSON(w, http.StatusOK, in.json())
}
