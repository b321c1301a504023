package cmdline

import (
	"flag"
	"fmt"
	"strings"
)

// List is a flag that may be repeated: each use appends its value
// (--gateway vpn-gw-1 --gateway vpn-gw-2).
type List []string

func (l *List) String() string     { return strings.Join(*l, ",") }
func (l *List) Set(v string) error { *l = append(*l, v); return nil }

// Map is a repeated NAME=VALUE flag (--ipam vpn-gw-1=10.0.1.2/24); a later
// use of a NAME replaces the earlier value. Make it before the flag is
// defined: its zero value is nil.
type Map map[string]string

func (m Map) String() string { return "" }
func (m Map) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" || val == "" {
		return fmt.Errorf("%q: want NAME=VALUE", v)
	}
	m[k] = val
	return nil
}

var (
	_ flag.Value = (*List)(nil)
	_ flag.Value = Map(nil)
)
