package syslog

import (
	"strings"
	"testing"
	"time"
)

func TestFormat(t *testing.T) {
	h := header{hostname: "vpn-gw-1", appName: "tidegate", procID: "212"}
	at := time.Date(2026, 5, 4, 19, 59, 59, 123e6, time.UTC)
	long := strings.Repeat("x", 2000)
	for _, tc := range []struct {
		name, line, want string
	}{
		{"info with svc",
			`time=2026-05-04T19:59:58.001Z level=INFO msg="tunnel up" svc=ipsec tunnel=vpn-1a`,
			`<30>1 2026-05-04T19:59:58.001Z vpn-gw-1 tidegate 212 ipsec [meta sequenceId="7"] level=INFO msg="tunnel up" svc=ipsec tunnel=vpn-1a`},
		{"error",
			`time=2026-05-04T19:59:58.001Z level=ERROR msg=exited svc=bgp err="session reset"`,
			`<27>1 2026-05-04T19:59:58.001Z vpn-gw-1 tidegate 212 bgp [meta sequenceId="7"] level=ERROR msg=exited svc=bgp err="session reset"`},
		{"warn with offset",
			`time=2026-05-04T19:59:58.001Z level=WARN+2 msg=x svc=vrrp`,
			`<28>1 2026-05-04T19:59:58.001Z vpn-gw-1 tidegate 212 vrrp [meta sequenceId="7"] level=WARN+2 msg=x svc=vrrp`},
		{"debug",
			`time=2026-05-04T19:59:58.001Z level=DEBUG msg=x`,
			`<31>1 2026-05-04T19:59:58.001Z vpn-gw-1 tidegate 212 - [meta sequenceId="7"] level=DEBUG msg=x`},
		{"svc inside a quoted value is not the svc",
			`time=2026-05-04T19:59:58.001Z level=INFO msg="peer said \"svc=evil x\"" svc=metadata`,
			`<30>1 2026-05-04T19:59:58.001Z vpn-gw-1 tidegate 212 metadata [meta sequenceId="7"] level=INFO msg="peer said \"svc=evil x\"" svc=metadata`},
		{"the last svc is the most specific",
			`time=2026-05-04T19:59:58.001Z level=INFO msg=listening svc=gateway svc=status`,
			`<30>1 2026-05-04T19:59:58.001Z vpn-gw-1 tidegate 212 status [meta sequenceId="7"] level=INFO msg=listening svc=gateway svc=status`},
		{"a level attribute is not the level",
			`time=2026-05-04T19:59:58.001Z level=INFO msg=x level=ERROR`,
			`<30>1 2026-05-04T19:59:58.001Z vpn-gw-1 tidegate 212 - [meta sequenceId="7"] level=INFO msg=x level=ERROR`},
		{"quoted svc with a space",
			`time=2026-05-04T19:59:58.001Z level=INFO msg=x svc="a b"`,
			`<30>1 2026-05-04T19:59:58.001Z vpn-gw-1 tidegate 212 a_b [meta sequenceId="7"] level=INFO msg=x svc="a b"`},
		{"long svc is cut to 32",
			`time=2026-05-04T19:59:58.001Z level=INFO msg=x svc=` + strings.Repeat("s", 40),
			`<30>1 2026-05-04T19:59:58.001Z vpn-gw-1 tidegate 212 ` + strings.Repeat("s", 32) + ` [meta sequenceId="7"] level=INFO msg=x svc=` + strings.Repeat("s", 40)},
		{"not ours: when it came, notice, whole",
			`charon says hello`,
			`<29>1 2026-05-04T19:59:59.123Z vpn-gw-1 tidegate 212 - [meta sequenceId="7"] charon says hello`},
		{"a bad time is kept in the message",
			`time=yesterday level=INFO msg=x`,
			`<30>1 2026-05-04T19:59:59.123Z vpn-gw-1 tidegate 212 - [meta sequenceId="7"] time=yesterday level=INFO msg=x`},
		{"a local time is sent in UTC",
			`time=2026-05-04T21:59:58.001+02:00 level=INFO msg=x`,
			`<30>1 2026-05-04T19:59:58.001Z vpn-gw-1 tidegate 212 - [meta sequenceId="7"] level=INFO msg=x`},
		{"an unclosed quote",
			`time=2026-05-04T19:59:58.001Z level=INFO msg="x svc=bgp`,
			`<30>1 2026-05-04T19:59:58.001Z vpn-gw-1 tidegate 212 - [meta sequenceId="7"] level=INFO msg="x svc=bgp`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := string(h.format(nil, message{seq: 7, line: tc.line, at: at}))
			if got != tc.want {
				t.Errorf("format(%q)\n got %s\nwant %s", tc.line, got, tc.want)
			}
		})
	}
	t.Run("a long line fits 2048 octets", func(t *testing.T) {
		s, err := New(Config{Protocol: "udp", Address: mustAddrPort("10.0.1.50:514"), Hostname: strings.Repeat("h", 64)})
		if err != nil {
			t.Fatal(err)
		}
		s.Write([]byte(`time=2026-05-04T19:59:58.001Z level=INFO msg=` + long + ` svc=` + strings.Repeat("s", 40) + "\n"))
		msg := s.frame(nil, <-s.queue)
		if len(msg) > 2048 || !strings.Contains(string(msg), " [line cut: ") {
			t.Errorf("a %d-byte line became a %d-octet message ending %q", len(long), len(msg), msg[len(msg)-40:])
		}
	})
}
