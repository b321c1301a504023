package awsimport

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// node is one XML element with the line it starts on. AWS's document is
// small and plain (no namespaces, no mixed content), so a tree with explicit
// lookups reports missing, repeated and unknown elements better than
// encoding/xml's struct mapping, which ignores the unknown and keeps the last
// of repeated elements silently.
type node struct {
	name  string
	attrs []xml.Attr
	text  string // trimmed character data
	kids  []*node
	line  int
	path  string // e.g. vpn_connection/ipsec_tunnel[2]/ike, set by checker.children
}

// errNotXML is the error of a file with no XML in it, such as the text the
// VPC console's "Download configuration" writes, which the importer does not
// read: the message says which files it does read.
var errNotXML = errors.New("no XML element found: expected AWS's customer gateway configuration (<vpn_connection ...>), " +
	"the CustomerGatewayConfiguration of aws ec2 describe-vpn-connections, or that command's JSON; " +
	"the console's \"Download configuration\" text is not read")

// parseTree reads the single root element of data.
func parseTree(data []byte) (*node, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	var (
		root     *node
		stack    []*node
		text     []*strings.Builder
		elements int
	)
	for {
		tok, err := dec.Token()
		line, _ := dec.InputPos() // the end of the token: a start tag's own line
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, notWellFormed(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space != "" {
				return nil, &Error{Line: line, Path: t.Name.Local, Msg: fmt.Sprintf("unexpected XML namespace %q: AWS's customer gateway configuration has none", t.Name.Space)}
			}
			if len(stack) >= MaxDepth {
				return nil, &Error{Line: line, Path: stack[0].name + "/.../" + t.Name.Local,
					Msg: fmt.Sprintf("elements nested more than %d deep; AWS's customer gateway configuration nests five", MaxDepth)}
			}
			if elements++; elements > MaxElements {
				return nil, &Error{Line: line, Path: t.Name.Local,
					Msg: fmt.Sprintf("more than %d elements; AWS's customer gateway configuration has about a hundred", MaxElements)}
			}
			n := &node{name: t.Name.Local, attrs: t.Attr, line: line}
			if len(stack) == 0 {
				if root != nil {
					return nil, &Error{Line: line, Path: n.name, Msg: "a second root element; expected one vpn_connection document per file"}
				}
				root, n.path = n, n.name
			} else {
				parent := stack[len(stack)-1]
				n.path = parent.path + "/" + n.name
				parent.kids = append(parent.kids, n)
			}
			stack = append(stack, n)
			text = append(text, &strings.Builder{})
		case xml.EndElement:
			n := stack[len(stack)-1]
			n.text = strings.TrimSpace(text[len(text)-1].String())
			stack, text = stack[:len(stack)-1], text[:len(text)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) > 0 {
					if root != nil {
						return nil, errors.New("text after the root element </" + root.name + ">")
					}
					return nil, errNotXML
				}
				continue
			}
			text[len(text)-1].Write(t)
		}
	}
	if root == nil {
		return nil, errNotXML
	}
	return root, nil
}

// notWellFormed reports an encoding/xml error without the document's text:
// its "invalid character entity &..." quotes what follows an &, up to 64
// name characters, which are the characters of a pre-shared key (a key
// typed with an & in it would show).
func notWellFormed(err error) error {
	var se *xml.SyntaxError
	if !errors.As(err, &se) {
		return fmt.Errorf("not well-formed XML: %w", err)
	}
	msg := se.Msg
	if strings.HasPrefix(msg, "invalid character entity") {
		msg = "an & that does not start &amp; &lt; &gt; &quot; &apos; or a character reference (what follows it is not shown: it may be a pre-shared key)"
	}
	return &Error{Line: se.Line, Msg: "not well-formed XML: " + msg}
}

// checker collects every problem found while walking a tree, so that one run
// reports them all.
type checker struct{ errs Errors }

func (c *checker) errorf(n *node, format string, args ...any) {
	c.errs = append(c.errs, &Error{Line: n.line, Path: n.path, Msg: fmt.Sprintf(format, args...)})
}

// children indexes n's child elements by name after checking that each is
// known and appears at most once. Numbered indexes (ipsec_tunnel[1]) are
// given to repeatable elements, which the caller lists in repeated.
func (c *checker) children(n *node, known []string, repeated ...string) map[string][]*node {
	out := map[string][]*node{}
	if n.text != "" {
		c.errorf(n, "unexpected text in <%s>, which holds elements", n.name)
	}
	for _, k := range n.kids {
		switch {
		case slices.Contains(repeated, k.name):
			out[k.name] = append(out[k.name], k)
			k.path = fmt.Sprintf("%s/%s[%d]", n.path, k.name, len(out[k.name]))
		case !slices.Contains(known, k.name):
			k.path = n.path + "/" + k.name
			c.errorf(k, "unknown element <%s> in <%s> (expected %s): not AWS's customer gateway configuration, or a newer version of it than this importer knows", k.name, n.name, strings.Join(append(append([]string(nil), known...), repeated...), ", "))
		case len(out[k.name]) > 0:
			k.path = n.path + "/" + k.name
			c.errorf(k, "<%s> appears more than once in <%s>", k.name, n.name)
		default:
			k.path = n.path + "/" + k.name
			out[k.name] = append(out[k.name], k)
		}
	}
	return out
}

// one returns the single child called name, reporting it when it is missing.
func (c *checker) one(parent *node, kids map[string][]*node, name string) *node {
	if ns := kids[name]; len(ns) > 0 {
		return ns[0]
	}
	c.errs = append(c.errs, &Error{Line: parent.line, Path: parent.path + "/" + name, Msg: fmt.Sprintf("missing: <%s> needs a <%s> element", parent.name, name)})
	return nil
}

// optional returns the child called name or nil.
func optional(kids map[string][]*node, name string) *node {
	if ns := kids[name]; len(ns) > 0 {
		return ns[0]
	}
	return nil
}

// leaf checks that n holds text only.
func (c *checker) leaf(n *node) bool {
	if n == nil {
		return false
	}
	if len(n.kids) > 0 {
		c.errorf(n.kids[0], "unexpected element inside <%s>, which holds a value", n.name)
		return false
	}
	return true
}
