package configs

import "strings"

// AWS's "Best practices for your customer gateway device" lists the largest
// packet a tunnel carries (its MTU) by ESP algorithm, and the TCP MSS to
// clamp to (the MTU less 40): 1446 for AES-GCM, 1438 for AES-CBC with
// SHA-1 or SHA-256, 1422 for AES-CBC with SHA-384 or SHA-512, without
// NAT-T. (NAT-T takes up to 16 more; a Linode's public address has no NAT,
// and where there is one, PMTU discovery covers the difference.)
const (
	mtuGCM    = 1446
	mtuSHA256 = 1438 // and SHA-1
	mtuSHA512 = 1422 // and SHA-384
)

// MTU is the tunnel's MTU from AWS's table for the ESP proposals it may
// negotiate: the smallest over every algorithm they allow, so that it holds
// whichever AWS picks. The XFRM interface gets it; MSS derives from it.
func (t Tunnel) MTU() int {
	esp := t.ESPProposals
	if len(esp) == 0 {
		esp = defaultESPProposals // what the decoder fills in
	}
	mtu := mtuGCM
	for _, p := range esp {
		mtu = min(mtu, proposalMTU(p))
	}
	return mtu
}

// MSS is the TCP MSS clamp for the tunnel: its MTU less the IPv4 and TCP
// headers, AWS's "MSS (IPv4)" column.
func (t Tunnel) MSS() int { return t.MTU() - 40 }

// proposalMTU is AWS's MTU for the worst combination one ESP proposal
// allows. Validation has checked the proposal: a GCM cipher, or CBC with
// integrity algorithms.
func proposalMTU(p string) int {
	mtu := mtuGCM
	for _, tok := range strings.Split(p, "-") {
		switch tok {
		case "sha1", "sha256":
			mtu = min(mtu, mtuSHA256)
		case "sha384", "sha512":
			mtu = min(mtu, mtuSHA512)
		}
	}
	return mtu
}
