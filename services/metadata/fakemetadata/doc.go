// Package fakemetadata is a fake Linode Metadata Service, written from
// Linode's documentation of the Metadata API ("Use the Metadata service API",
// techdocs.akamai.com/cloud-computing/docs/metadata-service-api) and from the
// shapes that github.com/linode/go-metadata decodes.
//
// A Server is an http.Handler. Tests use it in-process (Start on a loopback
// listener); the QEMU lab (package qemu) starts it on a listener at
// 169.254.169.254:80 inside a network namespace, so that a guest reaches
// it at the same address as on a real Linode.
//
// What it does, as documented:
//
//   - PUT /v1/token takes the header Metadata-Token-Expiry-Seconds
//     (1..86400; 3600 when absent, the default of Linode's own clients) and
//     answers a 64 hex digit token as text/plain, or as the JSON array
//     ["token"] when the request accepts application/json.
//   - GET /v1/instance, /v1/network and /v1/ssh-keys need the header
//     Metadata-Token holding a live token; they answer JSON when asked for
//     application/json, and otherwise the documented "key.path: value" lines.
//   - GET /v1/user-data answers the user data base64-encoded as text/plain,
//     and an empty 200 body when the Linode has no user data.
//   - A missing, unknown or expired token is 401, a wrong method 405 (with
//     Allow), an unknown path 404; error bodies are the Linode API's
//     {"errors": [{"reason": "...", "field": "..."}]}.
//
// What it adds for tests: the data can be changed while it runs (SetUserData,
// SetVLAN, SetNetwork ...), VLAN interfaces can be held back for the first N
// network answers (HideVLANs, as /v1/network may fill in during early boot),
// tokens can be revoked or aged (RevokeTokens, Advance), the next answers on a
// path can be forced to fail (FailNext), and requests are counted per path
// (Requests).
//
// Where Linode's documentation and go-metadata disagree, the fake follows
// go-metadata (the client tidegate uses, and which Linode tests against the
// real service): the IPv4 "shared" list and the IPv6 "link_local" and
// "shared_ranges" keys (the guide's JSON sketch says "elastic", "link-local"
// and "elastic-ranges"), and /v1/user-data answering text/plain even when the
// request prefers application/json (go-metadata sends Accept:
// application/json there).
package fakemetadata
