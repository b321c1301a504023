// Package seedstack builds a QEMU guest that is one gateway of the seed
// article (docs/seed-article.md): the hand-built stack tidegate replaces,
// with Keepalived for VRRP, FRR for eBGP to AWS and iBGP to the other
// gateway, and strongSwan for the tunnels, configured as the article shows.
// The lab boots it as gw-2 next to a tidegate gw-1 (the mixed pair must
// work), and as both gateways for the benchmarks that compare the two
// stacks.
//
// What comes from the article, as it is there:
//
//   - keepalived.conf: vrrp_instance Instance1 (state MASTER, priority 100)
//     or Instance2 (BACKUP, 99), interface eth1, virtual_router_id 10,
//     advert_int 1, auth_type PASS, the virtual IP; keepalived's default
//     VRRP version 2. From the site configuration (configs.Site) the VRID,
//     priority, interval, password and address; a site asking for VRRP
//     version 3 (the 100 ms benchmark: keepalived allows sub-second
//     adverts only with version 3) gets global_defs { vrrp_version 3 } and
//     no authentication block.
//   - FRR (8.x in the article): router bgp 65000 with the iBGP neighbour
//     (remote-as 65000, soft-reconfiguration inbound, next-hop-self).
//
// What the article takes as done before it starts ("the VPN and BGP are
// already configured"), done here as AWS's generic customer gateway
// configuration for strongSwan and FRR describes it, without anything
// tidegate adds:
//
//   - strongSwan: one IKEv2 connection per tunnel with the site's
//     proposals and PSK, the initiator (start_action start), DPD every
//     10 s with dpd_action restart and strongSwan's default retransmission
//     timeouts, route based (here an XFRM interface per tunnel with the
//     inside address; AWS's sample uses VTIs, which behave the same for
//     this), rp_filter off, forwarding on;
//   - FRR: an eBGP neighbour per tunnel in AWS's ASN with timers 10 30 and
//     "network" for each advertised prefix; no AS-path prepend, no MED, no
//     tracking between Keepalived and the tunnels: the stack's three
//     daemons do not know of each other.
//
// The guest is booted the way tidegate is: a raw disk (image.BuildDisk,
// GRUB in its boot sector) whose initramfs holds Debian's own binaries
// (package guest) and a busybox sh init, not systemd; so its boot time is a
// lower bound for an Ubuntu install of the same stack. The init prints
// "seedstack: ready" on the serial console when the daemons run and then
// offers a root shell there (vtysh, swanctl, free, ...). The shell command
// seed-shutdown stops the daemons as systemd would on a planned reboot
// (Keepalived first, which resigns with priority 0) and powers off.
package seedstack
