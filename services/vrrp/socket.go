package vrrp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"

	"golang.org/x/net/ipv4"
)

// ipSocket is the router's VRRP socket: a raw IPv4 socket for protocol 112
// bound to the interface the adverts use, as keepalived's is. It reads and
// writes whole datagrams, IPv4 header included (IP_HDRINCL), so that the
// router sends exactly the header encodeDatagram builds and checks what it
// receives with decodeDatagram.
//
// Why not an AF_PACKET socket, which this package used first: a packet
// socket bound to IPv4 on the VLAN is handed every IPv4 frame the VLAN
// brings, the data traffic the gateway forwards included. Its filter drops
// those in the kernel, but each frame still costs a delivery, and, because
// the frame then has two users, the IP stack clones it before forwarding it
// (ip_rcv's skb_share_check). A raw socket is only handed protocol 112.
// The README's data-plane section has the A/B.
//
// What the kernel now decides before the router sees a packet: it drops
// IPv4 headers with a bad checksum or length and martian sources (counted in
// its own IP statistics, not in Status.Drops), reassembles fragments, and
// delivers only what reached the interface (multicast to 224.0.0.18, which
// the socket joins, and unicast to the gateway's addresses). The nftables
// input chain accepts protocol 112 from the VLAN only. Everything else,
// TTL 255 included, is checked in Go as before.
type ipSocket struct {
	c  *net.IPConn
	rc syscall.RawConn
}

// listenVRRP opens the socket on ifi and joins 224.0.0.18 there. Our own
// adverts are not looped back to us.
func listenVRRP(ifi *net.Interface) (*ipSocket, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var err error
		if cerr := c.Control(func(fd uintptr) {
			err = errors.Join(bindToDevice(int(fd), ifi.Name),
				syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_HDRINCL, 1))
		}); cerr != nil {
			return cerr
		}
		return err
	}}
	pc, err := lc.ListenPacket(context.Background(), fmt.Sprintf("ip4:%d", ipProtoVRRP), "0.0.0.0")
	if err != nil {
		return nil, fmt.Errorf("vrrp: open a raw socket for protocol %d on %s: %w", ipProtoVRRP, ifi.Name, err)
	}
	s := &ipSocket{c: pc.(*net.IPConn)}
	if s.rc, err = s.c.SyscallConn(); err != nil {
		s.c.Close()
		return nil, err
	}
	mc := ipv4.NewPacketConn(s.c)
	if err := mc.SetMulticastLoopback(false); err != nil {
		s.c.Close()
		return nil, fmt.Errorf("vrrp: multicast loopback off on %s: %w", ifi.Name, err)
	}
	if err := mc.JoinGroup(ifi, &net.IPAddr{IP: multicastGroup.AsSlice()}); err != nil {
		s.c.Close()
		return nil, fmt.Errorf("vrrp: join %v on %s: %w", multicastGroup, ifi.Name, err)
	}
	return s, nil
}

// read reads one datagram, IPv4 header included, into b.
func (s *ipSocket) read(b []byte) (n int, err error) {
	if rerr := s.rc.Read(func(fd uintptr) bool {
		n, err = syscall.Read(int(fd), b)
		return err != syscall.EAGAIN
	}); rerr != nil {
		return 0, rerr
	}
	return n, err
}

// send sends one datagram, b being its IPv4 header and payload, to
// 224.0.0.18 out of the bound interface.
func (s *ipSocket) send(b []byte) error {
	to := &syscall.SockaddrInet4{Addr: multicastGroup.As4()}
	var err error
	if werr := s.rc.Write(func(fd uintptr) bool {
		err = syscall.Sendto(int(fd), b, 0, to)
		return err != syscall.EAGAIN
	}); werr != nil {
		return werr
	}
	return err
}

func (s *ipSocket) close() error { return s.c.Close() }
