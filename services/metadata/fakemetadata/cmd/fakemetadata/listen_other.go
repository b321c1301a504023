//go:build !linux

package main

import (
	"context"
	"fmt"
	"net"
)

// listenTCP listens on addr; freebind is a Linux socket option and is
// ignored here.
func listenTCP(ctx context.Context, addr string, _ bool) (net.Listener, error) {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	return ln, nil
}
