package bgp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// routeWriter writes many route changes per system call. vishvananda/netlink
// waits for the kernel's answer to each request in turn, which at 100k
// routes is most of the time spent: here a batch of requests goes out in
// one sendto, as zebra does. Only the batch's last request asks for an
// acknowledgement: the kernel handles a sendto's requests in order before
// it returns and answers a failed one even unasked, so the last request's
// acknowledgement comes after every error of the batch, and a batch costs
// one read instead of one per route. Only the write path is hand-built;
// dumps and link lookups still use vishvananda/netlink.
type routeWriter struct {
	fd     int
	seq    uint32
	metric uint32
	buf    []byte
	rbuf   []byte
}

// batch is how many requests go out per sendto: small enough that the
// answers to a batch that fails whole fit the receive buffer (each costs
// a socket buffer).
const batch = 512

// ackTimeout bounds the wait for a batch's answers, which the kernel has
// queued by the time sendto returns: it is only reached if the kernel
// dropped an answer, and then the batch counts as failed (reconciliation
// writes it again) instead of the writer hanging.
const ackTimeout = 5 * time.Second

func newRouteWriter(metric int) (*routeWriter, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("netlink bind: %w", err)
	}
	// Answers without a copy of the request, room for a whole batch of
	// them, and a bound on the wait.
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_CAP_ACK, 1)
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 4<<20) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20)
	}
	tv := unix.NsecToTimeval(ackTimeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("netlink receive timeout: %w", err)
	}
	return &routeWriter{fd: fd, metric: uint32(metric), rbuf: make([]byte, 1<<16)}, nil
}

func (w *routeWriter) Close() error { return unix.Close(w.fd) }

// write applies ops and returns one error per op (nil when it took
// effect). Deleting a route that is not there is not an error.
func (w *routeWriter) write(ops []routeOp) []error {
	errs := make([]error, len(ops))
	for start := 0; start < len(ops); start += batch {
		end := min(start+batch, len(ops))
		if err := w.writeBatch(ops[start:end], errs[start:end]); err != nil {
			for i := start; i < end; i++ {
				if errs[i] == nil {
					errs[i] = err
				}
			}
		}
	}
	return errs
}

// writeBatch sends ops in one sendto and reads the answers up to the last
// op's acknowledgement. An error it returns is the whole batch's.
func (w *routeWriter) writeBatch(ops []routeOp, errs []error) error {
	w.buf = w.buf[:0]
	first := w.seq + 1
	for i, op := range ops {
		w.seq++
		w.buf = w.appendRoute(w.buf, w.seq, op, i == len(ops)-1)
	}
	if err := unix.Sendto(w.fd, w.buf, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("netlink send: %w", err)
	}
	for {
		n, err := unix.Read(w.fd, w.rbuf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.EAGAIN) {
			return fmt.Errorf("netlink: no answer from the kernel in %v", ackTimeout)
		}
		if err != nil {
			return fmt.Errorf("netlink receive: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(w.rbuf[:n])
		if err != nil {
			return fmt.Errorf("netlink parse: %w", err)
		}
		for _, m := range msgs {
			if m.Header.Type != unix.NLMSG_ERROR || len(m.Data) < 4 {
				continue
			}
			i := int(m.Header.Seq - first)
			if i < 0 || i >= len(ops) {
				continue // a late answer to an earlier batch
			}
			if code := int32(binary.NativeEndian.Uint32(m.Data)); code != 0 {
				errno := syscall.Errno(-code)
				if len(ops[i].Hops) > 0 || errno != unix.ESRCH {
					errs[i] = fmt.Errorf("%s route %v: %w", opName(ops[i]), ops[i].Prefix, errno)
				}
			}
			if i == len(ops)-1 {
				return nil // answers come in order: this was the last
			}
		}
	}
}

func opName(op routeOp) string {
	if len(op.Hops) == 0 {
		return "delete"
	}
	return "replace"
}

// appendRoute appends one RTM_NEWROUTE (replace) or RTM_DELROUTE request.
// The route is always ours: main table, protocol bgp, our metric.
// ack asks for an acknowledgement (the kernel reports errors regardless).
func (w *routeWriter) appendRoute(b []byte, seq uint32, op routeOp, ack bool) []byte {
	start := len(b)
	typ, flags := uint16(unix.RTM_DELROUTE), uint16(unix.NLM_F_REQUEST)
	if ack {
		flags |= unix.NLM_F_ACK
	}
	scope, rtype := uint8(unix.RT_SCOPE_NOWHERE), uint8(0) // delete: any scope, any type
	if len(op.Hops) > 0 {
		typ = unix.RTM_NEWROUTE
		flags |= unix.NLM_F_CREATE | unix.NLM_F_REPLACE
		scope, rtype = unix.RT_SCOPE_UNIVERSE, unix.RTN_UNICAST
	}
	// nlmsghdr; the length is filled in at the end.
	b = binary.NativeEndian.AppendUint32(b, 0)
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = binary.NativeEndian.AppendUint16(b, flags)
	b = binary.NativeEndian.AppendUint32(b, seq)
	b = binary.NativeEndian.AppendUint32(b, 0)
	// rtmsg
	b = append(b, unix.AF_INET, uint8(op.Prefix.Bits()), 0, 0,
		unix.RT_TABLE_MAIN, unix.RTPROT_BGP, scope, rtype)
	b = binary.NativeEndian.AppendUint32(b, 0)
	dst := op.Prefix.Addr().As4()
	b = appendAttr(b, unix.RTA_DST, dst[:])
	var u32 [4]byte
	binary.NativeEndian.PutUint32(u32[:], w.metric)
	b = appendAttr(b, unix.RTA_PRIORITY, u32[:])
	switch {
	case len(op.Hops) == 1:
		gw := op.Hops[0].Gw.As4()
		b = appendAttr(b, unix.RTA_GATEWAY, gw[:])
		if op.Hops[0].IfIndex > 0 {
			binary.NativeEndian.PutUint32(u32[:], uint32(op.Hops[0].IfIndex))
			b = appendAttr(b, unix.RTA_OIF, u32[:])
		}
	case len(op.Hops) > 1:
		var mp []byte
		for _, h := range op.Hops {
			gw := h.Gw.As4()
			nh := binary.NativeEndian.AppendUint16(nil, 8+8) // rtnexthop + one 8-byte attribute
			nh = append(nh, 0, 0)                            // flags, hops (weight 1)
			nh = binary.NativeEndian.AppendUint32(nh, uint32(h.IfIndex))
			nh = appendAttr(nh, unix.RTA_GATEWAY, gw[:])
			mp = append(mp, nh...)
		}
		b = appendAttr(b, unix.RTA_MULTIPATH, mp)
	}
	binary.NativeEndian.PutUint32(b[start:], uint32(len(b)-start))
	return b
}

// appendAttr appends an rtattr, padded to 4 bytes.
func appendAttr(b []byte, typ uint16, data []byte) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(4+len(data)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}
