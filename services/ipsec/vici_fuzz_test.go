package ipsec

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strongswan/govici/vici"
	"github.com/tidegate/tidegate/configs"
	"github.com/tidegate/tidegate/internal/netnstest"
)

// FuzzListSAs puts arbitrary bytes where charon's list-sa events go and
// runs them through what the service does with them: govici's decoder on
// a real VICI session (a fake charon on a unix socket), the lister,
// reconcile (listSAs and observe) and handleEvent. Charon is local, but
// what it reports comes partly from the peer (proposals, counters), and a
// panic here would take the gateway down. Properties: no panic; the
// tunnel's IKE state is what the message says; Up only with an
// established IKE_SA and a CHILD_SA; a second reconcile of the same
// message changes nothing; an event counts once per SA section that names
// the tunnel.
//
// Known crash, not in the corpus until fixed: an IKE_SA section whose
// child-sas is a key-value ("child-sas" = "x") makes govici's
// UnmarshalMessage panic (reflect.Set of a string into sa.Children) in
// listSAs.
func FuzzListSAs(f *testing.F) {
	for _, m := range viciSeeds() {
		f.Add(m)
	}
	charon := startFakeCharon(f)
	runDir := f.TempDir()

	f.Fuzz(func(t *testing.T, body []byte) {
		charon.listSA.Store(&body)
		ctx := context.Background()
		l, err := newLister(ctx, charon.path)
		if err != nil {
			t.Fatal(err) // the fake always answers
		}
		defer l.Close()
		msgs, err := l.list(ctx, "list-sas", "list-sa", nil)
		if err != nil {
			return // govici refused the bytes: an error, not a panic
		}

		s, err := New(Config{RunDir: runDir, Tunnels: []configs.Tunnel{defaultTunnel()}})
		if err != nil {
			t.Fatal(err)
		}
		defer s.pub.close()
		if err := s.reconcile(ctx, l.sess, l); err != nil {
			return // an SA section that is not an SA: refused whole
		}
		st := s.Status()
		tun := st.Tunnels[0]
		if tun.Up && (tun.IKEState != "ESTABLISHED" || tun.ChildState == "") {
			t.Fatalf("up with IKE %q, CHILD %q", tun.IKEState, tun.ChildState)
		}
		sections := 0
		var state any
		for _, m := range msgs {
			if sub, ok := m.Get("vpn-1a").(*vici.Message); ok {
				sections++
				state = sub.Get("state")
			}
		}
		switch {
		case sections == 0 && (tun.IKEState != "" || tun.Up):
			t.Fatalf("no SA listed, yet IKE %q up %v", tun.IKEState, tun.Up)
		case sections == 1 && state != nil && tun.IKEState != state:
			t.Fatalf("IKE state %q, list-sas said %q", tun.IKEState, state)
		}

		if err := s.reconcile(ctx, l.sess, l); err != nil {
			t.Fatalf("the same list-sas, refused the second time: %v", err)
		}
		if again := s.Status(); !sameStatus(st, again) {
			t.Fatalf("a second reconcile of the same SAs changed the status:\n%+v\n%+v", st.Tunnels[0], again.Tunnels[0])
		}

		for _, m := range msgs {
			s.handleEvent(vici.Event{Name: "child-rekey", Message: m, Timestamp: time.Now()})
		}
		if n := s.Status().Tunnels[0].ChildRekeys; n != sections {
			t.Fatalf("%d rekeys counted from %d events naming the tunnel", n, sections)
		}
	})
}

// sameStatus compares two snapshots, allowing the times computed from
// "seconds ago" to fall on either side of a second.
func sameStatus(a, b Status) bool {
	near := func(x, y *time.Time) {
		if d := x.Sub(*y); d >= -time.Second && d <= time.Second {
			*y = *x
		}
	}
	a.Tunnels, b.Tunnels = append([]TunnelStatus(nil), a.Tunnels...), append([]TunnelStatus(nil), b.Tunnels...)
	for i := range min(len(a.Tunnels), len(b.Tunnels)) {
		near(&a.Tunnels[i].Established, &b.Tunnels[i].Established)
		near(&a.Tunnels[i].Installed, &b.Tunnels[i].Installed)
	}
	return reflect.DeepEqual(a, b)
}

// fakeCharon answers a VICI session the way charon does for what a lister
// asks: it confirms event registrations and answers list-sas with one
// list-sa event holding the bytes in listSA, then the command's response.
type fakeCharon struct {
	path   string
	listSA atomic.Pointer[[]byte]
}

// The VICI packet types the fake uses.
const (
	viciCmdRequest      = 0
	viciCmdResponse     = 1
	viciEventRegister   = 3
	viciEventUnregister = 4
	viciEventConfirm    = 5
	viciEvent           = 7
)

func startFakeCharon(tb testing.TB) *fakeCharon {
	tb.Helper()
	fc := &fakeCharon{path: filepath.Join(tb.TempDir(), "charon.vici")}
	ln, err := net.Listen("unix", fc.path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	netnstest.Serve(ln, fc.serve)
	return fc
}

func (fc *fakeCharon) serve(c net.Conn) {
	defer c.Close()
	for {
		var n uint32
		if err := binary.Read(c, binary.BigEndian, &n); err != nil || n == 0 || n > 1<<20 {
			return
		}
		pkt := make([]byte, n)
		if _, err := io.ReadFull(c, pkt); err != nil {
			return
		}
		var out [][]byte
		switch pkt[0] {
		case viciEventRegister, viciEventUnregister:
			out = [][]byte{{viciEventConfirm}}
		case viciCmdRequest:
			if len(pkt) > 1 && int(pkt[1]) <= len(pkt)-2 && string(pkt[2:2+pkt[1]]) == "list-sas" {
				ev := append([]byte{viciEvent, byte(len("list-sa"))}, "list-sa"...)
				if b := fc.listSA.Load(); b != nil {
					ev = append(ev, *b...)
				}
				out = append(out, ev)
			}
			out = append(out, []byte{viciCmdResponse})
		default:
			return
		}
		for _, p := range out {
			var w bytes.Buffer
			_ = binary.Write(&w, binary.BigEndian, uint32(len(p)))
			w.Write(p)
			if _, err := c.Write(w.Bytes()); err != nil {
				return
			}
		}
	}
}

// VICI message elements, to write seeds.
type viciElem func(*bytes.Buffer)

// viciNamed writes an element's type byte and its 8-bit length-prefixed
// name; viciValue a 16-bit length-prefixed value.
func viciNamed(b *bytes.Buffer, typ byte, name string) {
	b.WriteByte(typ)
	b.WriteByte(byte(len(name)))
	b.WriteString(name)
}

func viciValue(b *bytes.Buffer, v string) {
	_ = binary.Write(b, binary.BigEndian, uint16(len(v)))
	b.WriteString(v)
}

func viciKV(k, v string) viciElem {
	return func(b *bytes.Buffer) {
		viciNamed(b, 3, k)
		viciValue(b, v)
	}
}

func viciSection(name string, items ...viciElem) viciElem {
	return func(b *bytes.Buffer) {
		viciNamed(b, 1, name)
		for _, it := range items {
			it(b)
		}
		b.WriteByte(2)
	}
}

func viciList(name string, values ...string) viciElem {
	return func(b *bytes.Buffer) {
		viciNamed(b, 4, name)
		for _, v := range values {
			b.WriteByte(5)
			viciValue(b, v)
		}
		b.WriteByte(6)
	}
}

func viciMessage(items ...viciElem) []byte {
	var b bytes.Buffer
	for _, it := range items {
		it(&b)
	}
	return b.Bytes()
}

// viciSeeds are list-sa events as charon sends them, and a few it would
// not.
func viciSeeds() [][]byte {
	child := func(id, state string) viciElem {
		return viciSection("vpn-1a-"+id, viciKV("name", "vpn-1a"), viciKV("uniqueid", id), viciKV("state", state),
			viciKV("protocol", "ESP"), viciKV("encr-alg", "AES_GCM_16"), viciKV("encr-keysize", "256"),
			viciKV("bytes-in", "1536"), viciKV("packets-in", "12"), viciKV("bytes-out", "5242880"), viciKV("packets-out", "4000"),
			viciKV("install-time", "5"), viciList("local-ts", "0.0.0.0/0"), viciList("remote-ts", "0.0.0.0/0"))
	}
	ike := func(state string, children ...viciElem) viciElem {
		return viciSection("vpn-1a", viciKV("uniqueid", "1"), viciKV("version", "2"), viciKV("state", state),
			viciKV("local-host", "192.0.2.11"), viciKV("remote-host", "203.0.113.10"), viciKV("established", "60"),
			viciKV("encr-alg", "AES_GCM_16"), viciKV("encr-keysize", "256"), viciKV("prf-alg", "PRF_HMAC_SHA2_384"), viciKV("dh-group", "ECP_384"),
			viciSection("child-sas", children...))
	}
	return [][]byte{
		viciMessage(ike("ESTABLISHED", child("3", "INSTALLED"))),
		viciMessage(ike("ESTABLISHED", child("3", "REKEYED"), child("4", "INSTALLED"))),
		viciMessage(ike("CONNECTING")),
		viciMessage(viciSection("other", viciKV("state", "ESTABLISHED"))),
		viciMessage(viciSection("vpn-1a", viciList("state", "ESTABLISHED"))),
		viciMessage(viciSection("vpn-1a", viciKV("state", "ESTABLISHED"), viciSection("child-sas", viciKV("c", "INSTALLED")))),
		viciMessage(viciSection("vpn-1a", viciKV("state", "ESTABLISHED"), viciKV("established", "18446744073709551615"),
			viciSection("child-sas", viciSection("c", viciKV("state", "INSTALLED"), viciKV("bytes-in", "18446744073709551615"))))),
	}
}
