package lifeline

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// EnvVar names the environment variable holding the number of the child's
// descriptor for the lifeline's write end.
const EnvVar = "TIDEGATE_LIFELINE_FD"

const (
	// MaxLine bounds a message line, newline included. The longest valid
	// one, a claim of an IPv6 prefix on a 15-byte interface name, is under
	// 70 bytes. Far below PIPE_BUF (4096), so every line is one atomic write.
	MaxLine = 128
	// MaxClaims bounds the claims one child may make: the gateway claims
	// one or two virtual IPs.
	MaxClaims = 32
	// maxIfName is the kernel's interface name limit (IFNAMSIZ without its NUL).
	maxIfName = 15
)

// A Claim is an address the supervisor removes from an interface when the
// child is gone.
type Claim struct {
	Interface string
	// Prefix is the address with the prefix length it was added with, as
	// "ip addr" shows it (192.0.2.10/24), not masked.
	Prefix netip.Prefix
}

func (c Claim) String() string { return c.Prefix.String() + " on " + c.Interface }

const (
	beatLine    = "beat\n"
	claimPrefix = "claim "
)

// checkIfName accepts what Linux accepts as an interface name, minus what
// would break the line format: 1 to 15 bytes, no '/', no space or control
// character.
func checkIfName(name string) error {
	if name == "" || len(name) > maxIfName {
		return fmt.Errorf("interface name %q: want 1 to %d bytes", name, maxIfName)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c == '/' || c >= 0x7f {
			return fmt.Errorf("interface name %q: byte %#x not allowed", name, c)
		}
	}
	return nil
}

// claimLine formats one claim.
func claimLine(c Claim) (string, error) {
	if err := checkIfName(c.Interface); err != nil {
		return "", err
	}
	if !c.Prefix.IsValid() {
		return "", fmt.Errorf("invalid prefix %v", c.Prefix)
	}
	return claimPrefix + c.Interface + " " + c.Prefix.String() + "\n", nil
}

// A message is one parsed line: a beat, or a claim.
type message struct {
	beat  bool
	claim Claim
}

var errUnknown = errors.New("unknown message")

// parseLine parses one line without its newline.
func parseLine(line string) (message, error) {
	if line == "beat" {
		return message{beat: true}, nil
	}
	rest, ok := strings.CutPrefix(line, claimPrefix)
	if !ok {
		return message{}, errUnknown
	}
	iface, prefix, ok := strings.Cut(rest, " ")
	if !ok {
		return message{}, errors.New("claim: want an interface and a prefix")
	}
	if err := checkIfName(iface); err != nil {
		return message{}, fmt.Errorf("claim: %w", err)
	}
	p, err := netip.ParsePrefix(prefix)
	if err != nil {
		return message{}, fmt.Errorf("claim: %w", err)
	}
	return message{claim: Claim{Interface: iface, Prefix: p}}, nil
}
