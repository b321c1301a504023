// Package shell is the read-only operator shell on the serial console (what
// Linode's Lish shows): `tidegate shell`, which PID 1 runs as a supervised
// child on /dev/console next to the gateway.
//
// The appliance has no login and no other shell; this one only reads. It
// asks the gateway process over the status API's unix socket
// (/run/tidegate/status.sock, see services/status) and prints what FRR's and
// VyOS's show commands would:
//
//	vpn-gw-1> show bgp
//	BGP speaker running; VRRP master: announcing to AWS without prepending
//	...
//	Neighbor        AS     Up/Down   State/PfxRcd  PfxAcc  PfxSnt  Desc
//	169.254.80.145  64512  00:59:50  1             1       1       vpn-1a
//
// Commands: show status|tunnels|bgp|vrrp|routes|config|log [N]|system,
// help, reboot and poweroff, debug kill charon (a crash of charon on
// purpose, to see the gateway recover) and debug kill gateway (a crash of
// the gateway process, to see PID 1 take its virtual IP off the VLAN and
// restart it); both debug commands ask first and refuse to run off the
// appliance. Words may be abbreviated (`sh bgp`), and a few FRR and VyOS
// spellings are understood (`show ip bgp summary`, `show ip route`,
// `show running-config`, `show vpn ipsec sa`).
//
// reboot and poweroff ask for confirmation, saying what the planned
// handover will do, and then signal PID 1 as its conventions have it
// (SIGTERM reboots, SIGUSR2 powers off); PID 1 lets the gateway hand the
// virtual IP over before the machine goes down.
//
// The shell keeps working while the gateway is not: it says that the
// gateway is not running, or that it waits for a valid configuration and
// what is wrong with the one it has. Log lines keep printing on the same
// console between commands, as on any router's console.
package shell
