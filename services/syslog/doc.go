// Package syslog sends the gateway's log lines to a remote syslog receiver
// (the site configuration's syslog), so that they outlive the gateway:
// the appliance has no disk, and its console and its ring of recent lines
// (internal/consolelog) go with a reboot.
//
// A Sender is an io.Writer that consolelog.Tee hands every console line
// to, and a goroutine (Run) that sends them. Each line becomes one RFC 5424
// message:
//
//	<30>1 2026-05-04T19:59:59.123Z vpn-gw-1 tidegate 212 ipsec [meta sequenceId="42"] level=INFO msg="tunnel up" svc=ipsec tunnel=vpn-1a
//
// PRI is facility daemon and the line's level (ERROR err, WARN warning,
// INFO info, DEBUG debug); TIMESTAMP the line's own time (RFC 3339, UTC,
// with the date); HOSTNAME the Linode label; APP-NAME "tidegate"; PROCID
// the gateway process's pid; MSGID the line's svc (bgp, ipsec, vrrp, ...;
// the last one, the most specific, when a logger's svc was narrowed; "-"
// without one). The structured data is RFC 5424's meta sequenceId,
// numbered when the line is logged, so that a receiver sees a gap where a
// line was dropped. MSG is the line itself without its time: logfmt,
// self-contained (level and svc stay), which a receiver that shows only
// the message (rsyslog's traditional format) still prints whole and a
// logfmt parser reads. A line longer than MaxLine bytes is cut and marked
// (consolelog.Cut), so that every message fits the 2048 octets RFC 5426
// asks every receiver to take.
//
// Over UDP each message is one datagram (RFC 5426); over TCP messages are
// framed by octet counting, "LEN SP MSG" (RFC 6587 section 3.4.1), which
// rsyslog and syslog-ng read without configuration.
//
// # Never blocking the logger
//
// Write only puts the line in a bounded queue (Config.Queue lines); when
// the queue is full, because the receiver is slow or away, the line is
// dropped and counted (Stats.Dropped). Run sends from the queue: a TCP
// connection that fails is dialled again with back-off (1 s doubling to
// 30 s), the message it was sending kept for the new connection; the lines
// logged meanwhile wait in the queue, the oldest kept. Before each message
// Run checks that the receiver has not closed the connection, so that a
// restarted receiver does not silently swallow the first message after it.
// A UDP send the receiver refuses (ICMP port unreachable) counts as
// dropped; a UDP receiver that is down without saying so cannot be
// noticed. When Run's context ends it sends what is queued for at most
// FlushTimeout, so that the last lines of a shutdown leave too.
//
// Lines never hold secrets: the console logger never sees one (package
// configs keeps them in Secret, which prints masked).
//
// Only the gateway process's lines are sent: PID 1's own (the supervisor
// restarting the gateway) go to the console alone, since PID 1 does not
// read the site configuration. A gateway that restarts sends the lines its
// new process logged since it started, the boot's included (the ring
// replayed when the sender starts).
package syslog
