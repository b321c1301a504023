package guest

import "testing"

func TestSwanctlConf(t *testing.T) {
	conf := SwanctlConf{
		Header: "# the AWS end\n",
		Self:   "aws", Peer: "cgw",
		Conns: []SwanctlConn{{
			Name: "vpn-1a", Local: "192.0.2.10", Remote: "%any", IfID: 1,
			Proposals: "aes256-sha256-modp2048", ESPProposals: "aes256gcm16",
			IKE: []string{"dpd_delay = 10s"}, Child: []string{"start_action = none", "dpd_action = clear"},
			PSK: "psk.1a",
		}, {
			Name: "vpn-1b", Local: "192.0.2.11", Remote: "198.51.100.1", IfID: 2,
			Proposals: "aes128-sha1-modp1024", ESPProposals: "aes128-sha1",
			PSK: "psk.1b",
		}},
	}
	got, err := conf.Render()
	if err != nil {
		t.Fatal(err)
	}
	// A responder's connection (remote %any) has a key for its own
	// identity only; settings go in their section, in order.
	const want = `# the AWS end
connections {
	vpn-1a {
		version = 2
		local_addrs = 192.0.2.10
		remote_addrs = %any
		proposals = aes256-sha256-modp2048
		mobike = no
		dpd_delay = 10s
		if_id_in = 1
		if_id_out = 1
		local {
			auth = psk
			id = 192.0.2.10
		}
		remote {
			auth = psk
			id = %any
		}
		children {
			vpn-1a {
				local_ts = 0.0.0.0/0
				remote_ts = 0.0.0.0/0
				esp_proposals = aes256gcm16
				mode = tunnel
				start_action = none
				dpd_action = clear
				if_id_in = 1
				if_id_out = 1
			}
		}
	}
	vpn-1b {
		version = 2
		local_addrs = 192.0.2.11
		remote_addrs = 198.51.100.1
		proposals = aes128-sha1-modp1024
		mobike = no
		if_id_in = 2
		if_id_out = 2
		local {
			auth = psk
			id = 192.0.2.11
		}
		remote {
			auth = psk
			id = 198.51.100.1
		}
		children {
			vpn-1b {
				local_ts = 0.0.0.0/0
				remote_ts = 0.0.0.0/0
				esp_proposals = aes128-sha1
				mode = tunnel
				if_id_in = 2
				if_id_out = 2
			}
		}
	}
}
secrets {
	ike-vpn-1a {
		id-aws = 192.0.2.10
		secret = "psk.1a"
	}
	ike-vpn-1b {
		id-aws = 192.0.2.11
		id-cgw = 198.51.100.1
		secret = "psk.1b"
	}
}
`
	if string(got) != want {
		t.Errorf("swanctl.conf:\n%s\nwant:\n%s", got, want)
	}
}
