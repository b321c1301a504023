package metadata

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	gometadata "github.com/linode/go-metadata"
)

// Fetch reads the instance, network and user data documents once, getting a
// token first when it holds none or the one it holds is about to expire.
// When the service refuses the token (401) Fetch gets a new one and asks
// again, once per Fetch.
//
// A Linode without user data is not an error: Info.UserData is then empty.
func (c *Client) Fetch(ctx context.Context) (*Info, error) {
	if c.err != nil {
		return nil, c.err
	}
	c.mu.Lock()
	defer c.mu.Unlock()

	if c.token == "" || !time.Now().Before(c.tokenExpiry) {
		if err := c.refreshToken(ctx); err != nil {
			return nil, err
		}
	}
	f := fetch{c: c}

	in, err := getDoc(ctx, &f, "/v1/instance", true, c.md.GetInstance)
	if err != nil {
		return nil, err
	}
	n, err := getDoc(ctx, &f, "/v1/network", true, c.md.GetNetwork)
	if err != nil {
		return nil, err
	}
	ud, err := getDoc(ctx, &f, "/v1/user-data", false, c.getUserData)
	if err != nil {
		return nil, err
	}

	info := &Info{
		ID:          in.ID,
		Label:       in.Label,
		Region:      in.Region,
		Type:        in.Type,
		HostUUID:    in.HostUUID,
		Tags:        in.Tags,
		PublicIPv4:  n.IPv4.Public,
		PrivateIPv4: n.IPv4.Private,
		SLAAC:       n.IPv6.SLAAC,
	}
	for _, ifc := range n.Interfaces {
		if ifc.Purpose == "vlan" {
			info.VLANs = append(info.VLANs, VLAN{Label: ifc.Label, Purpose: ifc.Purpose, IPAMAddress: ifc.IPAMAddress})
		}
	}
	if len(ud) > 0 {
		info.UserData = ud
	}
	return info, nil
}

// fetch is the state of one Fetch.
type fetch struct {
	c         *Client
	refreshed bool // a 401 already got a new token
}

// get runs one go-metadata GET, and judges it by what the transport saw.
func (f *fetch) get(ctx context.Context, path string, wantJSON bool, do func(context.Context) error) error {
	for {
		cctx, cl := withCall(ctx)
		err := do(cctx)
		failure := cl.failure(http.MethodGet, path)

		var se *StatusError
		if errors.As(failure, &se) && se.Code == http.StatusUnauthorized {
			// The token expired early, or the service forgot it
			// (a migration, a restart): one new token, one more try.
			f.c.token = ""
			if f.refreshed {
				return failure
			}
			f.refreshed = true
			f.c.opts.log.Debug("metadata token refused, getting a new one", "path", path)
			if err := f.c.refreshToken(ctx); err != nil {
				return err
			}
			continue
		}
		if failure != nil {
			return failure
		}
		if err != nil {
			return fmt.Errorf("metadata: GET %s: %w", path, err)
		}
		if wantJSON && !cl.isJSON() {
			// go-metadata would hand back an empty document.
			return fmt.Errorf("metadata: GET %s: answer is not JSON", path)
		}
		return nil
	}
}

// getDoc is get for a call that returns a document.
func getDoc[T any](ctx context.Context, f *fetch, path string, wantJSON bool, call func(context.Context) (T, error)) (T, error) {
	var doc T
	err := f.get(ctx, path, wantJSON, func(ctx context.Context) (err error) {
		doc, err = call(ctx)
		return err
	})
	return doc, err
}

// refreshToken gets a new token and hands it to go-metadata; c.mu is held.
func (c *Client) refreshToken(ctx context.Context) error {
	secs := int(c.opts.tokenExpiry / time.Second)
	start := time.Now()
	cctx, cl := withCall(ctx)
	tok, err := c.md.GenerateToken(cctx, gometadata.TokenWithExpiry(secs))
	if failure := cl.failure(http.MethodPut, "/v1/token"); failure != nil {
		return failure
	}
	if err != nil {
		return fmt.Errorf("metadata: PUT /v1/token: %w", err)
	}
	c.md.UseToken(tok)
	c.token = tok
	// Renew ahead of the service's clock: a tenth of the lifetime early,
	// at most a minute.
	c.tokenExpiry = start.Add(c.opts.tokenExpiry - min(c.opts.tokenExpiry/10, time.Minute))
	return nil
}
