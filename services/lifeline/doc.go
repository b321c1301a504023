// Package lifeline links a supervised child process to its supervisor over
// a pipe the child inherits: tidegate's PID 1 (init/pid1) gives one to the
// gateway process at every start.
//
// The child holds the write end, found by FromEnv through the environment
// variable EnvVar (the descriptor's number; the supervisor passes the pipe
// with exec.Cmd.ExtraFiles). Over it the child
//
//   - beats (Beat), from its main loop: once a child has beaten, a
//     supervisor that hears nothing for a few seconds takes it as hung and
//     kills it. A child that never beats is never taken as hung.
//   - claims addresses (Claim): the addresses the supervisor must remove
//     from their interface when the child is gone, however it went. The
//     gateway claims the VRRP virtual IPs at start, before VRRP can add
//     them, so that a crashed or killed gateway does not leave them on the
//     VLAN where its peer takes them over: two hosts would answer ARP.
//
// Without the variable (a gateway run by hand, a test) FromEnv returns a
// Lifeline that does nothing. FromEnv marks the descriptor close-on-exec
// and removes the variable, so that the child's own children (charon)
// neither keep the pipe open nor believe they have a lifeline.
//
// The supervisor side is a Monitor: Attach makes the pipe for one start of
// an exec.Cmd, reads the beats and claims while the child runs, and Close,
// after the child has exited, reads what is left in the pipe and returns
// the claims.
//
// # Wire format
//
// One line per message, at most MaxLine bytes with its newline, each
// written with a single write(2) (shorter than PIPE_BUF, so atomic: lines
// of concurrent writers never mix, and a child killed mid-call leaves
// whole lines or none):
//
//	beat
//	claim eth1 192.0.2.10/24
//
// The child is trusted more than the network, but a bug in it must not
// grow PID 1's memory or stop it: the Monitor reads through a fixed buffer,
// drops longer lines, keeps at most MaxClaims distinct claims, and ignores
// (and logs, a few times per child) anything it does not understand. Beat
// never blocks: when the pipe is full (the supervisor is behind, and there
// are beats in the pipe anyway) the beat is dropped. Claim waits up to a
// second for room, since a claim must not be lost.
//
// The child's end (child_unix.go) builds on every Unix, since the
// workstation commands link the gateway's packages on macOS too.
package lifeline
