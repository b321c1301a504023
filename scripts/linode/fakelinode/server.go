package fakelinode

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
)

// Config configures a Server.
type Config struct {
	// Token is the personal access token the fake accepts (as
	// "Authorization: Bearer TOKEN"); ["test-token"]. Other tokens get
	// 401 "Invalid Token".
	Token string
	// PageSize is the page size of list answers when the request names
	// none; [2]. Small, unlike the real API's 25, so that clients are made
	// to follow pages.
	PageSize int
	// Logf, if not nil, is told of every call that changes something and
	// of every hook run.
	Logf func(format string, args ...any)
}

// A Server is a fake Linode API v4 listening on a loopback port. It is safe
// for concurrent use. Callers Close it.
type Server struct {
	srv   *httptest.Server
	token string
	logf  func(string, ...any)

	mu        sync.Mutex
	calls     []string // "POST /v4/linode/instances"
	nextID    int
	pageSize  int
	images    map[string]*image
	instances []*instance
	// fail makes the next call matching the key answer with an error.
	fail map[string]failure
}

type failure struct {
	status  int
	reasons []Reason
}

// A Reason is one entry of an API error answer.
type Reason struct {
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

// New starts a Server.
func New(cfg Config) *Server {
	s := &Server{token: cfg.Token, logf: cfg.Logf, nextID: 100, pageSize: cfg.PageSize, images: map[string]*image{}, fail: map[string]failure{}}
	if s.token == "" {
		s.token = "test-token"
	}
	if s.pageSize <= 0 {
		s.pageSize = 2
	}
	if s.logf == nil {
		s.logf = func(string, ...any) {}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v4/images/upload", s.createUpload)
	mux.HandleFunc("PUT /upload/{id}", s.putUpload)
	mux.HandleFunc("GET /v4/images/{id...}", s.getImage)
	mux.HandleFunc("GET /v4/linode/instances", s.listInstances)
	mux.HandleFunc("POST /v4/linode/instances", s.createInstance)
	mux.HandleFunc("GET /v4/linode/instances/{id}", s.withInstance(s.getInstance))
	mux.HandleFunc("GET /v4/linode/instances/{id}/disks", s.withInstance(s.listDisks))
	mux.HandleFunc("GET /v4/linode/instances/{id}/configs", s.withInstance(s.listConfigs))
	mux.HandleFunc("POST /v4/linode/instances/{id}/configs", s.withInstance(s.createConfig))
	mux.HandleFunc("DELETE /v4/linode/instances/{id}/configs/{cid}", s.withInstance(s.deleteConfig))
	mux.HandleFunc("POST /v4/linode/instances/{id}/boot", s.withInstance(s.boot))
	mux.HandleFunc("POST /v4/linode/instances/{id}/shutdown", s.withInstance(s.shutdown))
	mux.HandleFunc("POST /v4/linode/instances/{id}/rebuild", s.withInstance(s.rebuild))
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Method + " " + r.URL.Path
		s.mu.Lock()
		s.calls = append(s.calls, key)
		fail, failing := s.fail[key]
		delete(s.fail, key)
		s.mu.Unlock()
		if r.Method != http.MethodGet {
			s.logf("fakelinode: %s", key)
		}
		// The upload URL is a pre-signed object storage URL: no token.
		if !strings.HasPrefix(r.URL.Path, "/upload/") && r.Header.Get("Authorization") != "Bearer "+s.token {
			apiError(w, http.StatusUnauthorized, "", "Invalid Token")
			return
		}
		if failing {
			writeJSON(w, fail.status, map[string]any{"errors": fail.reasons})
			return
		}
		mux.ServeHTTP(w, r)
	}))
	return s
}

// URL returns the API's base address, with the /v4 version prefix, as
// linodego's UseURL and scripts/linode's Config.BaseURL take it.
func (s *Server) URL() string { return s.srv.URL + "/v4" }

// Token returns the token the Server accepts.
func (s *Server) Token() string { return s.token }

// Close shuts the Server down.
func (s *Server) Close() { s.srv.Close() }

// Calls returns every request served so far, in order, as "METHOD PATH"
// ("POST /v4/linode/instances/123/rebuild"; no query string), with the
// entries added by Note.
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Note appends an entry of the caller's to the call log, so that a test
// can see its own events (a health check, say) on the same timeline.
func (s *Server) Note(entry string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, entry)
}

// FailNext makes the next request call ("POST /v4/linode/instances")
// answer with HTTP status and the reasons, instead of being served.
func (s *Server) FailNext(call string, status int, reasons ...Reason) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[call] = failure{status: status, reasons: reasons}
}
