package status

import "time"

// Fixed documents for the rendering and server tests.

var t0 = time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)

// masterDoc is vpn-gw-1 of the seed scenario as VRRP master, one tunnel
// down, an ECMP route, and the return path held; AWS sends it routes the
// import filter refuses and flooded it once, its VRRP peer was learned, and
// its packet filter dropped packets.
func masterDoc() Document {
	return Document{
		Time:          t0,
		Version:       "v0.4.0-12-gabcdef0",
		Mode:          "appliance",
		Phase:         "running",
		Gateway:       "vpn-gw-1",
		Site:          "linode-to-aws",
		Peer:          "vpn-gw-2",
		VLANAddress:   "10.0.1.2/24",
		PublicAddress: "203.0.113.10",
		Started:       t0.Add(-3723 * time.Second),
		UptimeSeconds: 3723.4,
		Health:        &Health{Healthy: true, AWSPaths: 1, TunnelsUp: 1, VRRPWeight: 0, VRRPMaster: true},
		IPsec: &IPsec{
			CharonRunning: true, CharonPID: 312, CharonVersion: "strongSwan 5.9.8",
			CharonStarted: t0.Add(-3700 * time.Second), CharonRestarts: 0,
			Tunnels: []Tunnel{
				{
					Name: "vpn-1a", Remote: "52.1.197.46", Interface: "xfrm1", Up: true,
					Reason: "established", Since: t0.Add(-3600 * time.Second),
					IKEState: "ESTABLISHED", ChildState: "INSTALLED", Established: t0.Add(-3600 * time.Second),
					IKEProposal: "AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384", ESPProposal: "AES_GCM_16-256",
					BytesIn: 1536, BytesOut: 5 << 20, PacketsIn: 12, PacketsOut: 4000,
					IKERekeys: 0, ChildRekeys: 1, LastEvent: "child-rekey",
				},
				{
					Name: "vpn-1b", Remote: "52.4.57.111", Interface: "xfrm2", Up: false,
					Reason: "dead peer (DPD)", Since: t0.Add(-90 * time.Second),
					IKEState: "CONNECTING", LastEvent: "ike-updown down",
				},
			},
		},
		BGP: &BGP{
			Running: true, Master: true, RoutesInstalled: 1, AWSPaths: 1, MaxPrefixes: 12000,
			Peers: []Peer{
				{
					Name: "vpn-1a", Address: "169.254.80.145", ASN: 64512, State: "established", UptimeSeconds: 3590,
					Established: t0.Add(-3590 * time.Second),
					Received:    8, Accepted: 8, Advertised: 1,
					Rejected:           rejected(map[string]int{"too-short": 3, "own-prefix": 4}),
					MaxPrefixTeardowns: 1,
				},
				{Name: "vpn-1b", Address: "169.254.21.5", ASN: 64512, State: "idle", AdminDown: true, Rejected: rejected(nil)},
				{
					Name: "ibgp", Address: "10.0.1.3", ASN: 65000, State: "established", UptimeSeconds: 200000,
					Established: t0.Add(-200000 * time.Second),
					Received:    1, Accepted: 1, Advertised: 1, Rejected: rejected(nil),
				},
			},
			ReturnPath: &ReturnPath{
				Since: t0.Add(-300 * time.Second), Prefixes: []string{"10.0.1.0/25", "10.0.1.128/25"},
				PeerIgnored: true, PeerIgnoredSince: t0.Add(-301 * time.Second),
			},
		},
		VRRP: &VRRP{
			VRID: 10, State: "master", Priority: 100, EffectivePriority: 100,
			MasterAddress: "10.0.1.2", MasterPriority: 100,
			VirtualIPs: []string{"10.0.1.200/24"}, Transitions: 2,
			LastChange: "master down timer expired", LastChangeAt: t0.Add(-3500 * time.Second),
			AdvertsSent: 3500, AdvertsReceived: 12,
			Drops:       map[string]uint64{"ttl": 2, "auth": 1, "peer": 5},
			PeerAddress: "10.0.1.3", PeerLearned: true,
		},
		Firewall: &Firewall{Dropped: map[string]uint64{"uplink": 18734, "vlan": 3, "tunnel": 0, "other": 0, "forward": 7}},
		Routes: []Route{
			{Prefix: "10.0.0.0/24", Metric: 20, NextHops: []NextHop{
				{Gateway: "169.254.80.145", Interface: "xfrm1"},
				{Gateway: "10.0.1.3", Interface: "eth1", Weight: 2},
			}},
			{Prefix: "10.0.2.0/24", Metric: 20, NextHops: []NextHop{{Gateway: "169.254.80.145", Interface: "xfrm1"}}},
		},
	}
}

// backupDoc is vpn-gw-2, backup and without a path to AWS: its tunnel's
// neighbor sent more than its max-prefix and waits for its back-off.
func backupDoc() Document {
	return Document{
		Time: t0, Version: "dev", Mode: "standalone", Phase: "running",
		Gateway: "vpn-gw-2", Site: "linode-to-aws", Peer: "vpn-gw-1", VLANAddress: "10.0.1.3/24",
		Started: t0.Add(-20 * time.Second), UptimeSeconds: 20,
		Health: &Health{Healthy: false, VRRPWeight: -10},
		IPsec: &IPsec{CharonRunning: false, CharonRestarts: 3, NetworkError: "xfrm interfaces: not supported",
			Tunnels: []Tunnel{{Name: "vpn-2a", Remote: "3.2.1.1", Interface: "xfrm1", IKEState: "CONNECTING"}}},
		BGP: &BGP{Running: true, Master: false, MaxPrefixes: 500, Peers: []Peer{
			{
				Name: "vpn-2a", Address: "169.254.44.1", ASN: 64512, State: "idle", AdminDown: true,
				MaxPrefixTeardowns: 3, RetryAt: t0.Add(125 * time.Second), Rejected: rejected(nil),
			},
			{Name: "ibgp", Address: "10.0.1.2", ASN: 65000, State: "opensent", Rejected: rejected(nil)},
		}},
		VRRP: &VRRP{
			VRID: 10, State: "backup", Priority: 99, EffectivePriority: 89, Tracks: map[string]int{"aws": -10},
			MasterAddress: "10.0.1.2", MasterPriority: 100, VirtualIPs: []string{"10.0.1.200/24"},
			Transitions: 1, LastChange: "higher priority advert", LastChangeAt: t0.Add(-19 * time.Second),
			AdvertsReceived: 19, Resigning: false,
			PeerAddress: "10.0.1.2",
		},
		Routes: []Route{},
	}
}

// configuringDoc is a gateway waiting for a valid user data.
// activeActiveDoc is masterDoc's gateway in an active-active pair: the
// master of its own virtual IP and the backup of the peer's.
func activeActiveDoc() Document {
	d := masterDoc()
	d.Boot = []Milestone{{"init", 0.8}, {"modules", 1.9}, {"gateway", 2.3}, {"dhcp", 3.1}, {"metadata", 3.4},
		{"firewall", 3.5}, {"services", 3.6}, {"vrrp backup", 3.7}, {"tunnel", 6.2}, {"aws paths", 7.9}, {"vrrp master", 8.2}}
	d.PeerVRRP = &VRRP{
		VRID: 11, State: "backup", Priority: 99, EffectivePriority: 99,
		MasterAddress: "10.0.1.3", MasterPriority: 100, VirtualIPs: []string{"10.0.1.201/24"},
		Transitions: 1, LastChange: "startup", LastChangeAt: t0.Add(-3600 * time.Second),
		AdvertsReceived: 3600, Drops: map[string]uint64{}, PeerAddress: "10.0.1.3",
	}
	return d
}

func configuringDoc() Document {
	return Document{
		Time: t0, Version: "v0.4.0", Mode: "appliance", Phase: "configuring",
		Started: t0.Add(-65 * time.Second), UptimeSeconds: 65, VLANAddress: "10.0.1.2/24",
		ConfigErrors: []string{
			"user-data:14: gateways[0].tunnels[0].psk: must be 8 to 64 characters of A-Z a-z 0-9 . _",
			"user-data:3: vlan.prefix: 10.0.1.0/33 is not a prefix",
		},
		RoutesError: "listing kernel routes: operation not permitted",
	}
}

// rejected is a peer's Rejected as the gateway fills it: every reason of
// the import filter, 0 included, with the counts in m.
func rejected(m map[string]int) map[string]int {
	out := map[string]int{"too-short": 0, "reserved": 0, "endpoint": 0, "own-prefix": 0, "not-accepted": 0}
	for r, n := range m {
		out[r] = n
	}
	return out
}
