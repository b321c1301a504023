package ipsec

import (
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/strongswan/govici/vici"
)

// hungCharon listens on a VICI socket like a hung charon: it accepts
// connections and reads requests, but never answers.
func hungCharon(t *testing.T) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "charon.vici")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); _, _ = io.Copy(io.Discard, c) }()
		}
	}()
	return sock
}

// TestHungCharon: every way the service talks to charon gives up at its
// deadline with a transport error (which restarts charon), even when the
// caller's context has none.
func TestHungCharon(t *testing.T) {
	sock := hungCharon(t)
	var wg sync.WaitGroup
	for _, tc := range []struct {
		name     string
		deadline time.Duration
		do       func(ctx context.Context, sess *vici.Session) error
	}{
		{"version", readTimeout, func(ctx context.Context, sess *vici.Session) error {
			_, err := call(ctx, sess, "version", nil)
			return err
		}},
		{"get-conns", readTimeout, func(ctx context.Context, sess *vici.Session) error {
			_, err := listed(ctx, sess, "get-conns", "conns")
			return err
		}},
		{"load-conn", changeTimeout, func(ctx context.Context, sess *vici.Session) error {
			m := vici.NewMessage()
			_ = m.Set("name", "x")
			_, err := call(ctx, sess, "load-conn", m)
			return err
		}},
		{"subscribe", readTimeout, func(ctx context.Context, sess *vici.Session) error {
			return subscribe(ctx, sess, subscribed...)
		}},
		{"lister", readTimeout, func(ctx context.Context, _ *vici.Session) error {
			l, err := newLister(ctx, sock)
			if err == nil {
				l.Close()
			}
			return err
		}},
	} {
		// At once rather than t.Parallel, which runs GOMAXPROCS at a time:
		// the test lasts as long as its longest deadline.
		wg.Go(func() {
			sess, err := newSession(sock)
			if err != nil {
				t.Error(err)
				return
			}
			defer sess.Close()
			start := time.Now()
			err = tc.do(context.Background(), sess)
			d := time.Since(start)
			var ec errCharon
			if !errors.As(err, &ec) {
				t.Errorf("%s: error %v, want a transport error (errCharon)", tc.name, err)
			}
			if d > tc.deadline+time.Second {
				t.Errorf("%s: returned after %v, want within the %v deadline", tc.name, d, tc.deadline)
			}
			if d < tc.deadline-100*time.Millisecond {
				t.Errorf("%s: returned after %v, before the %v deadline: %v", tc.name, d, tc.deadline, err)
			}
		})
	}
	wg.Wait()
}

// TestHungCharonCancel: the caller's context ends a call sooner.
func TestHungCharonCancel(t *testing.T) {
	sess, err := newSession(hungCharon(t))
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := call(ctx, sess, "list-sas", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want the context's deadline", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("returned after %v, want about 100ms", d)
	}
}
