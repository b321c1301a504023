package syslog

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidegate/tidegate/internal/consolelog"
	"github.com/tidegate/tidegate/internal/netnstest"
)

const rsyslogdBin = "/usr/sbin/rsyslogd"

// rsyslog is rsyslogd (Debian's, package rsyslog) in a namespace of its
// own, receiving on UDP and TCP port 514 and writing each message's RFC
// 5424 fields, one message a line, to a file.
type rsyslog struct {
	t        *testing.T
	ns, addr string
	dir      string
	proc     *netnstest.Process
}

// fieldsTemplate writes the fields the tests check, '|' between them; the
// message last, so that a '|' in it does no harm.
const fieldsTemplate = `template(name="fields" type="list") {
  property(name="inputname") constant(value="|")
  property(name="protocol-version") constant(value="|")
  property(name="pri") constant(value="|")
  property(name="timereported" dateFormat="rfc3339") constant(value="|")
  property(name="hostname") constant(value="|")
  property(name="app-name") constant(value="|")
  property(name="procid") constant(value="|")
  property(name="msgid") constant(value="|")
  property(name="structured-data") constant(value="|")
  property(name="msg") constant(value="\n")
}`

// startRsyslog runs rsyslogd in the foreground in ns, listening on addr
// port 514, with its own configuration, pid file and work directory. It
// returns once both listeners are open; the process is killed by pid when
// the test ends.
func startRsyslog(t *testing.T, ns, addr string) *rsyslog {
	t.Helper()
	if _, err := os.Stat(rsyslogdBin); err != nil {
		t.Fatalf("rsyslogd is needed (Debian package rsyslog): %v", err)
	}
	dir := t.TempDir()
	conf := fmt.Sprintf(`global(workDirectory=%q maxMessageSize="8k")
module(load="imudp")
module(load="imtcp")
input(type="imudp" address=%q port="514")
input(type="imtcp" address=%q port="514")
%s
*.* action(type="omfile" file=%q template="fields")
`, dir, addr, addr, fieldsTemplate, filepath.Join(dir, "received.log"))
	if err := os.WriteFile(filepath.Join(dir, "rsyslog.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &rsyslog{t: t, ns: ns, addr: addr, dir: dir}
	r.start()
	return r
}

// start runs rsyslogd until stop or the test's end, and returns once it
// listens.
func (r *rsyslog) start() {
	r.t.Helper()
	r.proc = netnstest.Start(r.t, netnstest.Command(r.ns, rsyslogdBin, "-n",
		"-f", filepath.Join(r.dir, "rsyslog.conf"), "-i", filepath.Join(r.dir, "rsyslogd.pid")),
		filepath.Join(r.dir, "rsyslogd.out"))
	listening := func() bool {
		ss, _ := exec.Command("ip", "netns", "exec", r.ns, "ss", "-H", "-ltun", "src", r.addr+":514").Output()
		return strings.Count(string(ss), r.addr+":514") == 2
	}
	for deadline := time.Now().Add(10 * time.Second); !listening(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			r.t.Fatalf("rsyslogd does not listen on %s:514 (UDP and TCP) after 10 s:\n%s", r.addr, r.proc.Output())
		}
	}
}

// stop kills rsyslogd and waits for it.
func (r *rsyslog) stop() { r.proc.Stop() }

// A record is one message as rsyslog parsed it.
type record struct {
	input, version, pri, timestamp, hostname, appName, procID, msgID, sd, msg string
}

// wait returns the first received message whose MSG contains text.
func (r *rsyslog) wait(text string) record {
	r.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		b, _ := os.ReadFile(filepath.Join(r.dir, "received.log"))
		for l := range strings.Lines(string(b)) {
			f := strings.SplitN(strings.TrimSuffix(l, "\n"), "|", 10)
			if len(f) == 10 && strings.Contains(f[9], text) {
				return record{f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9]}
			}
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("rsyslogd got no message with %q in 10 s; it has:\n%s", text, b)
		}
	}
}

// dialIn dials from inside namespace ns, as the gateway does in its own.
func dialIn(ns string) func(ctx context.Context, network, address string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		var c net.Conn
		err := netnstest.In(ns, func() (err error) {
			c, err = (&net.Dialer{Timeout: DialTimeout}).DialContext(ctx, network, address)
			return err
		})
		return c, err
	}
}

// TestRsyslog sends through the console logger and a Sender to Debian's
// rsyslogd across a veth pair, as a gateway sends to a host of its VLAN,
// and checks the RFC 5424 fields rsyslog parsed out of each message over
// UDP and TCP; then that a dead receiver never blocks the logger, and
// that a receiver that comes back gets what was queued.
func TestRsyslog(t *testing.T) {
	l := netnstest.NewLab(t, "syslog")
	gw, logs := l.Netns("gw"), l.Netns("log")
	l.Wire(gw, "eth1", "10.0.1.2/24", logs, "eth0", "10.0.1.50/24")
	r := startRsyslog(t, logs, "10.0.1.50")
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(r.dir, "received.log"))
			t.Logf("rsyslogd received:\n%s", b)
		}
	})
	log := consolelog.New(io.Discard, nil).With("svc", "bgp")

	for _, proto := range []string{"udp", "tcp"} {
		t.Run(proto, func(t *testing.T) {
			s := start(t, Config{Protocol: proto, Address: mustAddrPort("10.0.1.50:514"), Hostname: "vpn-gw-1", Dial: dialIn(gw)})
			stop := consolelog.Tee(s, false)
			defer stop()
			before := time.Now()
			log.Warn("session down over "+proto, "peer", "169.254.80.145", "err", `hold timer expired "30s"`)
			got := r.wait("session down over " + proto)

			want := record{
				input: "im" + proto, version: "1", pri: "28", // daemon.warning
				hostname: "vpn-gw-1", appName: "tidegate", procID: strconv.Itoa(os.Getpid()), msgID: "bgp",
				msg: fmt.Sprintf(`level=WARN msg="session down over %s" svc=bgp peer=169.254.80.145 err="hold timer expired \"30s\""`, proto),
			}
			at, err := time.Parse(time.RFC3339Nano, got.timestamp)
			if err != nil || at.Before(before.Truncate(time.Millisecond)) || at.After(time.Now()) {
				t.Errorf("timestamp %q (%v); want the time it was logged, with the date", got.timestamp, err)
			}
			if !strings.HasPrefix(got.sd, `[meta sequenceId="`) {
				t.Errorf("structured data %q, want meta sequenceId", got.sd)
			}
			got.timestamp, got.sd = "", ""
			if got != want {
				t.Errorf("rsyslog got\n %+v\nwant\n %+v", got, want)
			}
		})
	}

	t.Run("dead receiver", func(t *testing.T) {
		// Nothing listens on 1514: every connection is refused.
		s := start(t, Config{Protocol: "tcp", Address: mustAddrPort("10.0.1.50:1514"), Hostname: "vpn-gw-1",
			Dial: dialIn(gw), Queue: 100})
		stop := consolelog.Tee(s, false)
		defer stop()
		began := time.Now()
		for i := range 5000 {
			log.Info("nobody listens", "i", i)
		}
		if d := time.Since(began); d > 2*time.Second {
			t.Errorf("logging 5000 lines took %v with the receiver dead", d)
		}
		st := s.Stats()
		if st.Sent != 0 || st.Dropped < 5000-101 || st.Connected || !strings.Contains(st.Error, "refused") {
			t.Errorf("stats %+v; want at least 4899 dropped, not connected, refused", st)
		}
	})

	t.Run("dead receiver over UDP", func(t *testing.T) {
		// The receiver's host answers ICMP port unreachable: every other
		// send is refused, and counted. The sender's own lines come
		// back to it: they must not feed themselves.
		s := start(t, Config{Protocol: "udp", Address: mustAddrPort("10.0.1.50:1514"), Hostname: "vpn-gw-1", Dial: dialIn(gw), Log: log})
		stop := consolelog.Tee(s, false)
		defer stop()
		for i := range 5 {
			log.Info("nobody listens over UDP", "i", i)
			time.Sleep(20 * time.Millisecond) // the ICMP error comes back
		}
		time.Sleep(500 * time.Millisecond)
		// The 5 lines and the sender's: "sending", "unreachable",
		// "sending" again, then nothing for a minute.
		if st := s.Stats(); st.Dropped < 2 || st.Sent+st.Dropped > 5+3 {
			t.Errorf("stats %+v; want refused sends counted as dropped, and no more than 8 messages", st)
		}
	})

	t.Run("receiver restarts", func(t *testing.T) {
		s := start(t, Config{Protocol: "tcp", Address: mustAddrPort("10.0.1.50:514"), Hostname: "vpn-gw-1",
			Dial: dialIn(gw), MinBackoff: 100 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
		stop := consolelog.Tee(s, false)
		defer stop()
		log.Info("before the restart")
		r.wait("before the restart")
		r.stop()
		log.Info("while rsyslogd is down")
		time.Sleep(300 * time.Millisecond) // a failed connection or two
		r.start()
		log.Info("after the restart")
		r.wait("while rsyslogd is down")
		r.wait("after the restart")
		waitStats(t, s, "nothing dropped, connected again", func(st Stats) bool { return st.Dropped == 0 && st.Connected })
	})
}
