// Package status serves a running gateway's state to operators and to
// monitoring, and reads it back: the HTTP status API, Prometheus metrics, the
// health check a rolling reimage polls, and the tables that the console shell
// (`show ...`) and `tidegate status ADDRESS` print.
//
// # Endpoints
//
// A Server (NewServer; an http.Handler) serves, on two listeners (Serve):
//
//	GET /         the list of endpoints
//	GET /status   the status Document as JSON
//	GET /metrics  Prometheus text exposition (tidegate_* plus go_ and process_)
//	GET /healthz  {"role":"master","healthy":true,...}; 200 when healthy, 503 when not
//	GET /log      the gateway's recent console lines, text (?n=50 for the last 50)
//	GET /config   the effective site configuration as YAML, secrets masked
//
// The TCP listener is the gateway's VLAN address, port 8179 (Port), never
// the wildcard address. Not 9090: that is the Prometheus server's own port,
// so a Prometheus on a VLAN host collides with it and "9090" in a firewall
// rule reads as the Prometheus server. Prometheus's wiki page "Default port
// allocations" gives 9091 and 9093-9094 to the Pushgateway and
// Alertmanager, keeps 9092 free for Kafka, and has handed out all of
// 9100-9999 to exporters; common defaults outside it are taken too (3000
// Grafana, 8080 cAdvisor and kube-state-metrics, 8428 VictoriaMetrics,
// 8500 Consul, 8888-8889 the OpenTelemetry Collector, 10250 and up
// Kubernetes). 8179 is none of those nor a port of the VPN (UDP 500 and
// 4500, TCP 179). eth0 faces the Internet
// and the uplink firewall admits IKE only, but the status server does not rely
// on that, the full API is simply not bound there (only the management
// listener, below, may be). ListenVLAN binds with IP_FREEBIND so that the
// listener can be opened before the address is on the interface.
//
// The unix socket (SocketName in the gateway's run directory,
// /run/tidegate/status.sock on the appliance, mode 0600) serves the console
// shell, which runs as a separate process (a child of PID 1) and must keep
// working when the VLAN is down.
//
// GET /status lists at most MaxRoutes kernel routes, the first by prefix,
// with routes_total and routes_truncated saying how many there are: a peer
// announcing 100k prefixes does not make the document 100k routes long. The
// default route reader streams the kernel's table through the same bound.
//
// # Limits
//
// Every listener bounds what one client may hold (limits.go): 5 s to send
// the request headers (a slowloris client that trickles them is cut off),
// 10 s for the whole request, 30 s to take the answer, 30 s idle between
// requests, 8 KiB of request headers (431 beyond), and 32 connections
// served at once (more wait in the accept queue).
//
// # Management listener
//
// ServeManagement serves monitoring from outside the VLAN, meant for a
// listener on eth0 that the gateway opens when the site file has
// status.allow: only GET /healthz and GET /metrics, only to sources inside
// the allow list, with the limits above.
// A connection from any other source is closed unread, and any other
// endpoint is 404; both are counted in
// tidegate_status_rejected_total{reason="source"|"path"}. An empty allow
// list serves nobody: ServeManagement returns an error.
//
// # Metrics
//
// A collector turns the same snapshot into metrics at each scrape, so that
// /metrics and /status never disagree. The names follow Prometheus's
// conventions, which promlint checks: tidegate_ and the subsystem
// (tunnel_, bgp_, vrrp_, charon_, firewall_, status_); _total on
// counters; base units; a state as one series per state, 1 for the
// current one (phase, vrrp_state); a moment as a Unix timestamp
// (_start_time_seconds, _timestamp_seconds; 0 for "none"), not a
// duration since or until it, so that a series does not change between
// scrapes and time() - x is the age at query time. MetricNames lists them
// all; docs/monitoring.md has them as a table, with the alert rules and the
// dashboard:
//
//	tidegate_build_info{version}                  1
//	tidegate_phase{phase}                         starting, configuring, running, stopping, stopped, failed
//	tidegate_start_time_seconds                   the gateway process's start
//	tidegate_config_errors                        problems with the site file the gateway waits on
//	tidegate_healthy                              1 with a working path to AWS
//	tidegate_charon_up, tidegate_charon_restarts_total
//	tidegate_charon_start_time_seconds            absent until charon first started
//	tidegate_tunnel_up{tunnel,tunnel_ip_address}
//	tidegate_tunnel_established_timestamp_seconds{tunnel,tunnel_ip_address}   the IKE_SA's
//	tidegate_tunnel_bytes_total{tunnel,tunnel_ip_address,direction="in|out"}   in: from AWS
//	tidegate_tunnel_packets_total{tunnel,tunnel_ip_address,direction="in|out"}
//	tidegate_tunnel_rekeys_total{tunnel,tunnel_ip_address,sa="ike|child"}
//	tidegate_bgp_peer_up{peer,address}
//	tidegate_bgp_peer_established_timestamp_seconds{peer,address}
//	tidegate_bgp_prefixes_received{peer,address}, tidegate_bgp_prefixes_accepted{...}, tidegate_bgp_prefixes_advertised{...}
//	tidegate_bgp_routes_installed, tidegate_bgp_aws_paths, tidegate_bgp_prepending
//	tidegate_bgp_return_path_held, tidegate_bgp_ibgp_peer_gone
//	tidegate_bgp_max_prefixes                     the limit per neighbor
//	tidegate_bgp_rejected_routes{peer,reason}     routes the import filter refuses now
//	tidegate_bgp_max_prefix_teardowns_total{peer}
//	tidegate_bgp_max_prefix_retry_timestamp_seconds{peer}   when a torn-down session is tried again
//	tidegate_vrrp_state{vrid,state="initialize|backup|master"}
//	tidegate_vrrp_priority{vrid}, tidegate_vrrp_effective_priority{vrid}
//	tidegate_vrrp_transitions_total{vrid}, tidegate_vrrp_last_transition_timestamp_seconds{vrid}
//	tidegate_vrrp_adverts_sent_total{vrid}, tidegate_vrrp_adverts_received_total{vrid}
//	tidegate_vrrp_adverts_dropped_total{vrid,reason}
//	tidegate_firewall_dropped_packets_total{interface="uplink|vlan|tunnel|other|forward"}
//	tidegate_status_rejected_total{reason="source|path"}  the management listener's refusals
//	tidegate_cpu_seconds_total{mode}              the machine's CPU time (/proc/stat): softirq is the data path
//	tidegate_xfrm_errors_total{counter}           the kernel's IPsec errors (/proc/net/xfrm_stat): ESP that failed its SA
//
// plus the client library's go_* and process_* metrics. peer is the tunnel's
// name, or "ibgp" for the session with the other gateway. vrid tells apart
// the two virtual routers of an active-active pair's gateway (Document.VRRP
// and Document.PeerVRRP); across the pair each vrid has one master.
//
// tunnel_ip_address is AWS's outside address of the tunnel (Tunnel.Remote):
// CloudWatch's VPN metrics (TunnelState, TunnelDataIn, TunnelDataOut) have
// it as their dimension TunnelIpAddress, which the CloudWatch exporter
// turns into the label tunnel_ip_address, so tidegate's view of a tunnel
// and AWS's join on it. Their other dimension, VpnId (the VPN connection's
// vpn-... id), is not in the site YAML, so no metric carries it.
//
// # Refusals
//
// What the gateway's protections refuse is in /status, /metrics and the
// show commands alike: per BGP neighbor, the routes the import filter
// refuses by reason and the max-prefix teardowns and back-off (`show
// bgp`); VRRP adverts dropped by reason and the one peer whose adverts
// count (`show vrrp`); the packet filter's drops by interface class
// (`show status`; no firewall section without a packet filter). The
// gateway fills every reason and class, 0 included, so each series
// exists from the first scrape and rate() and alerts work before the
// first refusal. (VRRP's drop reasons appear as they are first counted:
// package vrrp does not list them.)
//
// # Secrets
//
// Nothing served here holds a pre-shared key or a VRRP password: the Document
// has no field for one, the configuration is rendered by configs.Site.Masked,
// and the log lines are the console's, which never print a secret. The tests
// serve a configuration holding both and look for them in every endpoint.
//
// # Reading it back
//
// Client fetches from an address (host, host:port or a socket path), and
// HealthClient implements scripts/linode's Health for the rolling reimage.
// WriteStatus, WriteTunnels, WriteBGP, WriteVRRP and WriteRoutes print a
// Document as aligned tables in the spirit of FRR's and VyOS's show commands.
package status
