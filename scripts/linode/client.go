package linode

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"time"

	"github.com/linode/linodego"
)

// Config configures a Client.
type Config struct {
	// Token is a Linode personal access token with read/write access to
	// Linodes and Images. Required.
	Token string
	// BaseURL is the API's address; [https://api.linode.com/v4]. Tests point
	// it at a fake server (fakelinode.Server.URL).
	BaseURL string
	// HTTPClient makes the API requests; [a default client].
	HTTPClient *http.Client
	// PollInterval is how often image and instance states (and gateway
	// health) are polled; [5s].
	PollInterval time.Duration
	// ImageTimeout bounds the wait for an uploaded image to become
	// available; [30m] (Linode processes an upload in a few minutes).
	ImageTimeout time.Duration
	// InstanceTimeout bounds each wait for an instance state (provisioned,
	// rebuilt, running, offline); [10m].
	InstanceTimeout time.Duration
	// Progress receives one line per step, for the operator; nil discards.
	Progress io.Writer
}

// A Client deploys tidegate through the Linode API.
type Client struct {
	api  *linodego.Client
	cfg  Config
	rand io.Reader // for root passwords; crypto/rand
}

// New returns a Client.
func New(cfg Config) (*Client, error) {
	if cfg.Token == "" {
		return nil, errors.New("no Linode API token (set LINODE_TOKEN to a personal access token with Linodes and Images read/write)")
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 5 * time.Second
	}
	if cfg.ImageTimeout <= 0 {
		cfg.ImageTimeout = 30 * time.Minute
	}
	if cfg.InstanceTimeout <= 0 {
		cfg.InstanceTimeout = 10 * time.Minute
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	api := linodego.NewClient(cfg.HTTPClient)
	api.SetToken(cfg.Token)
	if cfg.BaseURL != "" {
		if _, err := api.UseURL(cfg.BaseURL); err != nil {
			return nil, fmt.Errorf("API URL: %w", err)
		}
	}
	// Every read must see the current state: linodego caches some GETs.
	api.UseCache(false)
	api.SetPollDelay(cfg.PollInterval)
	api.SetRetryWaitTime(cfg.PollInterval)
	api.SetRetryMaxWaitTime(4 * cfg.PollInterval)
	return &Client{api: &api, cfg: cfg, rand: rand.Reader}, nil
}

func (c *Client) progress(format string, args ...any) {
	fmt.Fprintf(c.cfg.Progress, format+"\n", args...)
}

// timeoutSeconds converts a timeout for linodego's WaitFor functions, which
// count whole seconds.
func timeoutSeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}

// rootPassword makes a password the API accepts (it requires one, or SSH
// keys, when deploying an image). tidegate has no login, so nobody needs to
// know it; it is long and random so that nothing can guess it either.
func (c *Client) rootPassword() (string, error) {
	const (
		lower   = "abcdefghijklmnopqrstuvwxyz"
		upper   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		digits  = "0123456789"
		symbols = "!#%+,-.:=@^_~"
	)
	// One of each class first satisfies the API's strength check whatever
	// the rest turns out to be.
	sets := []string{lower, upper, digits, symbols}
	all := lower + upper + digits + symbols
	b := make([]byte, 40)
	for i := range b {
		set := all
		if i < len(sets) {
			set = sets[i]
		}
		n, err := rand.Int(c.rand, big.NewInt(int64(len(set))))
		if err != nil {
			return "", fmt.Errorf("root password: %w", err)
		}
		b[i] = set[n.Int64()]
	}
	return string(b), nil
}

// waitInstance waits for the instance to reach status.
func (c *Client) waitInstance(ctx context.Context, inst *linodego.Instance, status linodego.InstanceStatus) (*linodego.Instance, error) {
	got, err := c.api.WaitForInstanceStatus(ctx, inst.ID, status, timeoutSeconds(c.cfg.InstanceTimeout))
	if err != nil {
		return nil, fmt.Errorf("%s (%d): waiting for %s: %w", inst.Label, inst.ID, status, err)
	}
	return got, nil
}
