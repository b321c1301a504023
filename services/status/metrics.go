package status

import (
	"maps"
	"slices"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// The metrics mirror the status Document at scrape time (a collector in
// the exporter style, not counters kept alongside the services), so that
// /metrics and /status never disagree. Names follow Prometheus conventions:
// tidegate_ prefix, _total on counters, base units (bytes, seconds).
var (
	mBuildInfo = desc("build_info", "Build information; always 1.", "version")
	mPhase     = desc("phase", "1 for the gateway's current phase (starting, configuring, running, stopping, stopped, failed).", "phase")
	mUptime    = desc("uptime_seconds", "Seconds since the gateway process started.")
	mConfigErr = desc("config_errors", "Problems with the site configuration the gateway is waiting on.")
	mHealthy   = desc("healthy", "1 while the gateway has a working path to AWS (its VRRP priority is not lowered).")

	mCharonUp       = desc("charon_up", "1 while strongSwan's charon runs.")
	mCharonRestarts = desc("charon_restarts_total", "Times charon was restarted.")
	mTunnelUp       = desc("tunnel_up", "1 while the tunnel's IKE_SA is established and its CHILD_SA installed.", "tunnel")
	mTunnelBytes    = desc("tunnel_bytes_total", "Bytes through the tunnel's CHILD_SAs since the gateway started.", "tunnel", "direction")
	mTunnelPackets  = desc("tunnel_packets_total", "Packets through the tunnel's CHILD_SAs since the gateway started.", "tunnel", "direction")
	mTunnelRekeys   = desc("tunnel_rekeys_total", "Rekeys of the tunnel's SAs since the gateway started.", "tunnel", "sa")

	mBGPPeerUp       = desc("bgp_peer_up", "1 while the BGP session is established.", "peer", "address")
	mBGPPeerUptime   = desc("bgp_peer_uptime_seconds", "Seconds the BGP session has been established (0 when not).", "peer", "address")
	mBGPReceived     = desc("bgp_prefixes_received", "Prefixes received from the peer.", "peer", "address")
	mBGPAccepted     = desc("bgp_prefixes_accepted", "Prefixes received from the peer and accepted by the session.", "peer", "address")
	mBGPAdvertised   = desc("bgp_prefixes_advertised", "Prefixes advertised to the peer.", "peer", "address")
	mBGPRoutes       = desc("bgp_routes_installed", "Routes BGP installed in the kernel.")
	mBGPAWSPaths     = desc("bgp_aws_paths", "Best paths to AWS over this gateway's own tunnels.")
	mBGPPrepending   = desc("bgp_prepending", "1 while the gateway prepends its AS path toward AWS (VRRP backup).")
	mReturnPathHeld  = desc("return_path_held", "1 while the gateway holds the return path from AWS with more-specific announcements.")
	mBGPPeerGone     = desc("bgp_ibgp_peer_gone", "1 while the other gateway's iBGP paths are ignored.")
	mBGPMaxPrefixes  = desc("bgp_max_prefixes", "Prefixes one neighbor may send before its session is torn down.")
	mBGPRejected     = desc("bgp_rejected_routes", "Routes the neighbor sends that the import filter refuses, by reason.", "peer", "reason")
	mBGPMaxPfxDowns  = desc("bgp_max_prefix_teardowns_total", "Times the session was torn down for sending more than tidegate_bgp_max_prefixes.", "peer")
	mBGPMaxPfxRetry  = desc("bgp_max_prefix_retry_seconds", "Seconds until a session torn down for max-prefix is tried again (0 when it is not waiting).", "peer")
	mVRRPState       = desc("vrrp_state", "VRRP state: 0 initialize, 1 backup, 2 master.", "vrid")
	mVRRPMaster      = desc("vrrp_master", "1 while this gateway is VRRP master of the virtual router (holds its virtual IP).", "vrid")
	mVRRPPriority    = desc("vrrp_priority", "Configured VRRP priority.", "vrid")
	mVRRPEffective   = desc("vrrp_effective_priority", "VRRP priority after track weights.", "vrid")
	mVRRPTransitions = desc("vrrp_transitions_total", "VRRP state transitions.", "vrid")
	mVRRPSent        = desc("vrrp_adverts_sent_total", "VRRP advertisements sent.", "vrid")
	mVRRPReceived    = desc("vrrp_adverts_received_total", "VRRP advertisements received.", "vrid")
	mVRRPDrops       = desc("vrrp_adverts_dropped_total", "VRRP advertisements dropped, by reason.", "vrid", "reason")
	mFirewallDrops   = desc("firewall_dropped_packets_total", "Packets the packet filter dropped, by the class of interface they came in on (forward: were to be forwarded from).", "interface")
)

var allDescs = []*prometheus.Desc{
	mBuildInfo, mPhase, mUptime, mConfigErr, mHealthy,
	mCharonUp, mCharonRestarts, mTunnelUp, mTunnelBytes, mTunnelPackets, mTunnelRekeys,
	mBGPPeerUp, mBGPPeerUptime, mBGPReceived, mBGPAccepted, mBGPAdvertised,
	mBGPRoutes, mBGPAWSPaths, mBGPPrepending, mReturnPathHeld, mBGPPeerGone,
	mBGPMaxPrefixes, mBGPRejected, mBGPMaxPfxDowns, mBGPMaxPfxRetry,
	mVRRPState, mVRRPMaster, mVRRPPriority, mVRRPEffective, mVRRPTransitions,
	mVRRPSent, mVRRPReceived, mVRRPDrops, mFirewallDrops,
}

var phases = []string{"starting", "configuring", "running", "stopping", "stopped", "failed"}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("tidegate_"+name, help, labels, nil)
}

// collector turns a Document into metrics at each scrape.
type collector struct{ status func() Document }

func newCollector(status func() Document) *collector { return &collector{status: status} }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	d := c.status()
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, labels...)
	}
	counter := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, v, labels...)
	}

	gauge(mBuildInfo, 1, d.Version)
	for _, p := range phases {
		gauge(mPhase, b2f(d.Phase == p), p)
	}
	gauge(mUptime, d.UptimeSeconds)
	gauge(mConfigErr, float64(len(d.ConfigErrors)))
	gauge(mHealthy, b2f(d.Healthy()))

	if s := d.IPsec; s != nil {
		gauge(mCharonUp, b2f(s.CharonRunning))
		counter(mCharonRestarts, float64(s.CharonRestarts))
		for _, t := range s.Tunnels {
			gauge(mTunnelUp, b2f(t.Up), t.Name)
			counter(mTunnelBytes, float64(t.BytesIn), t.Name, "in")
			counter(mTunnelBytes, float64(t.BytesOut), t.Name, "out")
			counter(mTunnelPackets, float64(t.PacketsIn), t.Name, "in")
			counter(mTunnelPackets, float64(t.PacketsOut), t.Name, "out")
			counter(mTunnelRekeys, float64(t.IKERekeys), t.Name, "ike")
			counter(mTunnelRekeys, float64(t.ChildRekeys), t.Name, "child")
		}
	}
	if b := d.BGP; b != nil {
		for _, p := range b.Peers {
			gauge(mBGPPeerUp, b2f(p.State == "established"), p.Name, p.Address)
			gauge(mBGPPeerUptime, p.UptimeSeconds, p.Name, p.Address)
			gauge(mBGPReceived, float64(p.Received), p.Name, p.Address)
			gauge(mBGPAccepted, float64(p.Accepted), p.Name, p.Address)
			gauge(mBGPAdvertised, float64(p.Advertised), p.Name, p.Address)
			// Labelled by name only: the iBGP peer's address may be
			// learned, and a counter should not change series then.
			for _, r := range sortedKeys(p.Rejected) {
				gauge(mBGPRejected, float64(p.Rejected[r]), p.Name, r)
			}
			counter(mBGPMaxPfxDowns, float64(p.MaxPrefixTeardowns), p.Name)
			retry := 0.0
			if !p.RetryAt.IsZero() {
				retry = max(p.RetryAt.Sub(d.Time).Seconds(), 0)
			}
			gauge(mBGPMaxPfxRetry, retry, p.Name)
		}
		gauge(mBGPMaxPrefixes, float64(b.MaxPrefixes))
		gauge(mBGPRoutes, float64(b.RoutesInstalled))
		gauge(mBGPAWSPaths, float64(b.AWSPaths))
		gauge(mBGPPrepending, b2f(b.Running && !b.Master))
		gauge(mReturnPathHeld, b2f(b.ReturnPath != nil))
		gauge(mBGPPeerGone, b2f(b.ReturnPath != nil && b.ReturnPath.PeerIgnored))
	}
	for _, v := range []*VRRP{d.VRRP, d.PeerVRRP} {
		if v == nil {
			continue
		}
		vrid := strconv.Itoa(int(v.VRID))
		state := 0.0
		switch v.State {
		case "backup":
			state = 1
		case "master":
			state = 2
		}
		gauge(mVRRPState, state, vrid)
		gauge(mVRRPMaster, b2f(v.State == "master"), vrid)
		gauge(mVRRPPriority, float64(v.Priority), vrid)
		gauge(mVRRPEffective, float64(v.EffectivePriority), vrid)
		counter(mVRRPTransitions, float64(v.Transitions), vrid)
		counter(mVRRPSent, float64(v.AdvertsSent), vrid)
		counter(mVRRPReceived, float64(v.AdvertsReceived), vrid)
		for _, r := range sortedKeys(v.Drops) {
			counter(mVRRPDrops, float64(v.Drops[r]), vrid, r)
		}
	}
	if f := d.Firewall; f != nil {
		for _, class := range sortedKeys(f.Dropped) {
			counter(mFirewallDrops, float64(f.Dropped[class]), class)
		}
	}
}

// sortedKeys returns m's keys in order, so that a scrape lists the series
// the same way each time.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
