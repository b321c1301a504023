package fakemetadata

import (
	"net/netip"
	"slices"
	"sync"
	"time"
)

// Instance is the document /v1/instance serves.
type Instance struct {
	ID       int      `json:"id"`
	Label    string   `json:"label"`
	Region   string   `json:"region"`
	Type     string   `json:"type"`
	HostUUID string   `json:"host_uuid"`
	Tags     []string `json:"tags"`
	Specs    Specs    `json:"specs"`
	Backups  Backups  `json:"backups"`
}

// Specs is the plan of an Instance (memory, disk and transfer in MB).
type Specs struct {
	VCPUs    int `json:"vcpus"`
	Memory   int `json:"memory"`
	Disk     int `json:"disk"`
	Transfer int `json:"transfer"`
	GPUs     int `json:"gpus"`
}

// Backups is the backup enrolment of an Instance; Status is null unless a
// backup is pending, running or complete.
type Backups struct {
	Enabled bool    `json:"enabled"`
	Status  *string `json:"status"`
}

// Network is the document /v1/network serves.
type Network struct {
	Interfaces []Interface `json:"interfaces"`
	IPv4       IPv4        `json:"ipv4"`
	IPv6       IPv6        `json:"ipv6"`
}

// Interface is a configured interface of the Linode's config profile. Linode
// lists none for a profile with only the default public interface.
type Interface struct {
	Label string `json:"label"`
	// Purpose is "public" or "vlan".
	Purpose string `json:"purpose"`
	// IPAMAddress is optional; a zero Prefix is served as "".
	IPAMAddress netip.Prefix `json:"ipam_address"`
}

// IPv4 lists the Linode's IPv4 addresses.
type IPv4 struct {
	Public  []netip.Prefix `json:"public"`
	Private []netip.Prefix `json:"private"`
	Shared  []netip.Prefix `json:"shared"`
}

// IPv6 lists the Linode's IPv6 addresses and ranges.
type IPv6 struct {
	SLAAC        netip.Prefix   `json:"slaac"`
	LinkLocal    netip.Prefix   `json:"link_local"`
	Ranges       []netip.Prefix `json:"ranges"`
	SharedRanges []netip.Prefix `json:"shared_ranges"`
}

// Config is what a Server serves when it starts.
type Config struct {
	Instance Instance
	Network  Network
	// SSHKeys maps a user name to its public keys (/v1/ssh-keys).
	SSHKeys map[string][]string
	// UserData is served base64-encoded; empty means the Linode has none.
	UserData []byte
}

// Server is a fake Linode Metadata Service. Its methods are safe for
// concurrent use, also while it serves.
type Server struct {
	mu        sync.Mutex
	cfg       Config
	tokens    map[string]time.Time // token -> expiry, on the server's clock
	offset    time.Duration        // added to time.Now by Advance
	hideVLANs int                  // network answers still to send without VLANs
	failures  map[string][]int     // path -> status codes of the next answers
	requests  map[string]int       // path -> requests seen
}

// New returns a Server that serves cfg. It keeps its own copy of cfg.
func New(cfg Config) *Server {
	return &Server{
		cfg:      cloneConfig(cfg),
		tokens:   make(map[string]time.Time),
		failures: make(map[string][]int),
		requests: make(map[string]int),
	}
}

// SetUserData replaces the user data; nil or empty means none.
func (s *Server) SetUserData(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.UserData = slices.Clone(b)
}

// SetInstance replaces the /v1/instance document.
func (s *Server) SetInstance(in Instance) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.Instance = cloneInstance(in)
}

// SetLabel changes the Linode's label, as a rename in Cloud Manager would.
func (s *Server) SetLabel(label string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.Instance.Label = label
}

// SetNetwork replaces the /v1/network document.
func (s *Server) SetNetwork(n Network) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.Network = cloneNetwork(n)
}

// SetVLAN adds a VLAN interface with this label, or changes the IPAM address
// of the one that has it already.
func (s *Server) SetVLAN(label string, ipam netip.Prefix) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, ifc := range s.cfg.Network.Interfaces {
		if ifc.Purpose == "vlan" && ifc.Label == label {
			s.cfg.Network.Interfaces[i].IPAMAddress = ipam
			return
		}
	}
	s.cfg.Network.Interfaces = append(s.cfg.Network.Interfaces,
		Interface{Label: label, Purpose: "vlan", IPAMAddress: ipam})
}

// RemoveVLAN removes the VLAN interface with this label, if any.
func (s *Server) RemoveVLAN(label string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.Network.Interfaces = slices.DeleteFunc(s.cfg.Network.Interfaces, func(ifc Interface) bool {
		return ifc.Purpose == "vlan" && ifc.Label == label
	})
}

// HideVLANs makes the next n authorised /v1/network answers list no VLAN
// interface, as if the service were still filling in the network data.
func (s *Server) HideVLANs(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hideVLANs = max(n, 0)
}

// RevokeTokens forgets every token handed out, so that the next request
// holding one is answered 401.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// Advance moves the server's clock forward by d, ageing its tokens.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset += d
}

// FailNext makes the next n requests for path (e.g. "/v1/instance") answer
// status code with a text/plain body, before any other check: a proxy or a
// service in trouble, not the documented API.
func (s *Server) FailNext(path string, n, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures[path] = append(s.failures[path], code)
	}
}

// Requests returns how many requests for path (e.g. "/v1/user-data") the
// server has seen, whatever their method and answer.
func (s *Server) Requests(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[path]
}

// ResetRequests sets every request count back to zero.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.requests)
}

// now is the server's clock; s.mu must be held.
func (s *Server) now() time.Time { return time.Now().Add(s.offset) }

func cloneConfig(c Config) Config {
	out := Config{
		Instance: cloneInstance(c.Instance),
		Network:  cloneNetwork(c.Network),
		UserData: slices.Clone(c.UserData),
	}
	if c.SSHKeys != nil {
		out.SSHKeys = make(map[string][]string, len(c.SSHKeys))
		for u, k := range c.SSHKeys {
			out.SSHKeys[u] = slices.Clone(k)
		}
	}
	return out
}

func cloneInstance(in Instance) Instance {
	in.Tags = slices.Clone(in.Tags)
	if in.Backups.Status != nil {
		st := *in.Backups.Status
		in.Backups.Status = &st
	}
	return in
}

func cloneNetwork(n Network) Network {
	n.Interfaces = slices.Clone(n.Interfaces)
	n.IPv4.Public = slices.Clone(n.IPv4.Public)
	n.IPv4.Private = slices.Clone(n.IPv4.Private)
	n.IPv4.Shared = slices.Clone(n.IPv4.Shared)
	n.IPv6.Ranges = slices.Clone(n.IPv6.Ranges)
	n.IPv6.SharedRanges = slices.Clone(n.IPv6.SharedRanges)
	return n
}
