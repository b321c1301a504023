// Package guest builds the initramfs of a QEMU test guest from Debian
// packages installed on the host: the pinned Debian kernel of tidegate's
// image (image.FetchKernel) with a chosen set of modules, busybox as the
// shell and the init's toolbox, and host programs with their library
// closures (ldd), laid out as Debian's merged /usr.
//
// The guests built this way are not the product: they are the parties
// tidegate is tested against (the AWS peer of package awspeer, the seed
// article's Keepalived + FRR + strongSwan gateway of package seedstack).
// Each package says what goes in (a Spec) and renders its own files and
// init script; this package packs them, and holds what both render alike:
// strongswan.conf and swanctl.conf around each end's own settings, FRR's
// files, the XFRM interfaces.
package guest
