// Package qemu boots tidegate's real disk image in QEMU for tests and the
// lab: each VM runs inside a network namespace the caller made, its NICs are
// TAP devices on bridges there, its serial console (what Lish shows on a
// Linode) is captured and can be typed into, and QMP gives it the power
// button. QEMU runs under TCG (no KVM here), from the disk through SeaBIOS
// exactly as Linode's Direct Disk boot mode does, not with -kernel.
package qemu
