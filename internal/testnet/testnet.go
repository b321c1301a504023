// Package testnet gives tests network addresses with a known behaviour.
//
// Only tests import it.
package testnet

import (
	"net"
	"testing"
)

// ClosedAddr returns a loopback TCP address ("127.0.0.1:PORT") where
// nothing listens, so that connecting to it is refused: a port the kernel
// just handed out and that was closed again at once.
func ClosedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
