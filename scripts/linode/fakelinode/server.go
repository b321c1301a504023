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

	// OnShutdown and OnBoot let a real machine stand behind each fake
	// instance. Each runs on its own goroutine, so the request that caused
	// it is answered at once, and never two at once for an instance; until
	// it returns, the instance shows the action's transitional status and
	// other actions on it get "Linode busy.". Nil hooks leave the fake as
	// it is without them: transitional states end at the next GET of the
	// instance.
	//
	// OnShutdown is called when the instance is to be shut down: by the
	// shutdown action ("shutting_down", then "offline"), and by a rebuild
	// of a running instance, which Linode shuts down first ("rebuilding"
	// throughout, then "offline", or on to booting if the rebuild boots).
	// If it fails the action stops and the instance is
	// StatusShutdownFailed ("running"); a rebuild is not undone.
	OnShutdown func(label string) error
	// OnBoot is called whenever the instance boots: the boot action, a
	// rebuild or a create with booted true (the default). image is the
	// image its disk holds now (private/N) and userData its metadata user
	// data, decoded (nil if none). The instance is "booting" while it runs
	// and "running" after. If it fails the instance is StatusBootFailed
	// ("offline").
	OnBoot func(label, image string, userData []byte) error
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

	onShutdown func(string) error
	onBoot     func(string, string, []byte) error
	hooks      sync.WaitGroup // hooks running
	closed     bool           // no hooks start once set
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
	s := &Server{token: cfg.Token, logf: cfg.Logf, onShutdown: cfg.OnShutdown, onBoot: cfg.OnBoot, nextID: 100, pageSize: cfg.PageSize, images: map[string]*image{}, fail: map[string]failure{}}
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

// Close shuts the Server down and waits for the hooks that are running;
// it starts no other.
func (s *Server) Close() {
	s.srv.Close()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.hooks.Wait()
}

// Calls returns every request served so far, in order, as "METHOD PATH"
// ("POST /v4/linode/instances/123/rebuild"; no query string), with the
// entries added by Note and, where they happened, "OnShutdown LABEL" and
// "OnBoot LABEL" when a hook starts and "OnBoot LABEL failed: ERR" when
// one fails.
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
