package metadata_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tidegate/tidegate/services/metadata"
)

// gzippedZeros returns n zero bytes gzipped, written in chunks so that the test
// itself never holds them.
func gzippedZeros(t *testing.T, n int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(zw, zeroReader{}, n); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestUserDataGzipBomb serves gzipped user data around the cap and a real
// gzip bomb (100 MiB of zeros in about 100 KiB) from the fake service:
// the bomb is an error that names the user data and the cap, Fetch
// returns it at once, and it allocates a few MiB, not 100.
func TestUserDataGzipBomb(t *testing.T) {
	tests := []struct {
		name    string
		data    func(t *testing.T) []byte
		wantErr bool
	}{
		{"at the cap", func(t *testing.T) []byte { return gzippedZeros(t, metadata.MaxUserData) }, false},
		{"one byte over", func(t *testing.T) []byte { return gzippedZeros(t, metadata.MaxUserData+1) }, true},
		{"100 MiB of zeros", func(t *testing.T) []byte { return gzippedZeros(t, 100<<20) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := fakeConfig()
			cfg.UserData = tt.data(t)
			_, url := startFake(t, cfg)
			c := metadata.New(url)

			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			info, err := c.Fetch(context.Background())
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			t.Logf("%d bytes of gzip: %v in %s, %d KiB allocated", len(cfg.UserData), err, elapsed, (after.TotalAlloc-before.TotalAlloc)>>10)

			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
				t.Errorf("Fetch allocated %d MiB", alloc>>20)
			}
			if elapsed > 3*time.Second {
				t.Errorf("Fetch took %s", elapsed)
			}
			if !tt.wantErr {
				if err != nil || len(info.UserData) != metadata.MaxUserData {
					t.Fatalf("Fetch: %v", err)
				}
				return
			}
			if info != nil {
				t.Errorf("Fetch returned an Info with its error")
			}
			if !errors.Is(err, metadata.ErrUserDataTooLarge) {
				t.Errorf("err = %v, want ErrUserDataTooLarge", err)
			}
			for _, want := range []string{"/v1/user-data", "user data", "1 MiB", "1048576 bytes"} {
				if err != nil && !strings.Contains(err.Error(), want) {
					t.Errorf("err = %q, want it to say %q", err, want)
				}
			}
		})
	}
}

// TestUserDataNotGzip: data that starts with the gzip magic but is not
// gzip is an error, and text that is not gzip is taken as it is.
func TestUserDataNotGzip(t *testing.T) {
	for _, tt := range []struct {
		name, data, wantErr string
	}{
		{"truncated gzip", string(gzippedZeros(t, 1000)[:20]), "gunzipping the user data"},
		{"magic only", "\x1f\x8b\x08", "starts like gzip but is not"},
		{"text", "version: 1\n", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := fakeConfig()
			cfg.UserData = []byte(tt.data)
			_, url := startFake(t, cfg)
			info, err := metadata.New(url).Fetch(context.Background())
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatal(err)
			case tt.wantErr == "":
				if string(info.UserData) != tt.data {
					t.Errorf("user data = %q", info.UserData)
				}
			case err == nil || !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("err = %v, want it to say %q", err, tt.wantErr)
			}
		})
	}
}
