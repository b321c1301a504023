package metadata

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"fmt"
	"io"
)

// MaxUserData caps the user data once decoded and gunzipped. Linode takes
// at most 64 KiB of base64 and a site file is a few KiB, but gzip packs
// 100 MiB of zeros into 100 KiB: without a cap, user data crafted by
// whoever can edit the Linode would exhaust the gateway's memory at boot.
const MaxUserData = 1 << 20

// gzipMagic starts gzipped user data; go-metadata tests the same three
// bytes.
var gzipMagic = []byte{0x1f, 0x8b, 0x08}

// getUserData fetches the user data and decodes it as go-metadata's
// GetUserData does (base64, then gunzip when it starts with the gzip
// magic), but gunzips through the cap: go-metadata v0.3.1 reads the whole
// gzip stream into memory. The request goes through go-metadata's resty
// client, so that it carries the token and rides the transport's notes
// (status, body cap) like the other calls.
func (c *Client) getUserData(ctx context.Context) ([]byte, error) {
	resp, err := c.md.R(ctx).Get("user-data")
	if err != nil {
		return nil, err
	}
	return decodeUserData(resp.Body())
}

// decodeUserData turns the body of /v1/user-data into the user data. Its
// errors never quote the data: it holds pre-shared keys.
func decodeUserData(body []byte) ([]byte, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, nil
	}
	raw := make([]byte, base64.StdEncoding.DecodedLen(len(body)))
	n, err := base64.StdEncoding.Decode(raw, body)
	if err != nil {
		return nil, fmt.Errorf("user data is not base64: %w", err)
	}
	raw = raw[:n]
	if !bytes.HasPrefix(raw, gzipMagic) {
		return raw, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("user data starts like gzip but is not: %w", err)
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, MaxUserData+1))
	if err != nil {
		return nil, fmt.Errorf("gunzipping the user data: %w", err)
	}
	if len(out) > MaxUserData {
		return nil, ErrUserDataTooLarge
	}
	return out, nil
}
