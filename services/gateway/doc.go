// Package gateway is the tidegate gateway process: the child that PID 1
// supervises, or an ordinary process started with --config and --name.
//
// On the appliance it brings up the public interface by DHCP, learns its
// identity, VLAN address and site configuration from the Linode Metadata
// Service, configures the VLAN interface and starts the services (IPsec, BGP,
// VRRP) for its own section of the configuration. A configuration that does
// not validate never stops the box: the errors are printed on the console
// and repeated while the gateway keeps polling the Metadata Service, so a
// corrected user data is picked up without a reboot.
//
// In standalone mode (Options.ConfigFile and Name) the site comes from a
// file and the gateway runs on any Linux machine or in a network namespace:
// no DHCP, no Metadata Service, and none of the kernel-wide setup the
// appliance does (Options.XFRMInterfaces, Firewall and Sysctls stay off).
//
// # Services and their events
//
// Each service (packages ipsec, bgp, vrrp) hides its goroutines behind Run;
// the gateway maps the site configuration onto each one's Config and carries
// their events, from one goroutine, so that they never call each other:
//
//   - IPsec tunnel up/down -> bgp.TunnelUp/TunnelDown: a tunnel that goes
//     down shuts its BGP session and withdraws its routes at once instead of
//     after the 30 s hold time. BGP sessions are not held back at start:
//     a session cannot come up before its tunnel anyway.
//   - IPsec tunnel up/down and BGP's count of AWS paths (bgp.Config.OnAWSPaths)
//     -> the gateway's health -> vrrp.SetTrack(TrackAWS, weight), in the spirit
//     of keepalived's track_script: while the gateway has no working path to
//     AWS its VRRP priority drops by max(10, difference of the pair's
//     priorities + 1) (the seed's 100 becomes 90, below the peer's 99), so a
//     healthy peer takes the virtual IP. Both gateways use the same weight,
//     so when neither has a path the usual master stays. "No working path"
//     is: BGP has no best path from AWS over this gateway's tunnels, or every
//     tunnel went down after one had been up (the tunnel event comes before
//     BGP's count). A gateway starts without a path, so a rebooted master
//     does not take the virtual IP back before its own BGP sessions bring
//     routes from AWS.
//   - VRRP master/backup -> bgp.SetMaster: the backup prepends its AS toward
//     AWS so AWS returns traffic through the master.
//
// # Active-active
//
// With two virtual IPs (configs.Site.ActiveActive) the gateway runs two
// VRRP routers on the VLAN: the one of its own virtual IP, at the pair's
// higher priority, and the one of the peer's, at the lower (each ignores
// the other's VRID). The AWS track lowers both. Our own router's role moves
// bgp.SetMaster (the prepend of our half); the peer's router's moves
// bgp.SetPeerVIP, and its takeover by the master-down timer is the failover
// (failover.go), exactly as the one router's is in active-standby. The iBGP
// peer is learned from the peer's router, whose master the peer is.
//
// # Stopping
//
// When Run's context ends (SIGTERM: PID 1 forwards a power-off or reboot
// and allows 15 s) the gateway hands over first: vrrp.Resign sends priority
// 0, the peer takes over after its skew time, and this gateway keeps the
// virtual IP and keeps forwarding (BGP and IPsec still run) until the
// peer's first advert. Then it stops BGP (which removes its kernel routes),
// keeps the tunnels a second longer for what AWS sent before the withdrawal
// (services.go's drain), and stops IPsec (charon deletes its SAs); Run
// returns nil. A crash does nothing of the kind: the peer's Master_Down
// timer takes over, as with a dead box.
//
// When a service fails (its Run returns; supervise.go), the gateway logs
// it, hands over the same way, stops the others and returns the error, so
// the gateway process exits with status 1 and PID 1 restarts it. A panic
// in a service goroutine ends the process at once; PID 1 restarts it too.
//
// # Remote syslog
//
// When the site configures syslog, the gateway starts a sender (package
// services/syslog, syslog.go) once its role is known: the configuration
// names the receiver and the role the hostname (the Linode label). It gets
// the lines this process logged since it started (consolelog's ring), then
// every line as the console does, and stops after the services, sending
// what is still queued, so the handover of a planned stop is logged
// remotely too. Its counters are in the status document (Syslog).
//
// # Status
//
// Gateway.Status aggregates the services' Status values into the status
// API's document (status.Document, which package status defines and this
// package fills, so there is one set of types and JSON keys): version,
// role, uptime, health, each tunnel, each BGP session (with the routes its
// import filter refuses and its max-prefix teardowns), the VRRP state and
// peer, and the packet filter's drop counters. It holds no secret. The API
// listens on the run directory's unix socket from the start, and on the
// VLAN address (port status.Port, 8179) once the role is known
// (statusserver.go).
package gateway
