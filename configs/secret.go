package configs

import (
	"encoding/json"
	"fmt"
	"log/slog"

	"go.yaml.in/yaml/v3"
)

// mask is what every printing path shows instead of a secret's value.
const mask = "*****"

// A Secret holds a pre-shared key or a VRRP password. Every way of printing or
// serialising it (fmt with any verb, String, GoString, JSON, YAML, text,
// slog) shows "*****", or "" when it is empty, so that a Secret can sit in
// structs that get logged or served without leaking. Reveal returns the value
// for the one place that needs it (charon over VICI, the VRRP packet).
type Secret struct {
	v string
}

// NewSecret wraps v.
func NewSecret(v string) Secret { return Secret{v: v} }

// Reveal returns the secret's value. Call it only where the value is handed to
// the component that uses it; never log the result.
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether the secret is empty; YAML's omitempty uses it.
func (s Secret) IsZero() bool { return s.v == "" }

func (s Secret) masked() string {
	if s.v == "" {
		return ""
	}
	return mask
}

// String returns "*****", or "" when the secret is empty.
func (s Secret) String() string { return s.masked() }

// GoString returns the masked value, for %#v.
func (s Secret) GoString() string { return s.masked() }

// Format makes every fmt verb (%v, %+v, %#v, %s, %q, %x, ...) print the masked
// value, including when the Secret is a field of a struct being printed.
func (s Secret) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		fmt.Fprintf(f, "%q", s.masked())
	default:
		_, _ = f.Write([]byte(s.masked()))
	}
}

// LogValue masks the secret in log/slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.masked()) }

// MarshalText masks the secret for encoders that use encoding.TextMarshaler.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.masked()), nil }

// MarshalJSON masks the secret.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.masked()) }

// MarshalYAML masks the secret.
func (s Secret) MarshalYAML() (any, error) { return s.masked(), nil }

// UnmarshalYAML fills the secret from a scalar, so that a Secret decodes with
// yaml.Unmarshal too. The error never quotes the value.
func (s *Secret) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a secret must be a single value", n.Line)
	}
	if n.ShortTag() == "!!null" {
		s.v = ""
		return nil
	}
	s.v = n.Value
	return nil
}
