// Package pid1 holds the duties of tidegate's process 1: mounting the kernel's
// file systems, loading the kernel modules the image ships, reaping orphans,
// supervising the gateway process, and turning the ACPI power button (a Linode
// shutdown) or a signal into a clean power-off or reboot.
//
// PID 1 keeps as little logic as possible, so that a bug costs a restart of
// the gateway child rather than a kernel panic: everything that talks to the
// network runs in the child, which is the same binary started with the
// "gateway" sub-command.
//
// # Crashes and hangs
//
// The gateway child gets a lifeline at every start (services/lifeline: a
// pipe named by TIDEGATE_LIFELINE_FD). Over it the gateway claims the
// VRRP virtual IPs before it can add them, and beats from its main loop.
// However the child ends (a crash, a kill, the watchdog, a planned stop),
// PID 1 removes the claimed addresses with netlink before the restart
// back-off, within a second of the exit, so that a dead gateway does not
// keep answering ARP for the virtual IP its peer takes over. An address or
// interface already gone is no error.
//
// Once the child has beaten, a silence of 5 s (a deadlocked main loop) gets
// it logged, SIGKILLed and restarted through the usual back-off. A child
// that never beats (the console shell, which has no lifeline, or a gateway
// that does not use it) is never killed for silence.
//
// Every error is logged; none ends PID 1. A panic in the supervision of a
// child is recovered and logged, and ends that child's supervision rather
// than the machine.
//
// Linux only: elsewhere (the workstation commands on macOS) Main says so
// and exits; this binary is never process 1 there.
package pid1
