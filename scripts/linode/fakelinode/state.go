package fakelinode

import (
	"fmt"
	"maps"
	"slices"
)

// An Image is a custom image as the fake holds it.
type Image struct {
	ID          string // private/N
	Label       string
	Description string
	Region      string
	// Status is "pending_upload", "creating" or "available".
	Status string
	Size   int // MB
	// CloudInit is the "cloud-init" capability: the API takes user data
	// only for instances of images that have it.
	CloudInit bool
	// Data is what was uploaded.
	Data []byte
}

type image struct {
	Image
	polls int // GETs while "creating"
}

// An Instance is a Linode as the fake holds it. AddInstance reads Label,
// Region, Type, Image, IPv4, UserData, Tags, VLAN and IPAMAddress; the
// other fields are the fake's.
type Instance struct {
	ID                  int
	Label, Region, Type string
	// Image is the image its disk was last deployed from (private/N).
	Image string
	// Status is what GET /v4/linode/instances/{id} last answered, or would.
	Status string
	// IPv4 are its public addresses.
	IPv4 []string
	// UserData is the metadata user data, decoded (the API takes and keeps
	// it base64-encoded).
	UserData []byte
	RootPass string
	Tags     []string
	// Disks and Configs are the API's JSON objects (disk and config
	// profile), as decoded from the requests that made them.
	Disks   []map[string]any
	Configs []map[string]any
	// BootedConfig is the ID of the profile last booted.
	BootedConfig int
	// Rebuilds counts rebuild requests.
	Rebuilds int
	// VLAN and IPAMAddress describe the VLAN interface of the profile it
	// boots (the last booted, or the only one), if it has one.
	VLAN, IPAMAddress string
}

// instance is an Instance with the state of its action; its VLAN and
// IPAMAddress are left empty, the profiles say them (snapshot).
type instance struct {
	Instance
	target      string  // status once the action is done
	phases      []phase // the action's remaining phases
	hookRunning bool
}

// snapshot copies what a caller may look at; the disk and profile objects
// are copied one level deep (nothing changes them once made).
func (in *instance) snapshot() Instance {
	out := in.Instance
	out.IPv4, out.UserData, out.Tags = slices.Clone(in.IPv4), slices.Clone(in.UserData), slices.Clone(in.Tags)
	out.Disks, out.Configs = nil, nil
	for _, d := range in.Disks {
		out.Disks = append(out.Disks, maps.Clone(d))
	}
	var boots map[string]any
	for _, c := range in.Configs {
		out.Configs = append(out.Configs, maps.Clone(c))
		if id, _ := c["id"].(int); id == in.BootedConfig || boots == nil {
			boots = c
		}
	}
	ifs, _ := boots["interfaces"].([]any)
	for _, x := range ifs {
		if m, _ := x.(map[string]any); m["purpose"] == "vlan" {
			out.VLAN, _ = m["label"].(string)
			out.IPAMAddress, _ = m["ipam_address"].(string)
		}
	}
	return out
}

// AddImage adds an available custom image in us-east, with the cloud-init
// capability (as scripts/linode uploads them), and returns its ID
// (private/N).
func (s *Server) AddImage(label string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	id := fmt.Sprintf("private/%d", s.nextID)
	s.images[id] = &image{Image: Image{ID: id, Label: label, Region: "us-east", Status: "available", Size: 1500, CloudInit: true}}
	return id
}

// SetImageCloudInit gives or takes the image's cloud-init capability. It
// reports whether the image exists.
func (s *Server) SetImageCloudInit(id string, on bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	im := s.images[id]
	if im != nil {
		im.CloudInit = on
	}
	return im != nil
}

// Image returns a copy of the image with the ID.
func (s *Server) Image(id string) (Image, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	im := s.images[id]
	if im == nil {
		return Image{}, false
	}
	out := im.Image
	out.Data = slices.Clone(im.Data)
	return out, true
}

// AddInstance adds a running instance made elsewhere and returns its ID.
// Region defaults to us-east, Type to g6-nanode-1 and IPv4 to one address
// in 192.0.2.0/24. It gets a raw disk and a swap disk, as deploying an image
// makes, and one booted config profile with eth0 public and, if VLAN is
// set, eth1 on that VLAN at IPAMAddress. The label must be unique.
func (s *Server) AddInstance(in Instance) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.instances {
		if x.Label == in.Label {
			return 0, fmt.Errorf("fakelinode: an instance is already labelled %q", in.Label)
		}
	}
	s.nextID++
	n := &instance{Instance: Instance{ID: s.nextID, Label: in.Label, Region: in.Region, Type: in.Type, Image: in.Image, Status: "running",
		IPv4: slices.Clone(in.IPv4), UserData: slices.Clone(in.UserData), Tags: slices.Clone(in.Tags)}, target: "running"}
	if n.Region == "" {
		n.Region = "us-east"
	}
	if n.Type == "" {
		n.Type = "g6-nanode-1"
	}
	if len(n.IPv4) == 0 {
		n.IPv4 = []string{fmt.Sprintf("192.0.2.%d", n.ID%250)}
	}
	s.deployImage(n)
	ifs := []any{map[string]any{"purpose": "public"}}
	if in.VLAN != "" {
		ifs = append(ifs, map[string]any{"purpose": "vlan", "label": in.VLAN, "ipam_address": in.IPAMAddress})
	}
	n.Configs[0]["interfaces"] = ifs
	n.BootedConfig = n.Configs[0]["id"].(int)
	s.instances = append(s.instances, n)
	return n.ID, nil
}

// Instance returns a copy of the instance labelled label.
func (s *Server) Instance(label string) (Instance, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, in := range s.instances {
		if in.Label == label {
			return in.snapshot(), true
		}
	}
	return Instance{}, false
}

// Instances returns copies of all instances, in creation order.
func (s *Server) Instances() []Instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Instance, len(s.instances))
	for i, in := range s.instances {
		out[i] = in.snapshot()
	}
	return out
}
