package status

import (
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The metrics mirror the status Document at scrape time (a collector in
// the exporter style, not counters kept alongside the services), so that
// /metrics and /status never disagree. Names follow Prometheus conventions:
// tidegate_ prefix, then the subsystem (tunnel_, bgp_, vrrp_, firewall_);
// _total on counters; base units (bytes, seconds); a state is one series
// per state with 1 for the current one (phase, vrrp_state); a moment is a
// Unix timestamp (*_start_time_seconds, *_timestamp_seconds), not a
// duration since or until it, so that it does not change between scrapes
// and time() - x gives the age at query time.
//
// Tunnel series carry tunnel_ip_address, AWS's outside address of the
// tunnel: CloudWatch's TunnelState, TunnelDataIn and TunnelDataOut have it
// as the dimension TunnelIpAddress, which the CloudWatch exporter turns
// into the label tunnel_ip_address, so the two join on it. (CloudWatch's
// other dimension, VpnId, is not in the site YAML, so it is not here.)
var (
	mBuildInfo = desc("build_info", "Build information; always 1.", "version")
	mPhase     = desc("phase", "1 for the gateway's current phase (starting, configuring, running, stopping, stopped, failed), 0 for the others.", "phase")
	mStartTime = desc("start_time_seconds", "When the gateway process started, in seconds since the Unix epoch.")
	mConfigErr = desc("config_errors", "Problems with the site configuration the gateway is waiting on.")
	mHealthy   = desc("healthy", "1 while the gateway has a working path to AWS (its VRRP priority is not lowered).")

	mCharonUp        = desc("charon_up", "1 while strongSwan's charon runs.")
	mCharonRestarts  = desc("charon_restarts_total", "Times charon was restarted.")
	mCharonStartTime = desc("charon_start_time_seconds", "When the running charon started, in seconds since the Unix epoch (absent before the first start).")
	mTunnelUp        = desc("tunnel_up", "1 while the tunnel's IKE_SA is established and its CHILD_SA installed.", tunnelLabels()...)
	mTunnelEstab     = desc("tunnel_established_timestamp_seconds", "When the tunnel's IKE_SA was established, in seconds since the Unix epoch; 0 without one.", tunnelLabels()...)
	mTunnelBytes     = desc("tunnel_bytes_total", "Bytes through the tunnel's CHILD_SAs since the gateway started (in: from AWS).", tunnelLabels("direction")...)
	mTunnelPackets   = desc("tunnel_packets_total", "Packets through the tunnel's CHILD_SAs since the gateway started (in: from AWS).", tunnelLabels("direction")...)
	mTunnelRekeys    = desc("tunnel_rekeys_total", "Rekeys of the tunnel's SAs since the gateway started.", tunnelLabels("sa")...)

	mBGPPeerUp       = desc("bgp_peer_up", "1 while the BGP session is established.", "peer", "address")
	mBGPPeerEstab    = desc("bgp_peer_established_timestamp_seconds", "When the BGP session was established, in seconds since the Unix epoch; 0 while it is not.", "peer", "address")
	mBGPReceived     = desc("bgp_prefixes_received", "Prefixes received from the peer.", "peer", "address")
	mBGPAccepted     = desc("bgp_prefixes_accepted", "Prefixes received from the peer and accepted by the session.", "peer", "address")
	mBGPAdvertised   = desc("bgp_prefixes_advertised", "Prefixes advertised to the peer.", "peer", "address")
	mBGPRoutes       = desc("bgp_routes_installed", "Routes BGP installed in the kernel.")
	mBGPAWSPaths     = desc("bgp_aws_paths", "Best paths to AWS over this gateway's own tunnels.")
	mBGPPrepending   = desc("bgp_prepending", "1 while the gateway prepends its AS path toward AWS (VRRP backup).")
	mReturnPathHeld  = desc("bgp_return_path_held", "1 while the gateway holds the return path from AWS with more-specific announcements.")
	mBGPPeerGone     = desc("bgp_ibgp_peer_gone", "1 while the other gateway's iBGP paths are ignored.")
	mBGPMaxPrefixes  = desc("bgp_max_prefixes", "Prefixes one neighbor may send before its session is torn down.")
	mBGPRejected     = desc("bgp_rejected_routes", "Routes the neighbor sends that the import filter refuses, by reason.", "peer", "reason")
	mBGPMaxPfxDowns  = desc("bgp_max_prefix_teardowns_total", "Times the session was torn down for sending more than tidegate_bgp_max_prefixes.", "peer")
	mBGPMaxPfxRetry  = desc("bgp_max_prefix_retry_timestamp_seconds", "When a session torn down for max-prefix is tried again, in seconds since the Unix epoch; 0 when it is not waiting.", "peer")
	mVRRPState       = desc("vrrp_state", "1 for the virtual router's current VRRP state (initialize, backup, master), 0 for the others.", "vrid", "state")
	mVRRPPriority    = desc("vrrp_priority", "Configured VRRP priority.", "vrid")
	mVRRPEffective   = desc("vrrp_effective_priority", "VRRP priority after track weights.", "vrid")
	mVRRPTransitions = desc("vrrp_transitions_total", "VRRP state transitions.", "vrid")
	mVRRPLastChange  = desc("vrrp_last_transition_timestamp_seconds", "When the virtual router last changed state, in seconds since the Unix epoch; 0 before its first change.", "vrid")
	mVRRPSent        = desc("vrrp_adverts_sent_total", "VRRP advertisements sent.", "vrid")
	mVRRPReceived    = desc("vrrp_adverts_received_total", "VRRP advertisements received.", "vrid")
	mVRRPDrops       = desc("vrrp_adverts_dropped_total", "VRRP advertisements dropped, by reason.", "vrid", "reason")
	mFirewallDrops   = desc("firewall_dropped_packets_total", "Packets the packet filter dropped, by the class of interface they came in on (forward: were to be forwarded from).", "interface")
)

// tunnelLabels are a tunnel series' labels: tidegate's name for the
// tunnel and AWS's outside address (CloudWatch's TunnelIpAddress), then
// extra.
func tunnelLabels(extra ...string) []string {
	return append([]string{"tunnel", "tunnel_ip_address"}, extra...)
}

var allDescs = []*prometheus.Desc{
	mBuildInfo, mPhase, mStartTime, mConfigErr, mHealthy,
	mCharonUp, mCharonRestarts, mCharonStartTime,
	mTunnelUp, mTunnelEstab, mTunnelBytes, mTunnelPackets, mTunnelRekeys,
	mBGPPeerUp, mBGPPeerEstab, mBGPReceived, mBGPAccepted, mBGPAdvertised,
	mBGPRoutes, mBGPAWSPaths, mBGPPrepending, mReturnPathHeld, mBGPPeerGone,
	mBGPMaxPrefixes, mBGPRejected, mBGPMaxPfxDowns, mBGPMaxPfxRetry,
	mVRRPState, mVRRPPriority, mVRRPEffective, mVRRPTransitions, mVRRPLastChange,
	mVRRPSent, mVRRPReceived, mVRRPDrops, mFirewallDrops,
}

// metricNames are the names of the metrics above, in order, as desc made
// them (a Desc does not give its name back).
var metricNames []string

// MetricNames returns the name of every tidegate_ metric /metrics serves
// (besides the client library's go_ and process_), sorted: what the alert
// rules (configs/prometheus) and the dashboard (configs/grafana) may refer
// to, which their tests check.
func MetricNames() []string {
	return slices.Sorted(slices.Values(append(slices.Clone(metricNames), rejectedName)))
}

var vrrpStates = []string{"initialize", "backup", "master"}

var phases = []string{"starting", "configuring", "running", "stopping", "stopped", "failed"}

func desc(name, help string, labels ...string) *prometheus.Desc {
	metricNames = append(metricNames, "tidegate_"+name)
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
	d, m := c.status(), emitter(ch)
	m.gauge(mBuildInfo, 1, d.Version)
	for _, p := range phases {
		m.gauge(mPhase, b2f(d.Phase == p), p)
	}
	m.gauge(mStartTime, epoch(d.Started))
	m.gauge(mConfigErr, float64(len(d.ConfigErrors)))
	m.gauge(mHealthy, b2f(d.Healthy()))
	if d.IPsec != nil {
		m.ipsec(d.IPsec)
	}
	if d.BGP != nil {
		m.bgp(d.BGP)
	}
	// An active-active pair's gateway runs two virtual routers, its own
	// and its peer's (backup of the peer's virtual IP): vrid tells them
	// apart, and across the pair each vrid has one master.
	for _, v := range []*VRRP{d.VRRP, d.PeerVRRP} {
		if v != nil {
			m.vrrp(v)
		}
	}
	if f := d.Firewall; f != nil {
		for _, class := range sortedKeys(f.Dropped) {
			m.counter(mFirewallDrops, float64(f.Dropped[class]), class)
		}
	}
}

// An emitter sends the metrics of one Collect.
type emitter chan<- prometheus.Metric

func (m emitter) gauge(desc *prometheus.Desc, v float64, labels ...string) {
	m <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, labels...)
}

func (m emitter) counter(desc *prometheus.Desc, v float64, labels ...string) {
	m <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, v, labels...)
}

// ipsec emits charon's and each tunnel's metrics.
func (m emitter) ipsec(s *IPsec) {
	m.gauge(mCharonUp, b2f(s.CharonRunning))
	m.counter(mCharonRestarts, float64(s.CharonRestarts))
	if !s.CharonStarted.IsZero() {
		m.gauge(mCharonStartTime, epoch(s.CharonStarted))
	}
	for _, t := range s.Tunnels {
		m.gauge(mTunnelUp, b2f(t.Up), t.Name, t.Remote)
		m.gauge(mTunnelEstab, epoch(t.Established), t.Name, t.Remote)
		m.counter(mTunnelBytes, float64(t.BytesIn), t.Name, t.Remote, "in")
		m.counter(mTunnelBytes, float64(t.BytesOut), t.Name, t.Remote, "out")
		m.counter(mTunnelPackets, float64(t.PacketsIn), t.Name, t.Remote, "in")
		m.counter(mTunnelPackets, float64(t.PacketsOut), t.Name, t.Remote, "out")
		m.counter(mTunnelRekeys, float64(t.IKERekeys), t.Name, t.Remote, "ike")
		m.counter(mTunnelRekeys, float64(t.ChildRekeys), t.Name, t.Remote, "child")
	}
}

// bgp emits each session's metrics and the speaker's.
func (m emitter) bgp(b *BGP) {
	for _, p := range b.Peers {
		up := p.State == "established"
		m.gauge(mBGPPeerUp, b2f(up), p.Name, p.Address)
		established := 0.0
		if up {
			established = epoch(p.Established)
		}
		m.gauge(mBGPPeerEstab, established, p.Name, p.Address)
		m.gauge(mBGPReceived, float64(p.Received), p.Name, p.Address)
		m.gauge(mBGPAccepted, float64(p.Accepted), p.Name, p.Address)
		m.gauge(mBGPAdvertised, float64(p.Advertised), p.Name, p.Address)
		// Labelled by name only: the iBGP peer's address may be
		// learned, and a counter should not change series then.
		for _, r := range sortedKeys(p.Rejected) {
			m.gauge(mBGPRejected, float64(p.Rejected[r]), p.Name, r)
		}
		m.counter(mBGPMaxPfxDowns, float64(p.MaxPrefixTeardowns), p.Name)
		m.gauge(mBGPMaxPfxRetry, epoch(p.RetryAt), p.Name)
	}
	m.gauge(mBGPMaxPrefixes, float64(b.MaxPrefixes))
	m.gauge(mBGPRoutes, float64(b.RoutesInstalled))
	m.gauge(mBGPAWSPaths, float64(b.AWSPaths))
	m.gauge(mBGPPrepending, b2f(b.Running && !b.Master))
	m.gauge(mReturnPathHeld, b2f(b.ReturnPath != nil))
	m.gauge(mBGPPeerGone, b2f(b.ReturnPath != nil && b.ReturnPath.PeerIgnored))
}

// vrrp emits one virtual router's metrics, labelled with its vrid.
func (m emitter) vrrp(v *VRRP) {
	vrid := strconv.Itoa(int(v.VRID))
	for _, s := range vrrpStates {
		m.gauge(mVRRPState, b2f(v.State == s), vrid, s)
	}
	m.gauge(mVRRPPriority, float64(v.Priority), vrid)
	m.gauge(mVRRPEffective, float64(v.EffectivePriority), vrid)
	m.counter(mVRRPTransitions, float64(v.Transitions), vrid)
	m.gauge(mVRRPLastChange, epoch(v.LastChangeAt), vrid)
	m.counter(mVRRPSent, float64(v.AdvertsSent), vrid)
	m.counter(mVRRPReceived, float64(v.AdvertsReceived), vrid)
	for _, r := range sortedKeys(v.Drops) {
		m.counter(mVRRPDrops, float64(v.Drops[r]), vrid, r)
	}
}

// sortedKeys returns m's keys in order, so that a scrape lists the series
// the same way each time.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// epoch is t in seconds since the Unix epoch, or 0 for the zero time (no
// such moment).
func epoch(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
