package vrrp

import "fmt"

// DropReason names why a received packet was discarded. Every discarded
// packet is counted under exactly one reason in Status.Drops; a discarded
// packet never changes the router's state.
type DropReason string

// Reasons for discarding a received packet. The first ones are malformed or
// foreign packets; then come well-formed adverts that RFC 3768/5798 tell a
// router to ignore; the last one is tidegate's own rule that only the pair's
// peer speaks for the VRID (peer.go).
const (
	DropIPHeader     DropReason = "ip-header"     // not a whole, unfragmented IPv4 datagram to 224.0.0.18 with a good header checksum
	DropTTL          DropReason = "ttl"           // TTL not 255: sent from off-link (RFC 5798 §7.1)
	DropSource       DropReason = "source"        // source not a unicast host address of the VLAN prefix
	DropLength       DropReason = "length"        // shorter or longer than its address count says
	DropVersion      DropReason = "version"       // not the VRRP version this router speaks
	DropType         DropReason = "type"          // not an ADVERTISEMENT
	DropChecksum     DropReason = "checksum"      // VRRP checksum wrong (v3: in both pseudo-header forms)
	DropVRID         DropReason = "vrid"          // another virtual router's advert
	DropAuth         DropReason = "auth"          // v2 authentication type or password differs
	DropAddressCount DropReason = "address-count" // number of virtual addresses differs from ours
	DropAddresses    DropReason = "addresses"     // virtual addresses differ from ours (sender not the owner)
	DropInterval     DropReason = "interval"      // v2 advert interval differs from ours (RFC 3768 §7.1)
	DropPeer         DropReason = "peer"          // an otherwise valid advert for our VRID from a source that is not the pair's peer
)

// DropReasons lists every DropReason, so that a counter can exist (at 0)
// before its first drop.
var DropReasons = []DropReason{
	DropIPHeader, DropTTL, DropSource, DropLength, DropVersion, DropType, DropChecksum,
	DropVRID, DropAuth, DropAddressCount, DropAddresses, DropInterval, DropPeer,
}

// dropError is the error returned by the decoder and the validation: it
// carries the counter to bump and a detail for debug logs. The detail never
// includes authentication data.
type dropError struct {
	reason DropReason
	detail string
}

func (e *dropError) Error() string {
	return fmt.Sprintf("vrrp: dropped (%s): %s", e.reason, e.detail)
}

func drop(reason DropReason, format string, args ...any) error {
	return &dropError{reason: reason, detail: fmt.Sprintf(format, args...)}
}
