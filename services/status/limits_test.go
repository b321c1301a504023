package status

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The tests here attack a Server on a real TCP listener, through Serve, as
// a client on the VLAN would.

// TestSlowHeaders is slowloris: a client that sends its request line and
// then one header line at a time, never ending the headers. The server
// must close it at its header timeout, without an answer, while a normal
// client is answered.
func TestSlowHeaders(t *testing.T) {
	s := newServer(t, Config{Status: masterDoc})
	s.limits.readHeader, s.limits.read = 300*time.Millisecond, time.Second
	addr := serveTCP(t, s)

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	if _, err := io.WriteString(c, "GET /status HTTP/1.1\r\nHost: gw\r\n"); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if _, err := fmt.Fprintf(c, "X-Slow-%d: x\r\n", i); err != nil {
				return // closed by the server
			}
		}
	}()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(c)
	elapsed := time.Since(start)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server kept a trickling client for %s", elapsed)
	}
	if len(got) > 0 {
		t.Errorf("the server answered a request whose headers never ended: %q", got)
	}
	if elapsed < 250*time.Millisecond || elapsed > 3*time.Second {
		t.Errorf("closed after %s, want about the 300ms header timeout", elapsed)
	}

	// The same limits let a real request through.
	code, _, _ := get(t, "http://"+addr+"/healthz")
	if code != http.StatusOK {
		t.Errorf("GET /healthz: %d", code)
	}
}

// TestHeaderBytes sends headers well over the cap: 431, and a request
// with ordinary headers still works.
func TestHeaderBytes(t *testing.T) {
	s := newServer(t, Config{Status: masterDoc})
	addr := serveTCP(t, s)
	for _, tc := range []struct {
		name  string
		bytes int
		code  int
	}{
		{"ordinary", 1 << 10, http.StatusOK},
		{"at the cap", s.limits.headerBytes - 512, http.StatusOK},
		{"64 KiB", 64 << 10, http.StatusRequestHeaderFieldsTooLarge},
		{"256 KiB", 256 << 10, http.StatusRequestHeaderFieldsTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/healthz", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Big", strings.Repeat("a", tc.bytes))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.code {
				t.Errorf("%d bytes of header: %d, want %d", tc.bytes, resp.StatusCode, tc.code)
			}
		})
	}
}

// TestConnectionCap opens more connections than the cap, each asking for
// /status while the gateway's snapshot is slow: no more than the cap are
// served at once, and the others are served once those end.
func TestConnectionCap(t *testing.T) {
	const limit, clients = 3, 8
	var (
		inside, most atomic.Int32
		release      = make(chan struct{})
	)
	s := newServer(t, Config{Status: func() Document {
		n := inside.Add(1)
		defer inside.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		<-release
		return masterDoc()
	}})
	s.limits.conns = limit
	addr := serveTCP(t, s)

	var wg sync.WaitGroup
	codes := make(chan int, clients)
	for range clients {
		wg.Go(func() {
			// A client of its own each: one connection per request.
			c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 20 * time.Second}
			resp, err := c.Get("http://" + addr + "/status")
			if err != nil {
				t.Error(err)
				codes <- 0
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes <- resp.StatusCode
		})
	}
	deadline := time.Now().Add(5 * time.Second)
	for inside.Load() < limit && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // time for a fourth to get in, if it could
	if n := inside.Load(); n != limit {
		t.Errorf("%d requests served at once, want the cap, %d", n, limit)
	}
	close(release)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Errorf("a queued client got %d", c)
		}
	}
	if m := most.Load(); m != limit {
		t.Errorf("at most %d requests at once, want %d", m, limit)
	}
}
