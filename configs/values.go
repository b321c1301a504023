package configs

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The values of single keys and of lists of them. Each decoder refuses what
// does not fit the key (a quoted number, an IPv6 address, a negative
// duration) with an error naming the key path and line. Each encoder shows
// the value as an operator writes it and leaves an optional key out when it
// is not set (an empty string, list or secret, an invalid address).

// A value is how one key's Go value crosses YAML: decode fills it from the
// node at path, encode renders it for Masked (nil leaves the key out).
type value struct {
	decode func(n *yaml.Node, path string)
	encode func() *yaml.Node
}

// shownIf is v, shown by Masked only while show reports true.
func (v value) shownIf(show func() bool) value {
	encode := v.encode
	v.encode = func() *yaml.Node {
		if !show() {
			return nil
		}
		return encode()
	}
	return v
}

func (d *decoder) str(dst *string) value {
	return value{
		decode: func(n *yaml.Node, path string) {
			if s, ok := d.scalar(n, path); ok {
				*dst = s
			}
		},
		encode: func() *yaml.Node { return optional(*dst != "", *dst) },
	}
}

// secret's encoder shows "*****" (Secret.String), never the value.
func (d *decoder) secret(dst *Secret) value {
	return value{
		decode: func(n *yaml.Node, path string) {
			if s, ok := d.scalar(n, path); ok {
				*dst = NewSecret(s)
			}
		},
		encode: func() *yaml.Node { return optional(!dst.IsZero(), dst.String()) },
	}
}

// integer decodes a YAML integer in [min, max]. A quoted number is a string
// in YAML and is refused, like any other type confusion.
func (d *decoder) integer(n *yaml.Node, path string, min, max int64) (int64, bool) {
	s, ok := d.scalar(n, path)
	if !ok {
		return 0, false
	}
	if n.ShortTag() != "!!int" {
		d.errorAt(path, n.Line, "must be an integer, got %s %q", kindName(n), s)
		return 0, false
	}
	v, err := strconv.ParseInt(s, 0, 64)
	if err != nil || v < min || v > max {
		d.errorAt(path, n.Line, "must be between %d and %d, got %s", min, max, s)
		return 0, false
	}
	return v, true
}

func intField[T ~int | ~uint8 | ~uint32](d *decoder, dst *T, min, max int64) value {
	return value{
		decode: func(n *yaml.Node, path string) {
			if v, ok := d.integer(n, path, min, max); ok {
				*dst = T(v)
			}
		},
		encode: func() *yaml.Node { return scalarNode("!!int", strconv.FormatInt(int64(*dst), 10)) },
	}
}

func (d *decoder) boolean(dst *bool) value {
	return value{
		decode: func(n *yaml.Node, path string) {
			s, ok := d.scalar(n, path)
			if !ok {
				return
			}
			v, err := strconv.ParseBool(strings.ToLower(s))
			if n.ShortTag() != "!!bool" || err != nil {
				d.errorAt(path, n.Line, "must be true or false, got %q", s)
				return
			}
			*dst = v
		},
		encode: func() *yaml.Node { return scalarNode("!!bool", strconv.FormatBool(*dst)) },
	}
}

// duration accepts a Go duration string ("10s", "100ms", "8h") or a plain
// integer meaning seconds (the unit AWS's console and keepalived use).
func (d *decoder) duration(dst *time.Duration) value {
	return value{
		decode: func(n *yaml.Node, path string) {
			s, ok := d.scalar(n, path)
			if !ok {
				return
			}
			switch n.ShortTag() {
			case "!!int":
				v, err := strconv.ParseInt(s, 0, 64)
				if err != nil || v < 0 || v > math.MaxInt64/int64(time.Second) {
					d.errorAt(path, n.Line, "must be a duration such as 10s or a whole number of seconds, got %s", s)
					return
				}
				*dst = time.Duration(v) * time.Second
			case "!!str":
				v, err := time.ParseDuration(s)
				if err != nil {
					d.errorAt(path, n.Line, "must be a duration such as 10s, 100ms or 8h, or a whole number of seconds, got %q", s)
					return
				}
				if v < 0 {
					d.errorAt(path, n.Line, "must not be negative, got %s", s)
					return
				}
				*dst = v
			default:
				d.errorAt(path, n.Line, "must be a duration such as 10s, 100ms or 8h, or a whole number of seconds, got %s %q", kindName(n), s)
			}
		},
		encode: func() *yaml.Node { return scalarNode("!!str", FormatDuration(*dst)) },
	}
}

// addr decodes one IPv4 address.
func (d *decoder) addr(dst *netip.Addr) value { return single(d, dst, d.ipv4) }

func (d *decoder) ipv4(n *yaml.Node, path string) (netip.Addr, bool) {
	s, ok := d.scalar(n, path)
	if !ok {
		return netip.Addr{}, false
	}
	switch a, err := netip.ParseAddr(s); {
	case err != nil:
		d.errorAt(path, n.Line, "must be an IPv4 address, got %q", s)
	case !a.Is4():
		d.errorAt(path, n.Line, "must be an IPv4 address, got %s (IPv6 is not supported)", s)
	default:
		return a, true
	}
	return netip.Addr{}, false
}

// addrs decodes a list of IPv4 addresses.
func (d *decoder) addrs(dst *[]netip.Addr) value { return flowList(d, dst, d.ipv4) }

// prefix decodes an IPv4 address with a prefix length ("10.0.1.0/24").
// Whether host bits may be set is up to the caller's checks.
func (d *decoder) prefix(n *yaml.Node, path string) (netip.Prefix, bool) {
	s, ok := d.scalar(n, path)
	if !ok {
		return netip.Prefix{}, false
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		hint := ""
		if _, aerr := netip.ParseAddr(s); aerr == nil {
			hint = " (the prefix length is missing)"
		}
		d.errorAt(path, n.Line, "must be an IPv4 prefix such as 10.0.1.0/24, got %q%s", s, hint)
		return netip.Prefix{}, false
	}
	if !p.Addr().Is4() {
		d.errorAt(path, n.Line, "must be an IPv4 prefix, got %s (IPv6 is not supported)", s)
		return netip.Prefix{}, false
	}
	return p, true
}

func (d *decoder) prefixField(dst *netip.Prefix) value { return single(d, dst, d.prefix) }

// single decodes one value with item. Masked leaves it out while it is the
// zero T: not set.
func single[T interface {
	comparable
	fmt.Stringer
}](d *decoder, dst *T, item func(*yaml.Node, string) (T, bool)) value {
	return value{
		decode: func(n *yaml.Node, path string) {
			if v, ok := item(n, path); ok {
				*dst = v
			}
		},
		encode: func() *yaml.Node {
			var zero T
			return optional(*dst != zero, (*dst).String())
		},
	}
}

func (d *decoder) strings(dst *[]string) value {
	return value{
		decode: func(n *yaml.Node, path string) {
			*dst = []string{} // present, even if empty
			d.sequence(n, path, func(n *yaml.Node, path string, _ int) {
				if s, ok := d.scalar(n, path); ok {
					*dst = append(*dst, s)
				}
			})
		},
		encode: func() *yaml.Node { return stringList(*dst, func(s string) string { return s }, 0) },
	}
}

// prefixes decodes a list of prefixes.
func (d *decoder) prefixes(dst *[]netip.Prefix) value { return flowList(d, dst, d.prefix) }

// flowList decodes a list with item. An item that does not decode is kept
// as the zero T, so that indexes in later errors still match the document.
// Masked shows the list on one line, [10.0.1.0/24, ...], as the examples
// write addresses and prefixes.
func flowList[T fmt.Stringer](d *decoder, dst *[]T, item func(*yaml.Node, string) (T, bool)) value {
	return value{
		decode: func(n *yaml.Node, path string) {
			*dst = []T{}
			d.sequence(n, path, func(n *yaml.Node, path string, _ int) {
				v, _ := item(n, path)
				*dst = append(*dst, v)
			})
		},
		encode: func() *yaml.Node { return stringList(*dst, T.String, yaml.FlowStyle) },
	}
}

// addrPort decodes an IPv4 address with an optional port: "10.0.1.50:514",
// or "10.0.1.50" for port dflt.
func (d *decoder) addrPort(dst *netip.AddrPort, dflt uint16) value {
	return single(d, dst, func(n *yaml.Node, path string) (netip.AddrPort, bool) {
		s, ok := d.scalar(n, path)
		if !ok {
			return netip.AddrPort{}, false
		}
		ap, err := netip.ParseAddrPort(s)
		if a, aerr := netip.ParseAddr(s); aerr == nil {
			ap, err = netip.AddrPortFrom(a, dflt), nil
		}
		switch {
		case err != nil:
			d.errorAt(path, n.Line, "must be an IPv4 address with an optional port, such as 10.0.1.50:514, got %q", s)
		case !ap.Addr().Is4():
			d.errorAt(path, n.Line, "must be an IPv4 address, got %s (IPv6 is not supported)", s)
		case ap.Port() == 0:
			d.errorAt(path, n.Line, "port 0 is not a port; leave it out for %d", dflt)
		default:
			return ap, true
		}
		return netip.AddrPort{}, false
	})
}

// optional is the string v, or nil when the key is not set.
func optional(set bool, v string) *yaml.Node {
	if !set {
		return nil
	}
	return scalarNode("!!str", v)
}
