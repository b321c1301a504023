package awsimport

import (
	"sort"
	"strings"
)

// AWS's names for the algorithms it accepts, as its customer gateway
// configuration writes them (lower case), mapped to strongSwan's keywords.
// The same algorithms are spelt the way the EC2 API lists tunnel options
// (SHA2-256, AES256-GCM-16) in some documents, so both spellings are known;
// the lookup ignores case.
var (
	awsCiphers = map[string]cipher{
		"aes-128-cbc": {"aes128", false}, "aes128": {"aes128", false},
		"aes-256-cbc": {"aes256", false}, "aes256": {"aes256", false},
		"aes-128-gcm-16": {"aes128gcm16", true}, "aes128-gcm-16": {"aes128gcm16", true},
		"aes-256-gcm-16": {"aes256gcm16", true}, "aes256-gcm-16": {"aes256gcm16", true},
	}
	// awsHashes are integrity algorithms, IKE's and ESP's. strongSwan's
	// sha256 is HMAC-SHA2-256-128 (RFC 4868), which is what AWS uses; the
	// truncation is part of the name in ESP's spelling only.
	awsHashes = map[string]string{
		"sha1": "sha1", "hmac-sha1-96": "sha1",
		"sha2-256": "sha256", "sha256": "sha256", "hmac-sha2-256-128": "sha256", "hmac-sha256-128": "sha256",
		"sha2-384": "sha384", "sha384": "sha384", "hmac-sha2-384-192": "sha384", "hmac-sha384-192": "sha384",
		"sha2-512": "sha512", "sha512": "sha512", "hmac-sha2-512-256": "sha512", "hmac-sha512-256": "sha512",
	}
	// awsGroups are the Diffie-Hellman groups AWS offers, by IANA number
	// (RFC 3526, 5114, 5903).
	awsGroups = map[string]string{
		"group2": "modp1024", "group5": "modp1536", "group14": "modp2048", "group15": "modp3072",
		"group16": "modp4096", "group17": "modp6144", "group18": "modp8192", "group19": "ecp256",
		"group20": "ecp384", "group21": "ecp521", "group22": "modp1024s160", "group23": "modp2048s224",
		"group24": "modp2048s256",
	}
)

type cipher struct {
	keyword string
	aead    bool // GCM: no integrity algorithm; IKE needs a PRF instead
}

// phase is one tunnel phase's algorithms as AWS reported them, with the
// elements they came from for error messages.
type phase struct {
	encryption, authentication, pfs *node
	ike                             bool
}

// proposal maps the phase to one strongSwan proposal, reporting what it
// cannot map on the element that holds it.
func (c *checker) proposal(p phase) string {
	var parts []string
	ci, ok := awsCiphers[strings.ToLower(p.encryption.text)]
	if !ok {
		c.errorf(p.encryption, "unknown encryption algorithm %q (AWS's are %s)", p.encryption.text, known(awsCiphers))
		return ""
	}
	parts = append(parts, ci.keyword)
	switch {
	case p.authentication == nil || p.authentication.text == "":
		if !ci.aead {
			c.errorf(p.encryption, "%s needs an authentication_protocol, and there is none", p.encryption.text)
			return ""
		}
		if p.ike {
			// A GCM IKE SA needs a PRF; without the hash AWS pairs with it
			// there is nothing to base it on.
			c.errorf(p.encryption, "%s in IKE needs an authentication_protocol for the PRF, and there is none", p.encryption.text)
			return ""
		}
	default:
		h, ok := awsHashes[strings.ToLower(p.authentication.text)]
		if !ok {
			c.errorf(p.authentication, "unknown authentication algorithm %q (AWS's are %s)", p.authentication.text, known(awsHashes))
			return ""
		}
		switch {
		case !ci.aead:
			parts = append(parts, h)
		case p.ike:
			parts = append(parts, "prf"+h) // GCM authenticates itself; the hash is the PRF
		}
		// ESP with GCM: the integrity algorithm is implied; strongSwan
		// refuses one next to an AEAD cipher.
	}
	switch pfs := strings.ToLower(p.pfs.text); {
	case !p.ike && (pfs == "" || pfs == "none" || pfs == "no_pfs" || pfs == "disabled"):
		// ESP without PFS: no DH group in the proposal.
	case p.ike && pfs == "group5":
		c.errorf(p.pfs, "group5 (modp1536) is accepted by AWS in phase 2 only, not for IKE")
		return ""
	default:
		g, ok := awsGroups[pfs]
		if !ok {
			c.errorf(p.pfs, "unknown Diffie-Hellman group %q (AWS's are %s)", p.pfs.text, known(awsGroups))
			return ""
		}
		parts = append(parts, g)
	}
	return strings.Join(parts, "-")
}

func known[V any](m map[string]V) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}
