package qemu

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// LockFile serializes QEMU suites on this machine: two cores cannot run two
// of them side by side without timeouts. Anything that boots guests for a
// while (tests, benchmarks, the lab) holds it.
const LockFile = "/tmp/tidegate-qemu.lock"

// held keeps the locked file reachable: a collected *os.File closes its
// descriptor and with it the lock.
var held []*os.File

// Lock takes LockFile, waiting (and saying so on stderr) while another
// suite holds it. The lock goes with the process; unlock releases it early.
func Lock() (unlock func()) {
	f, err := os.OpenFile(LockFile, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return func() {}
	}
	if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
		fmt.Fprintf(os.Stderr, "qemu: waiting for %s (another QEMU suite runs)\n", LockFile)
		unix.Flock(int(f.Fd()), unix.LOCK_EX)
	}
	held = append(held, f)
	return func() { f.Close() }
}
