package metadata

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"unicode"
)

// maxBody caps what one answer may hold. Linode limits user data to a few
// tens of KiB; a bigger answer is not the Metadata Service.
const maxBody = 1 << 20

// errBodyTooLarge is the error of an answer longer than maxBody.
var errBodyTooLarge = fmt.Errorf("answer longer than %d bytes", maxBody)

// transport sits under go-metadata's resty client and notes, per request,
// what go-metadata v0.3.1 loses:
//
//   - the HTTP status: go-metadata reports a non-2xx answer as an error only
//     when its body parses as a Linode {"errors": [...]} list with at least
//     one entry; a 401 or 503 with any other body comes back as success and
//     an empty result;
//   - the Content-Type: a JSON endpoint that answers text/plain also comes
//     back as success and an empty result;
//   - the error of a failed round trip: go-metadata flattens it into a
//     string, so errors.Is(err, syscall.ECONNREFUSED) would not work.
//
// It leaves the answers themselves alone (as a RoundTripper must); Fetch
// reads the notes from the call in the request's context.
type transport struct {
	base http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	c, _ := req.Context().Value(callKey{}).(*call)
	resp, err := t.base.RoundTrip(req)
	if c == nil {
		return resp, err
	}
	if err != nil {
		c.setErr(err)
		return nil, err
	}
	c.mu.Lock()
	c.status = resp.StatusCode
	c.contentType = resp.Header.Get("Content-Type")
	c.mu.Unlock()

	if resp.StatusCode/100 != 2 {
		// Keep the start of an error body for the reason, and hand
		// go-metadata the same bytes.
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		_ = resp.Body.Close()
		c.mu.Lock()
		c.reason = reasonOf(b, c.contentType)
		c.mu.Unlock()
		resp.Body = io.NopCloser(bytes.NewReader(b))
		return resp, nil
	}
	resp.Body = &cappedBody{rc: resp.Body, left: maxBody, c: c}
	return resp, nil
}

// callKey keys the *call of a request in its context.
type callKey struct{}

// call collects what transport saw of one go-metadata request.
type call struct {
	mu          sync.Mutex
	err         error // the round trip or the body read failed
	status      int   // 0 when no answer came
	contentType string
	reason      string // from a non-2xx answer's body
}

func withCall(ctx context.Context) (context.Context, *call) {
	c := new(call)
	return context.WithValue(ctx, callKey{}, c), c
}

func (c *call) setErr(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
	}
}

// failure returns the error the call met on the wire, if any: a failed round
// trip or body read, or a non-2xx status as a *StatusError.
func (c *call) failure(method, path string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.err != nil:
		return fmt.Errorf("metadata: %s %s: %w", method, path, c.err)
	case c.status != 0 && c.status/100 != 2:
		return &StatusError{Method: method, Path: path, Code: c.status, Reason: c.reason}
	}
	return nil
}

// isJSON reports whether the answer said it was JSON.
func (c *call) isJSON() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	mt, _, err := mime.ParseMediaType(c.contentType)
	return err == nil && mt == "application/json"
}

// cappedBody fails a read past maxBody, and notes the read error in the call.
type cappedBody struct {
	rc   io.ReadCloser
	left int64
	c    *call
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells "exactly maxBody" from "longer".
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			b.c.setErr(errBodyTooLarge)
			return 0, errBodyTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		b.c.setErr(err)
	}
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }

// reasonOf makes a short reason of an error body: the Linode API's error
// list when the body is one, else the first line of a text body.
func reasonOf(b []byte, contentType string) string {
	var apiErr struct {
		Errors []struct {
			Field  string `json:"field"`
			Reason string `json:"reason"`
		} `json:"errors"`
	}
	if json.Unmarshal(b, &apiErr) == nil && len(apiErr.Errors) > 0 {
		var parts []string
		for _, e := range apiErr.Errors {
			if e.Field != "" {
				parts = append(parts, e.Field+": "+e.Reason)
			} else {
				parts = append(parts, e.Reason)
			}
		}
		return clip(strings.Join(parts, "; "))
	}
	if mt, _, _ := mime.ParseMediaType(contentType); mt != "text/plain" {
		return ""
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return clip(line)
}

// clip keeps a reason short and printable: it goes into logs.
func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, strings.TrimSpace(s))
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}
