package metadata

import (
	"errors"
	"fmt"
	"net/http"
)

// StatusError is an answer of the Metadata Service other than 2xx.
type StatusError struct {
	Method string // "PUT" or "GET"
	Path   string // e.g. "/v1/network"
	Code   int    // HTTP status
	// Reason is from the answer's Linode error list, or the first line of
	// a text body; it may be empty.
	Reason string
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("metadata: %s %s: %d %s", e.Method, e.Path, e.Code, http.StatusText(e.Code))
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// Errors a Wait condition returns while the data it needs is missing.
var (
	// ErrNoUserData: the Linode has no user data. The service says so with
	// a 200 and an empty body; a failed fetch is never reported this way.
	ErrNoUserData = errors.New("metadata: the Linode has no user data")
	// ErrNoVLAN: /v1/network lists no VLAN interface (yet).
	ErrNoVLAN = errors.New("metadata: no VLAN interface listed yet")
)

// ErrUserDataTooLarge is the error (wrapped, naming the request) of user
// data that gunzips to more than MaxUserData bytes: a gzip bomb, or not a
// site file. Fetch stops reading at the cap.
var ErrUserDataTooLarge = fmt.Errorf("gzipped user data expands to more than %d bytes (1 MiB, metadata.MaxUserData); a site file is a few KiB", MaxUserData)
