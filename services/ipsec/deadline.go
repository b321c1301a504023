package ipsec

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/strongswan/govici/vici"
)

// Every exchange with charon over VICI has a deadline, so that a hung
// charon (one that accepts on its socket and never answers) cannot hang
// the service, and with it the gateway's main loop. A missed deadline is a
// transport error (errCharon): the session ends and charon is restarted.
const (
	// readTimeout bounds commands that only read charon's state, and
	// event (un)registration: charon answers them from memory.
	readTimeout = 5 * time.Second
	// changeTimeout bounds commands that change it: loading a connection
	// or key, initiating (which answers at once: timeout -1), terminating
	// (which waits up to 2 s for the peer's DELETE).
	changeTimeout = 10 * time.Second
	// connectTimeout bounds connecting to the VICI socket.
	connectTimeout = time.Second
)

// callTimeout is the deadline of one VICI command.
func callTimeout(cmd string) time.Duration {
	switch cmd {
	case "version", "stats", "list-sas", "list-conns", "get-conns", "get-shared":
		return readTimeout
	}
	return changeTimeout
}

// newSession connects to charon's VICI socket.
func newSession(socket string) (*vici.Session, error) {
	d := &net.Dialer{Timeout: connectTimeout}
	return vici.NewSession(vici.WithSocketPath(socket), vici.WithDialContext(d.DialContext))
}

// subscribe registers sess for events. govici's Subscribe takes no
// context: past the deadline the session is closed under it, which ends
// the wait.
func subscribe(ctx context.Context, sess *vici.Session, events ...string) error {
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- sess.Subscribe(events...) }()
	select {
	case err := <-done:
		if err != nil {
			return errCharon{fmt.Errorf("subscribing to %v: %w", events, err)}
		}
		return nil
	case <-ctx.Done():
		_ = sess.Close()
		return errCharon{fmt.Errorf("subscribing to %v: %w", events, ctx.Err())}
	}
}
