package configs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

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
	s := new(Site)
	d.mapping(root, "", d.site(s))
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

// A field is one known key of a mapping and its value (schema.go).
type field struct {
	key string
	value
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
