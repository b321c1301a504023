package configs

import (
	"fmt"
	"strings"
)

// Default proposals, strongest first. They satisfy both ends:
//
//   - AWS accepts, for phase 1, AES128/AES256/AES128-GCM-16/AES256-GCM-16,
//     SHA1/SHA2-256/384/512 and DH groups 2, 14-24; for phase 2 the same
//     ciphers and hashes and DH groups 2, 5, 14-24 (EC2 API
//     Phase1/Phase2*RequestListValue). A new VPN connection allows them all,
//     so the first entry is what gets negotiated unless the AWS side was
//     restricted; the second (AES-256-CBC + SHA2-256 + group 14) is a
//     conservative fallback for tunnels whose options were narrowed to CBC
//     ciphers. Nothing weaker (SHA1, group 2) is offered by default.
//   - strongSwan: an AEAD cipher may not share a proposal with an integrity
//     algorithm, and an AEAD IKE proposal needs an explicit PRF (there is no
//     integrity algorithm to derive it from), hence "prfsha384".
//   - ESP proposals carry a DH group so that CHILD_SA rekeys use PFS: AWS's
//     phase 2 options are a list of DH groups, and a proposal without one
//     risks NO_PROPOSAL_CHOSEN at the first rekey rather than at setup (the
//     first CHILD_SA comes with IKE_AUTH and uses no DH at all).
//
// IKEv1 cannot protect the IKE SA with an AEAD cipher, so an IKEv1 tunnel
// defaults to the CBC proposal only.
var (
	defaultProposals      = []string{"aes256gcm16-prfsha384-ecp384", "aes256-sha256-modp2048"}
	defaultIKEv1Proposals = []string{"aes256-sha256-modp2048"}
	defaultESPProposals   = []string{"aes256gcm16-ecp384", "aes256-sha256-modp2048"}
)

// DefaultProposals returns the IKE proposals a tunnel of the given IKE
// version gets when the configuration names none: AES-256-GCM with a
// SHA-384 PRF and ECP-384 first, then AES-256-CBC, SHA-256 and MODP-2048 (the
// only one for IKEv1, which has no AEAD for the IKE SA). Every algorithm is
// one AWS accepts by default, and each proposal is valid strongSwan syntax.
func DefaultProposals(ikeVersion int) []string {
	if ikeVersion == 1 {
		return append([]string(nil), defaultIKEv1Proposals...)
	}
	return append([]string(nil), defaultProposals...)
}

// DefaultESPProposals returns the ESP proposals a tunnel gets when the
// configuration names none.
func DefaultESPProposals() []string { return append([]string(nil), defaultESPProposals...) }

type algKind int

const (
	encr algKind = iota // classic (CBC) encryption, needs integrity
	aead                // authenticated encryption (GCM)
	integ
	prf
	dh
)

var kindNames = [...]string{encr: "encryption", aead: "encryption", integ: "integrity", prf: "PRF", dh: "DH group"}

// algorithms are the strongSwan keywords for what AWS accepts. modp1536
// (group 5) is accepted by AWS in phase 2 only.
var algorithms = map[string]algKind{
	"aes128": encr, "aes256": encr,
	"aes128gcm16": aead, "aes256gcm16": aead,
	"sha1": integ, "sha256": integ, "sha384": integ, "sha512": integ,
	"prfsha1": prf, "prfsha256": prf, "prfsha384": prf, "prfsha512": prf,
	"modp1024": dh, "modp1536": dh, "modp2048": dh, "modp3072": dh, "modp4096": dh,
	"modp6144": dh, "modp8192": dh, "ecp256": dh, "ecp384": dh, "ecp521": dh,
	"modp1024s160": dh, "modp2048s224": dh, "modp2048s256": dh,
}

const (
	acceptedIKE = "encryption aes128, aes256, aes128gcm16, aes256gcm16; integrity sha1, sha256, sha384, sha512; " +
		"PRF prfsha1, prfsha256, prfsha384, prfsha512; DH modp1024, modp2048, modp3072, modp4096, modp6144, modp8192, " +
		"ecp256, ecp384, ecp521, modp1024s160, modp2048s224, modp2048s256"
	acceptedESP = "encryption aes128, aes256, aes128gcm16, aes256gcm16; integrity sha1, sha256, sha384, sha512; " +
		"optional DH (PFS) modp1024, modp1536, modp2048, modp3072, modp4096, modp6144, modp8192, " +
		"ecp256, ecp384, ecp521, modp1024s160, modp2048s224, modp2048s256"
)

// checkProposal returns what is wrong with one strongSwan proposal string
// ("aes256gcm16-prfsha384-ecp384"), or "" when AWS and strongSwan accept it.
// ike selects IKE (phase 1) rules over ESP (phase 2) rules.
func checkProposal(p string, ike bool, ikeVersion int) string {
	if strings.TrimSpace(p) == "" {
		return "empty proposal"
	}
	if p == "default" {
		return `"default" would offer algorithms AWS does not accept; list the algorithms`
	}
	accepted := acceptedESP
	if ike {
		accepted = acceptedIKE
	}
	var (
		unknown []string
		seen    = map[string]bool{}
		count   [dh + 1]int
	)
	for _, tok := range strings.Split(p, "-") {
		k, ok := algorithms[tok]
		switch {
		case tok == "":
			return fmt.Sprintf("%q has an empty algorithm between dashes", p)
		case seen[tok]:
			return fmt.Sprintf("%q names %s twice", p, tok)
		case !ok:
			unknown = append(unknown, fmt.Sprintf("%q", tok))
			continue
		case ike && tok == "modp1536":
			return fmt.Sprintf("%q: AWS accepts modp1536 (DH group 5) in ESP proposals only", p)
		case !ike && k == prf:
			return fmt.Sprintf("%q: a PRF (%s) belongs in IKE proposals only", p, tok)
		}
		seen[tok] = true
		count[k]++
	}
	if len(unknown) > 0 {
		word := "token"
		if len(unknown) > 1 {
			word = "tokens"
		}
		return fmt.Sprintf("%q: unknown or unsupported %s %s (AWS accepts %s)", p, word, strings.Join(unknown, ", "), accepted)
	}
	if ike && ikeVersion == 1 && count[aead] > 0 {
		return fmt.Sprintf("%q: IKEv1 cannot use a GCM cipher for the IKE SA; use aes128 or aes256 with an integrity algorithm", p)
	}
	switch {
	case count[encr] == 0 && count[aead] == 0:
		return fmt.Sprintf("%q has no encryption algorithm (aes128, aes256, aes128gcm16 or aes256gcm16)", p)
	case count[encr] > 0 && count[aead] > 0:
		return fmt.Sprintf("%q mixes GCM (AEAD) and CBC ciphers; strongSwan needs them in separate proposals", p)
	case count[aead] > 0 && count[integ] > 0:
		hint := ""
		if ike {
			hint = " (use a PRF such as prfsha384 instead)"
		}
		return fmt.Sprintf("%q pairs a GCM cipher with an integrity algorithm; GCM authenticates itself%s", p, hint)
	case count[encr] > 0 && count[integ] == 0:
		return fmt.Sprintf("%q: a CBC cipher needs an integrity algorithm (sha1, sha256, sha384 or sha512)", p)
	case ike && count[aead] > 0 && count[prf] == 0:
		return fmt.Sprintf("%q: an IKE proposal with a GCM cipher needs a PRF (prfsha256, prfsha384, ...), since there is no integrity algorithm to derive it from", p)
	case ike && count[dh] == 0:
		return fmt.Sprintf("%q has no DH group (e.g. ecp384 or modp2048)", p)
	}
	if ikeVersion == 1 {
		for k, c := range count {
			if c > 1 {
				return fmt.Sprintf("%q: IKEv1 takes one algorithm of each kind per proposal and strongSwan drops the rest; it has %d %s algorithms, write one proposal per combination", p, c, kindNames[k])
			}
		}
	}
	return ""
}
