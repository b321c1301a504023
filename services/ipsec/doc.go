// Package ipsec runs strongSwan's charon for the gateway's tunnels to AWS and
// drives it over VICI with github.com/strongswan/govici.
//
// A Service owns one charon process: Run writes a minimal strongswan.conf
// (the explicit plugin list in Plugins, nothing from /etc/strongswan.conf
// or /etc/strongswan.d), starts charon as a child that dies with the
// gateway, restarts it with back-off when it dies, connects to its VICI
// socket and loads one connection and one pre-shared key per tunnel. Every
// (re)start of charon loads everything again, so a crash costs a
// renegotiation, not a tunnel: the XFRM interfaces stay, and so do the
// crashed charon's SAs in the kernel, which carry the traffic (and the BGP
// sessions) while the new charon negotiates; tunnels that were up stay up
// for 20 s meanwhile, and are reported down only if they are not back by
// then.
//
// # Tunnels
//
// Tunnels are route based: each has its own XFRM interface and if_id
// ("xfrm<if_id>", see InterfaceFor) with the gateway's inside address
// (.2/30), the MTU AWS documents for the tunnel's ESP proposals
// (configs.Tunnel.MTU: 1438 for the defaults, 1446 for GCM only), and one
// CHILD_SA 0.0.0.0/0 <-> 0.0.0.0/0 bound to that if_id. BGP decides what
// goes into which tunnel. The connection, its CHILD_SA and its shared key
// are all named after the tunnel.
//
// Defaults follow AWS's site-to-site VPN (configs fills them; a tunnel may
// override them): IKEv2, AES-GCM/CBC proposals AWS accepts, lifetimes inside
// AWS's ranges (charon rekeys at 85-90% of them, the hard limit is the
// configured lifetime), and DPD every 10 s with charon's retransmission
// tuned so a dead peer is declared in about 30 s (AWS's DPD timeout; 30.4 s
// measured by TestNegotiate) instead of charon's default 165 s. The
// customer gateway initiates: start_action start, dpd_action restart,
// close_action start, keyingtries 0 (AWS's default startup action is
// "add", so AWS never initiates).
//
// # Events and reconciliation
//
// Tunnel up/down changes come out of Events, for the BGP and VRRP services
// (the gateway fans them out). A tunnel is up when its IKE_SA is
// established and a CHILD_SA is installed. The state comes from list-sas,
// run after every batch of charon's ike-updown / child-updown / ike-rekey /
// child-rekey events and every Config.ReconcileInterval, so a missed event
// cannot leave a tunnel marked wrongly; a tunnel that has had no IKE_SA (or
// no CHILD_SA) for a whole interval is initiated again. Update replaces the
// tunnel list: removed tunnels are unloaded and their SAs closed, changed
// ones replaced, unchanged ones left alone.
//
// Every VICI exchange has a deadline: 5 s for commands that read charon's
// state (version, stats, list-sas, get-conns, get-shared) and for event
// registration, 10 s for those that change it (load-conn, load-shared,
// unload-*, initiate, terminate), 1 s to connect. A charon that accepts on
// its socket but does not answer in time is taken as hung: the session
// ends and charon is restarted, as after a crash, so a hung charon never
// hangs the service or the gateway's main loop.
//
// # Network
//
// The packet filter and the MSS clamp are package firewall's: the gateway
// installs them before any service starts. With Config.Sysctls the service
// turns forwarding on and reverse-path filtering off. With
// Config.XFRMInterfaces it creates the interfaces and, before each charon
// start, flushes the kernel's IPsec SAs and policies that a killed charon
// left behind (the service assumes it is the only IPsec user). The host the
// tests run on has no XFRM interfaces and no ESP, so host tests see IKE_SAs
// come up but never CHILD_SAs; the data path is tested in QEMU.
//
// # Secrets
//
// Pre-shared keys go to charon over VICI and nowhere else: not into files,
// logs, Status or errors. charon logs at level 1 at most, which never
// prints keys (level 4 would).
//
// # charon's pid file
//
// Debian's charon always writes /var/run/charon.pid and refuses to start
// when it names a live process, which would stop two gateways (or tests) on
// one machine. The Service therefore starts charon in a private mount
// namespace with RunDir bind-mounted on /run, so charon's pid file, VICI
// socket and strongswan.conf all live in RunDir. If that namespace cannot be
// made, charon runs in the shared one and uses /var/run/charon.pid.
//
// # What the image needs
//
// /usr/lib/ipsec/charon with libcharon, libstrongswan and the plugins in
// Plugins (/usr/lib/ipsec/plugins/libstrongswan-<name>.so) with their
// library closures (openssl: libcrypto.so.3), libgcc_s.so.1, /dev/urandom,
// a mounted /run, and the kernel modules image/modules.txt lists for ESP
// over XFRM interfaces and nftables (docs/design.md says what was learnt
// about them).
//
// The service runs on Linux only (charon's namespaces, XFRM). The package
// also builds elsewhere, for `tidegate render` on a workstation, which uses
// its configuration and InterfaceFor; there startCharon's mount namespace,
// the XFRM interfaces and the flush fail (other.go).
package ipsec
