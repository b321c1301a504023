package fakemetadata

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"maps"
	"mime"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Header names of the Metadata API.
const (
	HeaderToken       = "Metadata-Token"
	HeaderTokenExpiry = "Metadata-Token-Expiry-Seconds"
)

// Token lifetimes the service accepts, in seconds, and the one it gives when
// the request names none. Linode's guide always sends the header; 3600 is
// the default of Linode's own clients (go-metadata, py-metadata).
const (
	MinTokenExpiry     = 1
	MaxTokenExpiry     = 86400
	DefaultTokenExpiry = 3600
)

// ServeHTTP answers one Metadata API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path

	s.mu.Lock()
	s.requests[path]++
	code := 0
	if f := s.failures[path]; len(f) > 0 {
		code, s.failures[path] = f[0], f[1:]
	}
	s.mu.Unlock()
	if code != 0 {
		// Deliberately not the API's JSON error shape: this stands for a
		// service or proxy in trouble.
		http.Error(w, http.StatusText(code), code)
		return
	}

	switch path {
	case "/v1/token":
		if r.Method != http.MethodPut {
			methodNotAllowed(w, http.MethodPut)
			return
		}
		s.serveToken(w, r)
	case "/v1/instance", "/v1/network", "/v1/ssh-keys", "/v1/user-data":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w, http.MethodGet+", "+http.MethodHead)
			return
		}
		if !s.authorized(r.Header.Get(HeaderToken)) {
			writeError(w, http.StatusUnauthorized, apiError{Reason: "Unauthorized"})
			return
		}
		s.serveData(w, r, path)
	default:
		writeError(w, http.StatusNotFound, apiError{Reason: "Not found"})
	}
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	expiry := DefaultTokenExpiry
	if v := r.Header.Get(HeaderTokenExpiry); v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < MinTokenExpiry || n > MaxTokenExpiry {
			writeError(w, http.StatusBadRequest, apiError{
				Field:  HeaderTokenExpiry,
				Reason: "Must be an integer between " + strconv.Itoa(MinTokenExpiry) + " and " + strconv.Itoa(MaxTokenExpiry),
			})
			return
		}
		expiry = n
	}

	var raw [32]byte
	_, _ = rand.Read(raw[:]) // never fails (crypto/rand)
	token := hex.EncodeToString(raw[:])

	s.mu.Lock()
	now := s.now()
	maps.DeleteFunc(s.tokens, func(_ string, exp time.Time) bool { return !now.Before(exp) })
	s.tokens[token] = now.Add(time.Duration(expiry) * time.Second)
	s.mu.Unlock()

	if acceptsJSON(r) {
		writeJSON(w, http.StatusOK, []string{token})
		return
	}
	writeText(w, token)
}

func (s *Server) authorized(token string) bool {
	if token == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[token]
	return ok && s.now().Before(exp)
}

func (s *Server) serveData(w http.ResponseWriter, r *http.Request, path string) {
	s.mu.Lock()
	var doc any
	switch path {
	case "/v1/instance":
		in := cloneInstance(s.cfg.Instance)
		if in.Tags == nil {
			in.Tags = []string{}
		}
		doc = in
	case "/v1/network":
		n := cloneNetwork(s.cfg.Network)
		if s.hideVLANs > 0 {
			s.hideVLANs--
			n.Interfaces = slices.DeleteFunc(n.Interfaces, func(ifc Interface) bool { return ifc.Purpose == "vlan" })
		}
		doc = nonNilNetwork(n)
	case "/v1/ssh-keys":
		users := make(map[string][]string, len(s.cfg.SSHKeys))
		for u, k := range s.cfg.SSHKeys {
			users[u] = append([]string{}, k...)
		}
		doc = map[string]any{"users": users}
	case "/v1/user-data":
		// The user data is only ever text/plain: base64, or nothing at all
		// when the Linode has none.
		body := base64.StdEncoding.EncodeToString(s.cfg.UserData)
		s.mu.Unlock()
		writeText(w, body)
		return
	}
	s.mu.Unlock()

	if acceptsJSON(r) {
		writeJSON(w, http.StatusOK, doc)
		return
	}
	text, err := plainText(doc)
	if err != nil {
		writeError(w, http.StatusInternalServerError, apiError{Reason: err.Error()})
		return
	}
	writeText(w, text)
}

// nonNilNetwork turns nil lists into empty ones, so that they are served as
// [] rather than null.
func nonNilNetwork(n Network) Network {
	if n.Interfaces == nil {
		n.Interfaces = []Interface{}
	}
	for _, l := range []*[]netip.Prefix{&n.IPv4.Public, &n.IPv4.Private, &n.IPv4.Shared, &n.IPv6.Ranges, &n.IPv6.SharedRanges} {
		if *l == nil {
			*l = []netip.Prefix{}
		}
	}
	return n
}

// acceptsJSON reports whether the request names application/json among the
// media types it accepts; the service's default is text/plain.
func acceptsJSON(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(v, ",") {
			mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err == nil && mt == "application/json" {
				return true
			}
		}
	}
	return false
}

// apiError is one entry of the Linode API's error list.
type apiError struct {
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

func writeError(w http.ResponseWriter, code int, errs ...apiError) {
	writeJSON(w, code, struct {
		Errors []apiError `json:"errors"`
	}{errs})
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, apiError{Reason: "Method Not Allowed"})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"errors":[{"reason":"encoding the answer failed"}]}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

func writeText(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(body))
}
