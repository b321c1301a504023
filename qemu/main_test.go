package qemu

import (
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// QEMULock serializes QEMU suites on this machine: two cores cannot run two
// of them side by side without timeouts. Anything that boots guests for a
// while (tests, benchmarks, the lab) holds it.
const QEMULock = "/tmp/tidegate-qemu.lock"

func TestMain(m *testing.M) {
	f, err := os.OpenFile(QEMULock, os.O_CREATE|os.O_RDWR, 0o666)
	if err == nil {
		if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
			fmt.Fprintf(os.Stderr, "qemu: waiting for %s (another QEMU suite runs)\n", QEMULock)
			unix.Flock(int(f.Fd()), unix.LOCK_EX)
		}
	}
	os.Exit(m.Run())
}
