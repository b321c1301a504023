package configs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// emptyMsg is what an operator sees when the Linode has no user data.
const emptyMsg = "user data is empty: expected the site YAML document " +
	"(version: 1, site, vlan, vrrp, bgp, gateways; see configs/examples/seed.yaml)"

// Parse decodes one site YAML document, applies defaults and validates it. On
// failure it returns an Errors listing every problem found, each naming its
// key path and line.
//
// data is the user data after Linode's base64 has been removed; a UTF-8 byte
// order mark and CRLF line endings (a file saved on Windows) are tolerated.
func Parse(data []byte) (*Site, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))

	d := newDecoder()
	root, err := d.document(data)
	if err != nil {
		return nil, err
	}
	s := d.site(root)
	// Defaults and cross-field rules run even when some values failed to
	// decode, so that one run reports every problem; errorf drops what would
	// only be a consequence of a value that did not decode.
	d.validating = true
	d.defaults(s)
	d.validate(s)
	if len(d.errs) > 0 {
		return nil, d.sorted()
	}
	return s, nil
}

// document parses data into the top-level mapping node. It fails for empty
// documents, YAML syntax errors and more than one document.
func (d *decoder) document(data []byte) (*yaml.Node, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, Errors{{Msg: emptyMsg}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) { // only comments or "---"
			return nil, Errors{{Msg: emptyMsg}}
		}
		return nil, Errors{syntaxError(err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, Errors{{Line: extra.Line, Msg: "found a second YAML document (after ---); user data must hold exactly one site document"}}
	} else if !errors.Is(err, io.EOF) {
		return nil, Errors{syntaxError(err)}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, Errors{{Msg: emptyMsg}}
	}
	root := deref(doc.Content[0])
	if isNull(root) {
		return nil, Errors{{Msg: emptyMsg}}
	}
	if root.Kind != yaml.MappingNode {
		msg := "the site configuration must be a YAML mapping (version: 1, site: ..., ...), got " + kindName(root)
		if root.Kind == yaml.ScalarNode {
			msg += "; is the user data still base64-encoded?"
		}
		return nil, Errors{{Line: root.Line, Msg: msg}}
	}
	return root, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns a YAML parser error into an *Error with its line.
func syntaxError(err error) *Error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{Line: line, Msg: "YAML syntax: " + m[2]}
	}
	return &Error{Msg: "YAML syntax: " + strings.TrimPrefix(msg, "yaml: ")}
}

// A decoder walks the yaml.Node tree of one document. It records where every
// key was so that later checks can name the line, which keys were set (so a
// default never overrides an explicit value, even an explicit zero), and
// collects every error instead of stopping at the first.
type decoder struct {
	errs   Errors
	lines  map[string]int  // key path -> line of the key (or list item)
	set    map[string]bool // key path -> present with a non-null value
	bad    map[string]bool // key path -> already has an error
	broken map[string]bool // key path -> its value did not decode

	validating bool // decoding is done; errors no longer mean "broken"
	visits     int  // nodes decoded so far, aliases counted each time
}

// maxVisits bounds the nodes decoded, counting an alias each time it is
// used: a real site has a few hundred, while a small document whose aliases
// nest lists of aliases ("billion laughs") would otherwise expand to billions.
const maxVisits = 20000

// visit counts one decoded node and reports whether decoding may go on.
func (d *decoder) visit() bool {
	d.visits++
	if d.visits == maxVisits+1 {
		d.errs = append(d.errs, &Error{Msg: fmt.Sprintf("the document expands to more than %d values (through aliases?); a site configuration is far smaller", maxVisits)})
		d.broken[""] = true // nothing after this is worth reporting
	}
	return d.visits <= maxVisits
}

func newDecoder() *decoder {
	return &decoder{
		lines:  map[string]int{},
		set:    map[string]bool{},
		bad:    map[string]bool{},
		broken: map[string]bool{},
	}
}

// errorf records a problem at path, on the line of path or of its nearest
// recorded ancestor. Only the first problem per path is kept: the others are
// usually consequences of it.
func (d *decoder) errorf(path, format string, args ...any) {
	d.errorAt(path, d.line(path), format, args...)
}

func (d *decoder) errorAt(path string, line int, format string, args ...any) {
	if d.bad[path] || d.isBroken(path) {
		return
	}
	d.bad[path] = true
	if !d.validating {
		d.broken[path] = true
	}
	d.errs = append(d.errs, &Error{Path: path, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// isBroken reports whether path or one of its ancestors failed to decode, in
// which case checks on it would only report consequences.
func (d *decoder) isBroken(path string) bool {
	for p := path; ; p = parent(p) {
		if d.broken[p] {
			return true
		}
		if p == "" {
			return false
		}
	}
}

func (d *decoder) line(path string) int {
	for p := path; ; p = parent(p) {
		if l, ok := d.lines[p]; ok {
			return l
		}
		if p == "" {
			return 0
		}
	}
}

// sorted returns the errors in document order; errors without a line (a key
// missing at the top level) come first.
func (d *decoder) sorted() Errors {
	sort.SliceStable(d.errs, func(i, j int) bool { return d.errs[i].Line < d.errs[j].Line })
	return d.errs
}

func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// deref follows aliases (*anchor) to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!int":
			return "an integer"
		case "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!null":
			return "nothing"
		}
		return "a string"
	}
	return "an unsupported YAML node"
}

// A field is one known key of a mapping and the function that decodes its
// value at the given path.
type field struct {
	key    string
	decode func(n *yaml.Node, path string)
}

// mapping decodes the mapping n at path, calling each field's decode for the
// keys present. Unknown and duplicate keys are errors: a misspelt key would
// otherwise silently fall back to its default. A null value counts as absent.
func (d *decoder) mapping(n *yaml.Node, path string, fields []field) {
	n = deref(n)
	if isNull(n) || !d.visit() {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorAt(path, n.Line, "must be a mapping of keys (%s), got %s", keyList(fields), kindName(n))
		return
	}
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode {
			d.errorAt(path, n.Line, "keys must be plain names, got %s", kindName(k))
			continue
		}
		kp := join(path, k.Value)
		if k.ShortTag() == "!!merge" {
			d.errorAt(kp, k.Line, "merge keys (<<) are not supported; write the keys out")
			continue
		}
		if l, dup := first[k.Value]; dup {
			d.errorAt(kp, k.Line, "duplicate key (first set at line %d)", l)
			continue
		}
		first[k.Value] = k.Line
		var f *field
		for j := range fields {
			if fields[j].key == k.Value {
				f = &fields[j]
				break
			}
		}
		if f == nil {
			if near := nearest(k.Value, fields); near != "" {
				d.errorAt(kp, k.Line, "unknown key; did you mean %s? (expected one of: %s)", near, keyList(fields))
			} else {
				d.errorAt(kp, k.Line, "unknown key; expected one of: %s", keyList(fields))
			}
			continue
		}
		d.lines[kp] = k.Line
		if isNull(deref(v)) {
			continue
		}
		d.set[kp] = true
		f.decode(deref(v), kp)
	}
}

// nearest returns the known key closest to a misspelt one, if it is close
// enough (at most two edits, or the same letters in a different case or with
// '-' for '_') to be a likely typo.
func nearest(key string, fields []field) string {
	norm := strings.ReplaceAll(strings.ToLower(key), "-", "_")
	best, bestDist := "", 3
	for _, f := range fields {
		if f.key == norm {
			return f.key
		}
		if dist := editDistance(norm, f.key); dist < bestDist {
			best, bestDist = f.key, dist
		}
	}
	return best
}

// editDistance is the Levenshtein distance between two short keys.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func keyList(fields []field) string {
	keys := make([]string, len(fields))
	for i, f := range fields {
		keys[i] = f.key
	}
	return strings.Join(keys, ", ")
}

// sequence calls item for each element of the list n at path.
func (d *decoder) sequence(n *yaml.Node, path string, item func(n *yaml.Node, path string, i int)) {
	if n.Kind != yaml.SequenceNode {
		d.errorAt(path, n.Line, "must be a list, got %s", kindName(n))
		return
	}
	for i, c := range n.Content {
		if !d.visit() {
			return
		}
		c = deref(c)
		ip := index(path, i)
		d.lines[ip] = c.Line
		if isNull(c) {
			d.errorAt(ip, c.Line, "empty list item")
			continue
		}
		item(c, ip, i)
	}
}

// scalar returns the text of a single value. It never quotes the value in its
// error, since the value may be a secret.
func (d *decoder) scalar(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.errorAt(path, n.Line, "must be a single value, got %s", kindName(n))
		return "", false
	}
	if t := n.ShortTag(); strings.HasPrefix(t, "!") && !strings.HasPrefix(t, "!!") {
		d.errorAt(path, n.Line, "custom YAML tags are not supported")
		return "", false
	}
	return n.Value, true
}

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

// site decodes the top-level mapping.
func (d *decoder) site(root *yaml.Node) *Site {
	s := new(Site)
	d.mapping(root, "", []field{
		{"version", intField(d, &s.Version, math.MinInt32, math.MaxInt32)},
		{"site", d.str(&s.Site)},
		{"vlan", func(n *yaml.Node, p string) { d.vlan(n, p, &s.VLAN) }},
		{"vrrp", func(n *yaml.Node, p string) { d.vrrp(n, p, &s.VRRP) }},
		{"bgp", func(n *yaml.Node, p string) { d.bgp(n, p, &s.BGP) }},
		{"status", func(n *yaml.Node, p string) { d.status(n, p, &s.Status) }},
		{"syslog", func(n *yaml.Node, p string) { d.syslog(n, p, &s.Syslog) }},
		{"gateways", func(n *yaml.Node, p string) {
			d.sequence(n, p, func(n *yaml.Node, p string, _ int) {
				s.Gateways = append(s.Gateways, Gateway{})
				d.gateway(n, p, &s.Gateways[len(s.Gateways)-1])
			})
		}},
	})
	return s
}

func (d *decoder) vlan(n *yaml.Node, path string, v *VLAN) {
	d.mapping(n, path, []field{
		{"interface", d.str(&v.Interface)},
		{"prefix", d.prefixField(&v.Prefix)},
		{"virtual_ip", d.addr(&v.VirtualIP)},
		{"virtual_ips", d.addrs(&v.VirtualIPs)},
	})
}

func (d *decoder) vrrp(n *yaml.Node, path string, v *VRRP) {
	d.mapping(n, path, []field{
		{"vrid", intField(d, &v.VRID, 1, 255)},
		{"version", intField(d, &v.Version, 2, 3)},
		{"advert_interval", d.duration(&v.AdvertInterval)},
		{"auth_pass", d.secret(&v.AuthPass)},
		{"preempt", d.boolean(&v.Preempt)},
		{"preempt_delay", d.duration(&v.PreemptDelay)},
	})
}

func (d *decoder) bgp(n *yaml.Node, path string, b *BGP) {
	d.mapping(n, path, []field{
		{"asn", intField(d, &b.ASN, 1, math.MaxUint32-1)},
		{"advertise", d.prefixes(&b.Advertise)},
		{"backup_prepend", intField(d, &b.BackupPrepend, 0, 10)},
		{"accept", d.prefixes(&b.Accept)},
		{"max_prefixes", intField(d, &b.MaxPrefixes, 1, 1_000_000)},
		{"ibgp_password", d.secret(&b.IBGPPassword)},
		{"ibgp_ttl_security", d.boolean(&b.IBGPTTLSecurity)},
		{"ecmp", d.boolean(&b.ECMP)},
	})
}

func (d *decoder) status(n *yaml.Node, path string, st *Status) {
	d.mapping(n, path, []field{
		{"allow", d.prefixes(&st.Allow)},
	})
}

func (d *decoder) syslog(n *yaml.Node, path string, l *Syslog) {
	d.mapping(n, path, []field{
		{"address", d.addrPort(&l.Address, DefaultSyslogPort)},
		{"protocol", d.str(&l.Protocol)},
	})
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

func (d *decoder) gateway(n *yaml.Node, path string, g *Gateway) {
	d.mapping(n, path, []field{
		{"name", d.str(&g.Name)},
		{"priority", intField(d, &g.Priority, 1, 254)},
		{"vlan_address", d.prefixField(&g.VLANAddress)},
		{"tunnels", func(n *yaml.Node, p string) {
			d.sequence(n, p, func(n *yaml.Node, p string, _ int) {
				g.Tunnels = append(g.Tunnels, Tunnel{})
				d.tunnel(n, p, &g.Tunnels[len(g.Tunnels)-1])
			})
		}},
	})
}

func (d *decoder) tunnel(n *yaml.Node, path string, t *Tunnel) {
	d.mapping(n, path, []field{
		{"name", d.str(&t.Name)},
		{"outside_address", d.addr(&t.OutsideAddress)},
		{"inside_cidr", d.prefixField(&t.InsideCIDR)},
		{"psk", d.secret(&t.PSK)},
		{"remote_asn", intField(d, &t.RemoteASN, 1, math.MaxUint32-1)},
		{"ike_version", intField(d, &t.IKEVersion, 1, 2)},
		{"proposals", d.strings(&t.Proposals)},
		{"esp_proposals", d.strings(&t.ESPProposals)},
		{"dpd_delay", d.duration(&t.DPDDelay)},
		{"ike_lifetime", d.duration(&t.IKELifetime)},
		{"child_lifetime", d.duration(&t.ChildLifetime)},
		{"med", intField(d, &t.MED, 0, math.MaxUint32)},
	})
}
