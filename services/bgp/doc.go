// Package bgp is tidegate's BGP speaker: GoBGP (github.com/osrg/gobgp/v3)
// embedded as a library, with no gRPC listener, plus the glue that the
// hand-built seed got from FRR's zebra.
//
// What it does, for one gateway of the pair:
//
//   - eBGP to AWS over every IPsec tunnel, from the tunnel's inside address
//     (the /30's second address) to AWS's (the first), hold 30 s and
//     keepalive 10 s as AWS uses, and a short connect-retry. It advertises
//     the configured prefixes (AWS accepts at most 100) and nothing else.
//   - iBGP to the other gateway over the VLAN, interoperable with the seed's
//     FRR configuration (remote-as 65000, next-hop-self, soft-reconfiguration
//     inbound). GoBGP has no per-neighbour next-hop-self, so a global export
//     statement matching the iBGP neighbour set rewrites the next hop. GoBGP
//     always keeps the Adj-RIB-In before policy, so import policy changes are
//     re-applied from it (a soft reset in) without a session reset or a
//     ROUTE-REFRESH: the soft-reconfiguration-inbound equivalent.
//     When the site does not give the peer's VLAN address, the speaker
//     accepts the session from any address of the VLAN prefix
//     (Config.IBGPRange) and connects itself once the gateway has learned
//     the address (SetIBGPPeer); see ibgp.go.
//   - Symmetric routing: while this gateway is VRRP backup it prepends its AS
//     BackupPrepend times on what it sends to AWS, so AWS returns traffic
//     through the master. SetMaster rebuilds the export policy and soft-resets
//     the AWS sessions outbound at once.
//   - Active-active and ECMP: with Config.Share the pair splits the return
//     traffic of a virtual private gateway by announcing each prefix's
//     halves, one drawn by each gateway (share.go, SetPeerVIP); with
//     Config.ECMP (a transit gateway with VPN ECMP) nothing is prepended
//     and AWS spreads flows over every tunnel of both gateways.
//   - Tunnel preference inside one gateway by MED: each tunnel's MED is as
//     configured (configs gives tunnel i 100*i by default). The MED is sent
//     to AWS on our prefixes and written on the routes received from that
//     tunnel (when there is more than one), so both directions prefer the
//     same tunnel; equal MEDs give ECMP. Routes learned over iBGP get a
//     lower LOCAL_PREF so a gateway uses its own tunnels while it has any,
//     and its peer's only when it has none.
//   - Kernel routes: GoBGP's best paths (with multipath) go into the main
//     table as RTPROT_BGP routes with our metric (Config.RouteMetric); equal
//     paths become one ECMP route. At start and every ReconcileInterval the
//     kernel is reconciled with the RIB. A route is ours when its protocol is
//     bgp and its metric is ours: nothing else is ever changed.
//   - TunnelDown disables the tunnel's peer at once (its routes leave the RIB
//     and the kernel without waiting for the hold timer); TunnelUp enables it
//     again.
//
// Stop and restart: when Run returns after its context is cancelled the
// speaker removes the kernel routes it installed, because nothing would
// withdraw them any more and a stale route toward a dead tunnel is worse than
// none (the other gateway takes over through VRRP). When the process dies
// without a clean stop the routes stay; the next Run reconciles them against
// the new RIB: routes still learned are kept (no gap for traffic), the others
// are removed once the first sessions have had time to come up.
//
// GoBGP logs through Config.Logger. GoBGP calls Fatal and Panic on internal
// bugs from its own goroutines, where nothing can recover; the adapter logs
// them at error level and then panics (instead of os.Exit), which takes down
// the gateway process, the child of PID 1, and not PID 1: PID 1's supervisor
// restarts the gateway with back-off. A panic on the goroutine that runs
// BgpServer.Serve is recovered and returned by Run as an error.
//
// # Failover and split brain
//
// When the master dies without resigning, AWS keeps its tunnels and BGP
// paths until dead peer detection or the hold timer (30 s each) and sends
// the return traffic into them; the survivor's backup prepend makes the
// dead paths look better. Two calls close the hole:
//
//   - HoldReturnPath(true) announces each configured prefix's two halves,
//     to AWS only, with the tunnel MEDs and no prepend. AWS routes by
//     longest prefix, so the dead gateway's stale /24 stops mattering when
//     the UPDATE arrives (under 100 ms in the tests). The halves never go
//     to the iBGP peer (a /25 of its own VLAN via us would pull its VLAN
//     traffic over, and FRR would relay it to AWS) nor into the kernel,
//     and halves received from the peer are rejected.
//     HoldReturnPath(false) withdraws them; the /24s never change, so AWS
//     falls back to them with no gap.
//   - PeerGone(true) rejects every path from the iBGP peer by import
//     policy, re-applied at once from the Adj-RIB-In: its routes leave the
//     kernel in milliseconds, without waiting for the iBGP hold timer, and
//     our own tunnels carry the traffic. The session is not shut: what
//     arrives on it is how a returning peer is recognised (Status.PeerBack).
//
// When to call them, and why a gateway cut off from the VLAN never holds
// the return path (the split-brain argument), is the gateway's part:
// services/gateway/failover.go. TestSplitBrainWithFRR runs that case
// against this package.
//
// Halves are taken in configuration order while the total stays within
// AWS's 100 prefixes; a /32 has none (configs refuses both cases, New
// logs the prefixes left without halves).
package bgp
