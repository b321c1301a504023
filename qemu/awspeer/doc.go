// Package awspeer builds a QEMU guest that plays AWS's side of a
// site-to-site VPN for tidegate's tests and lab: a virtual private gateway
// with one IPsec tunnel per Tunnel, eBGP over each, and a VPC host behind
// it.
//
// The guest is not the product and is booted with QEMU's -kernel/-initrd:
// the same pinned Debian kernel as tidegate's image (image.FetchKernel) with
// the modules ESP over XFRM interfaces needs, and an initramfs of Debian
// packages installed on the host: busybox (the shell and the init, a busybox
// sh script), iproute2's ip (busybox's has no XFRM interfaces), strongSwan's
// charon and swanctl, and FRR's zebra, bgpd and vtysh, each with its library
// closure.
//
// What it does follows AWS's documented defaults for a VPN tunnel:
//
//   - IKEv2 with pre-shared keys, one swanctl connection per tunnel, AWS's
//     outside address as the local identity;
//   - responder only: AWS's default startup action is "add", so the customer
//     gateway initiates (start_action none here);
//   - every algorithm AWS accepts: AES128/AES256 (CBC and GCM-16),
//     SHA1/SHA2-256/384/512, DH groups 2 and 14-24 (phase 2 also 5);
//   - DPD every 10 s, the peer declared dead about 30 s after it stops
//     answering, DPD timeout action "clear" (the tunnel goes down and its
//     routes are withdrawn; AWS does not re-initiate);
//   - route based: an XFRM interface per tunnel (if_id) carrying the first
//     usable address of the inside /30, MTU 1446 (the most AWS documents
//     a tunnel carrying);
//   - BGP in AS 64512 (hold time 30 s, keepalive 10 s) to the customer's
//     inside address, advertising the VPC prefix (10.0.0.0/24) whose host
//     (10.0.0.24, on a dummy interface) answers pings;
//   - one preferred path per prefix, as a virtual private gateway routes
//     (maximum-paths 1): no ECMP even between equal paths, and a dead
//     peer's paths stay until DPD or the hold timer removes them. With
//     Config.TransitGateway it routes as a transit gateway with VPN ECMP
//     support instead: every tunnel whose path ties with the best (equal
//     AS path and MED) carries flows, by a per-flow hash of addresses
//     and ports; dead paths stay just as long.
//   - iperf3 serving on the VPC host's address, for traffic tests.
//
// Configuration files are rendered in Go (Render) and put into the
// initramfs; the init script only runs them. The guest prints
// "awspeer: ready" on its serial console when charon has loaded the
// connections and bgpd runs, then offers a root shell there, where tests
// type commands (swanctl --list-sas, vtysh -c ..., ping ...). The shell
// commands aws-charon-stop and aws-charon-start make AWS's endpoint vanish
// (charon killed, its kernel SAs flushed: only DPD can tell) and come back.
package awspeer
