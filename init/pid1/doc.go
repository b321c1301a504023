// Package pid1 holds the duties of tidegate's process 1: mounting the kernel's
// file systems, loading the kernel modules the image ships, reaping orphans,
// supervising the gateway process, and turning the ACPI power button (a Linode
// shutdown) or a signal into a clean power-off or reboot.
//
// PID 1 keeps as little logic as possible, so that a bug costs a restart of
// the gateway child rather than a kernel panic: everything that talks to the
// network runs in the child, which is the same binary started with the
// "gateway" sub-command.
package pid1
