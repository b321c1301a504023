package status

import "golang.org/x/sys/unix"

// freebind lets a socket bind to an address not (yet) on any interface.
func freebind(fd uintptr) error {
	return unix.SetsockoptInt(int(fd), unix.SOL_IP, unix.IP_FREEBIND, 1)
}
