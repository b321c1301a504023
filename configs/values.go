package configs

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The decoders of single values and of lists of them, each refusing what
// does not fit the key (a quoted number, an IPv6 address, a negative
// duration) with an error naming the key path and line.

func (d *decoder) str(dst *string) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		if s, ok := d.scalar(n, path); ok {
			*dst = s
		}
	}
}

func (d *decoder) secret(dst *Secret) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		if s, ok := d.scalar(n, path); ok {
			*dst = NewSecret(s)
		}
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

func intField[T ~int | ~uint8 | ~uint32](d *decoder, dst *T, min, max int64) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		if v, ok := d.integer(n, path, min, max); ok {
			*dst = T(v)
		}
	}
}

func (d *decoder) boolean(dst *bool) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
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
	}
}

// duration accepts a Go duration string ("10s", "100ms", "8h") or a plain
// integer meaning seconds (the unit AWS's console and keepalived use).
func (d *decoder) duration(dst *time.Duration) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
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
	}
}

func (d *decoder) addr(dst *netip.Addr) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		s, ok := d.scalar(n, path)
		if !ok {
			return
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			d.errorAt(path, n.Line, "must be an IPv4 address, got %q", s)
			return
		}
		if !a.Is4() {
			d.errorAt(path, n.Line, "must be an IPv4 address, got %s (IPv6 is not supported)", s)
			return
		}
		*dst = a
	}
}

// addrs decodes a sequence of IPv4 addresses. An item that does not
// decode is kept as the zero Addr, so that indexes in later errors still
// match the document.
func (d *decoder) addrs(dst *[]netip.Addr) func(*yaml.Node, string) {
	return func(n *yaml.Node, p string) {
		*dst = []netip.Addr{}
		d.sequence(n, p, func(n *yaml.Node, p string, _ int) {
			var a netip.Addr
			d.addr(&a)(n, p)
			*dst = append(*dst, a)
		})
	}
}

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

func (d *decoder) prefixField(dst *netip.Prefix) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		if p, ok := d.prefix(n, path); ok {
			*dst = p
		}
	}
}

func (d *decoder) strings(dst *[]string) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		*dst = []string{} // present, even if empty
		d.sequence(n, path, func(n *yaml.Node, path string, _ int) {
			if s, ok := d.scalar(n, path); ok {
				*dst = append(*dst, s)
			}
		})
	}
}

// prefixes decodes a sequence of prefixes. An item that does not decode
// is kept as the zero Prefix, so that indexes in later errors still match
// the document.
func (d *decoder) prefixes(dst *[]netip.Prefix) func(*yaml.Node, string) {
	return func(n *yaml.Node, p string) {
		*dst = []netip.Prefix{}
		d.sequence(n, p, func(n *yaml.Node, p string, _ int) {
			pr, _ := d.prefix(n, p)
			*dst = append(*dst, pr)
		})
	}
}

// addrPort decodes an IPv4 address with an optional port: "10.0.1.50:514",
// or "10.0.1.50" for port dflt.
func (d *decoder) addrPort(dst *netip.AddrPort, dflt uint16) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		s, ok := d.scalar(n, path)
		if !ok {
			return
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
			*dst = ap
		}
	}
}
