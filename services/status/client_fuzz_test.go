package status

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// bodyTransport answers every request with one body, as a gateway (or
// whatever answers at its address) might.
type bodyTransport struct {
	code int
	body []byte
}

func (b bodyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: b.code,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(bytes.NewReader(b.body)),
		Request:    r,
	}, nil
}

// FuzzClientStatus feeds Client.Status and Client.Health arbitrary
// answers: `tidegate status ADDRESS` and the rolling reimage read whatever
// answers at an address. Properties: no panic; a Document that decodes
// renders without error (the tables must survive any values); and it
// survives a JSON round trip unchanged.
func FuzzClientStatus(f *testing.F) {
	for _, doc := range []func() Document{masterDoc, backupDoc, configuringDoc} {
		b, err := json.Marshal(doc())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := NewClient("192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		c.hc.Transport = bodyTransport{http.StatusOK, body}
		ctx := context.Background()
		if h, err := c.Health(ctx); err == nil && h == nil {
			t.Fatal("Health: nil report without an error")
		}
		d, err := c.Status(ctx)
		if err != nil {
			if d != nil {
				t.Fatal("Status returned a Document with its error")
			}
			return
		}
		var out bytes.Buffer
		if err := WriteAll(&out, d); err != nil {
			t.Fatalf("WriteAll: %v", err)
		}
		first, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("re-encoding a decoded Document: %v", err)
		}
		var again Document
		if err := json.Unmarshal(first, &again); err != nil {
			t.Fatalf("decoding a re-encoded Document: %v\n%s", err, first)
		}
		second, err := json.Marshal(&again)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, second) {
			t.Fatalf("JSON round trip changed the Document:\n%s\n%s", first, second)
		}
	})
}
