// Package configs parses and validates tidegate's site configuration: the
// one YAML document that describes a gateway pair and that goes, unchanged,
// into both Linodes' user data (docs/design.md, "The site configuration",
// says what it promises).
//
// Parse (or Load, for a file) decodes the document, fills the defaults and
// checks it strictly: unknown keys, duplicate keys and type mismatches are
// errors, and so is anything AWS, strongSwan, VRRP or the pair itself would
// refuse later. All problems are reported at once as an Errors value, each
// naming its key path and line, e.g.
//
//	line 27: gateways[1].tunnels[0].psk: does not meet AWS's rules (...): it starts with 0
//
// Secrets (tunnel pre-shared keys, the VRRPv2 password) are held in Secret,
// which prints as "*****" everywhere; errors never quote them.
//
// # Schema
//
// Defaults are in brackets. Durations are Go duration strings ("10s",
// "100ms", "8h") or plain integers meaning seconds.
//
//	version: 1                       # required, must be 1
//	site: linode-to-aws              # required, [a-z0-9-]
//	vlan:
//	  interface: eth1                # [eth1]
//	  prefix: 10.0.1.0/24            # required, IPv4, host bits zero, /29 or larger
//	  virtual_ip: 10.0.1.200         # required, inside prefix, not network/broadcast
//	  # or, for an active-active pair, two (instead of virtual_ip):
//	  # virtual_ips: [10.0.1.200, 10.0.1.201]  # gateways[i] is master of the i-th
//	vrrp:
//	  vrid: 10                       # required, 1..255; active-active also uses vrid+1
//	  version: 3                     # [3]; 2 for keepalived's default, with auth_pass
//	  advert_interval: 1s            # [1s]; v2 whole seconds 1..255, v3 10ms steps to 40.95s
//	  auth_pass: ""                  # v2 only, 1..8 bytes
//	  preempt: true                  # [true]
//	  preempt_delay: 0s              # [0], up to 1000s, only with preempt
//	bgp:
//	  asn: 65000                     # required, not 64512 (AWS's default) nor 23456
//	  advertise: [10.0.1.0/24]       # [vlan.prefix]; canonical IPv4, no /32, at most 33
//	                                 # (active-active without ecmp: /30 or shorter, at most 14)
//	  backup_prepend: 2              # [2], 0..10; not with ecmp
//	  ecmp: false                    # [false]; true for a transit gateway with VPN ECMP
//	  accept: [10.0.0.0/8]           # [everything the import filter allows]; canonical IPv4
//	  max_prefixes: 12000            # [12000] per neighbour, 1..1000000
//	  ibgp_password: ""              # TCP-MD5 on iBGP, 1..80 printable ASCII, no spaces
//	  ibgp_ttl_security: true        # [true] GTSM on iBGP; false for an FRR peer set up as the seed article
//	status:
//	  allow: [198.51.100.0/24]       # [none] sources that may get /healthz and /metrics on eth0
//	syslog:                          # [none] send the log lines to a remote syslog receiver
//	  address: 10.0.1.50:514         # required: a host inside vlan.prefix; [port 514]
//	  protocol: udp                  # [udp], or tcp
//	gateways:                        # exactly two, distinct names and priorities
//	  - name: vpn-gw-1               # the Linode label
//	    priority: 100                # required, 1..254
//	    vlan_address: 10.0.1.2/24    # [the Metadata Service's ipam_address]
//	    tunnels:                     # 1..4
//	      - name: vpn-1a             # unique in the site
//	        outside_address: 203.0.113.10   # AWS's public endpoint
//	        inside_cidr: 169.254.80.144/30  # unique, not one AWS reserves
//	        psk: EXAMPLE.psk.for.vpn_1a     # 8..64 of [A-Za-z0-9._], not starting with 0
//	        remote_asn: 64512        # [64512]
//	        ike_version: 2           # [2]
//	        proposals: [aes256gcm16-prfsha384-ecp384, aes256-sha256-modp2048]
//	        esp_proposals: [aes256gcm16-ecp384, aes256-sha256-modp2048]  # also set the tunnel's MTU and MSS clamp (Tunnel.MTU)
//	        dpd_delay: 10s           # [10s], 1s..60s
//	        ike_lifetime: 8h         # [28800s], 900s..28800s
//	        child_lifetime: 1h       # [3600s], 900s..3600s, less than ike_lifetime
//	        med: 0                   # [index in the list × 100; 0 with ecmp, equal on all]
//
// Routes from AWS and the peer pass the import filter of package bgp:
// 0.0.0.0/0 and anything shorter than /8, anything equal to or inside the
// VLAN, an advertised prefix or the virtual IP, anything that contains a
// tunnel's outside address or the gateway's public address, and anything
// overlapping 169.254.0.0/16, 0/8, 127/8, 224/4 or 240/4 are refused. With
// bgp.accept only routes equal to or inside an entry are accepted; an entry
// shorter than /8 is also what lets routes that short in.
//
// # Active-active and ECMP
//
// With vlan.virtual_ips the pair runs two VRRP groups: gateways[0] is the
// master of the first virtual IP (VRID vrrp.vrid) and the backup of the
// second (VRID vrrp.vrid+1), gateways[1] the reverse; hosts on the VLAN
// route through either, or both with an ECMP route. The return path from
// AWS follows bgp.ecmp:
//
//   - false (a virtual private gateway, one preferred path): each gateway
//     draws one half of every advertised prefix, gateways[0] the lower, by
//     announcing both halves and prepending the other one; on failover the
//     survivor announces the quarters.
//   - true (a transit gateway with VPN ECMP): every tunnel announces the
//     same path (no prepend, equal MEDs) and AWS spreads flows over all
//     of them; on failover the survivor announces the halves.
//
// # Remote syslog
//
// With syslog, each gateway sends its log lines as RFC 5424 messages
// (hostname its Linode label, app-name tidegate, msgid the service) to the
// receiver, over UDP, one message per datagram, or TCP, octet-counted (RFC
// 6587). The receiver must be a host on the VLAN, not a virtual IP nor a
// gateway: the packet filter lets the gateway's own connections out to any
// address, but syslog is clear text and the site's logs must not cross the
// internet. See package services/syslog.
//
// Proposals use strongSwan's syntax and are limited to the algorithms AWS
// accepts; DefaultProposals and DefaultESPProposals describe the defaults.
//
// The examples directory holds the seed article's reference scenario
// (examples/seed.yaml; docs/seed-article.md), its keepalived-compatible
// VRRPv2 variant and an active-active pair.
package configs
