package metadata

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	gometadata "github.com/linode/go-metadata"
)

// DefaultBaseURL is where a Linode reaches its Metadata Service.
const DefaultBaseURL = "http://169.254.169.254"

// Info is what the Metadata Service says about this Linode.
type Info struct {
	ID       int
	Label    string // the Linode's label: tidegate's hostname and gateway name
	Region   string
	Type     string
	HostUUID string
	Tags     []string

	// VLANs are the interfaces of purpose "vlan" of the Linode's config
	// profile, in the order the service lists them.
	VLANs []VLAN

	PublicIPv4  []netip.Prefix
	PrivateIPv4 []netip.Prefix
	SLAAC       netip.Prefix // the Linode's IPv6 address, if any

	// UserData is the user data, decoded from base64 and, when it starts
	// with the gzip magic, gunzipped; at most MaxUserData bytes. It is
	// empty when the Linode has none.
	// It holds secrets: Info's String and LogValue leave it out, and so must
	// anything else that prints an Info.
	UserData []byte
}

// VLAN is a VLAN interface of the Linode's config profile.
type VLAN struct {
	Label   string // the VLAN's name
	Purpose string // "vlan"
	// IPAMAddress is the address Linode assigned the interface; a zero
	// Prefix when the profile gives none.
	IPAMAddress netip.Prefix
}

// VLAN returns the VLAN interface with this label, or the first one when
// label is empty.
func (i *Info) VLAN(label string) (VLAN, bool) {
	for _, v := range i.VLANs {
		if label == "" || v.Label == label {
			return v, true
		}
	}
	return VLAN{}, false
}

// String describes i without its user data.
func (i Info) String() string {
	var vlans []string
	for _, v := range i.VLANs {
		vlans = append(vlans, v.Label+"="+v.IPAMAddress.String())
	}
	return fmt.Sprintf("linode %d %q (%s, %s) vlans [%s] public %v, %d bytes of user data",
		i.ID, i.Label, i.Region, i.Type, strings.Join(vlans, " "), i.PublicIPv4, len(i.UserData))
}

// GoString keeps %#v from printing the user data.
func (i Info) GoString() string { return "metadata.Info{" + i.String() + "}" }

// LogValue keeps slog from printing the user data.
func (i Info) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.Int("id", i.ID),
		slog.String("label", i.Label),
		slog.String("region", i.Region),
		slog.String("type", i.Type),
		slog.Int("user_data_bytes", len(i.UserData)),
	}
	for _, v := range i.VLANs {
		attrs = append(attrs, slog.String("vlan."+v.Label, v.IPAMAddress.String()))
	}
	return slog.GroupValue(attrs...)
}

// Client reads the Metadata Service. Its methods may be called from several
// goroutines; they take turns.
type Client struct {
	opts options
	md   *gometadata.Client
	err  error // from making md; Fetch returns it

	// mu serialises Fetch: go-metadata keeps the token in a header of
	// its shared resty client, and the call notes ride on one request each.
	mu          sync.Mutex
	token       string
	tokenExpiry time.Time // when to get a new token, ahead of the real expiry
}

// Option configures a Client.
type Option func(*options)

type options struct {
	httpClient  *http.Client
	log         *slog.Logger
	tokenExpiry time.Duration
	minBackoff  time.Duration
	maxBackoff  time.Duration
	logEvery    time.Duration
}

// WithHTTPClient makes the Client talk through hc (its Transport is wrapped,
// hc itself is not changed). The default has no proxy (an HTTP_PROXY must
// not capture a link-local address), a 2 s connect timeout and a 5 s
// timeout per request.
func WithHTTPClient(hc *http.Client) Option { return func(o *options) { o.httpClient = hc } }

// WithLogger sets where Wait reports why it is still waiting. The user data
// is never logged. The default discards.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithTokenExpiry sets the lifetime asked for each token, rounded to
// seconds and held within the service's 1 s .. 24 h. The default is 1 h.
func WithTokenExpiry(d time.Duration) Option { return func(o *options) { o.tokenExpiry = d } }

// WithBackoff sets the least and the most time Wait sleeps between tries
// (default 250 ms and 5 s); the sleep doubles after each failed try.
func WithBackoff(least, most time.Duration) Option {
	return func(o *options) { o.minBackoff, o.maxBackoff = least, most }
}

// WithLogInterval sets how often at most Wait logs that it is still
// waiting (default 5 s).
func WithLogInterval(d time.Duration) Option { return func(o *options) { o.logEvery = d } }

// New returns a Client of the Metadata Service at baseURL (scheme, host and
// optional port, e.g. "http://127.0.0.1:8080"; "" means DefaultBaseURL).
// It does no I/O.
func New(baseURL string, opts ...Option) *Client {
	o := options{
		tokenExpiry: time.Hour,
		minBackoff:  250 * time.Millisecond,
		maxBackoff:  5 * time.Second,
		logEvery:    5 * time.Second,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	o.tokenExpiry = min(max(o.tokenExpiry.Round(time.Second), time.Second), 24*time.Hour)
	o.minBackoff = max(o.minBackoff, time.Millisecond)
	o.maxBackoff = max(o.maxBackoff, o.minBackoff)
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}

	hc := defaultHTTPClient()
	if o.httpClient != nil {
		copied := *o.httpClient
		hc = &copied
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc.Transport = &transport{base: base}

	c := &Client{opts: o}
	// Token management stays here, not in go-metadata: v0.3.1 dates a
	// managed token's expiry at its creation, so it would ask for a new
	// token before every request, and it never retries a 401. Without
	// management NewClient does no I/O.
	md, err := gometadata.NewClient(context.Background(),
		gometadata.ClientWithoutManagedToken(),
		gometadata.ClientWithHTTPClient(hc),
		gometadata.ClientWithUAPrefix("tidegate"),
		gometadata.ClientWithLogger(restyLogger{o.log}),
	)
	if err != nil {
		c.err = fmt.Errorf("metadata: making the client: %w", err)
		return c
	}
	// Not ClientWithBaseURL: in v0.3.1 it panics (it sets the URL before
	// the resty client exists).
	md.SetBaseURL(baseURL)
	c.md = md
	return c
}

func defaultHTTPClient() *http.Client {
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
			ResponseHeaderTimeout: 5 * time.Second,
			MaxIdleConns:          2,
			IdleConnTimeout:       30 * time.Second,
		},
	}
}

// restyLogger passes resty's messages to slog at debug level. resty logs
// bodies only in its debug mode, which stays off: go-metadata turns it off
// after reading LINODE_DEBUG unless asked with ClientWithDebug.
type restyLogger struct{ l *slog.Logger }

func (r restyLogger) Errorf(format string, v ...any) { r.log(format, v...) }

func (r restyLogger) Warnf(format string, v ...any) { r.log(format, v...) }

func (r restyLogger) Debugf(format string, v ...any) { r.log(format, v...) }

func (r restyLogger) log(format string, v ...any) {
	r.l.Debug("resty: " + strings.TrimSpace(fmt.Sprintf(format, v...)))
}
