// Package image builds tidegate's bootable disk image, without root and
// without loop mounts:
//
//  1. the pinned Debian kernel package (kernel.lock) is downloaded with
//     apt-get and checked against its sha256; its modules.dep is made with
//     depmod -b and trimmed to the modules in modules.txt and their
//     dependencies;
//  2. the initramfs is built with u-root's mkuimage: the tidegate binary as
//     /init, Debian's charon with the plugins it loads and their libraries
//     (found with ldd), and the kernel modules;
//  3. the disk is one unpartitioned ext4 file system, as Linode's own images
//     are, made with mkfs.ext4 -d: /boot/vmlinuz, /boot/initrd.img and
//     /boot/grub/grub.cfg. Linode's "GRUB 2" boot mode reads that grub.cfg.
//     For "Direct Disk" mode, where SeaBIOS executes the disk's first
//     sector, GRUB's boot.img sits in that sector (ext4 leaves the first
//     1024 bytes to a boot loader) and loads GRUB's core.img, a file of the
//     file system whose blocks are written into boot.img and core.img's
//     block list. Growing the file system (Linode resizes the disk of a
//     deployed image) never moves those blocks.
package image
