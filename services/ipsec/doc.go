// Package ipsec runs strongSwan's charon for the gateway's tunnels to AWS and
// drives it over VICI with github.com/strongswan/govici.
//
// A Service owns one charon process: Run writes a minimal strongswan.conf
// (an explicit plugin list, nothing from /etc/strongswan.conf or
// /etc/strongswan.d), starts charon as a child that dies with the gateway,
// restarts it with back-off when it dies, connects to its VICI socket and
// loads one connection and one pre-shared key per tunnel. Every (re)start of
// charon loads everything again, so a crash costs a renegotiation, not a
// tunnel.
//
// Tunnels are route based: each has its own XFRM interface and if_id
// ("xfrm<if_id>", see InterfaceFor), and one CHILD_SA 0.0.0.0/0 <-> 0.0.0.0/0
// bound to it. BGP decides what goes into which tunnel.
//
// Defaults follow AWS's site-to-site VPN (configs fills them; a tunnel may
// override them): IKEv2, AES-GCM/CBC proposals AWS accepts, lifetimes inside
// AWS's ranges, and DPD every 10 s with charon's retransmission tuned so a
// dead peer is declared in about 30 s (AWS's DPD timeout) instead of
// charon's default 165 s. The customer gateway initiates: start_action
// start, dpd_action restart, close_action start, keyingtries 0 (AWS's default
// startup action is "add", so AWS never initiates).
//
// Tunnel up/down changes come out of Events, for the BGP and VRRP services.
// They are derived from charon's ike-updown / child-updown / child-rekey
// events and from a periodic list-sas, so a missed event cannot leave a
// tunnel down: a tunnel without an IKE_SA is initiated again.
//
// Pre-shared keys go to charon over VICI and nowhere else: not into files,
// logs, Status or errors. charon itself logs at levels that never print keys.
//
// # charon's pid file
//
// Debian's charon always writes /var/run/charon.pid and refuses to start
// when it names a live process, which would stop two gateways (or tests) on
// one machine. The Service therefore starts charon in a private mount
// namespace with RunDir bind-mounted on /run, so charon's pid file, VICI
// socket and strongswan.conf all live in RunDir. If that namespace cannot be
// made, charon runs in the shared one and uses /var/run/charon.pid.
package ipsec
