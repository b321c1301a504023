package configs

import (
	"fmt"
	"strings"
)

// An Error is one problem found in a site configuration.
type Error struct {
	// File is the file the configuration came from, when it came from Load.
	File string
	// Path names the key, e.g. "gateways[1].tunnels[0].psk". Empty for problems
	// with the document as a whole (YAML syntax, empty user data).
	Path string
	// Line is the 1-based line of the key in the document, or 0 when unknown
	// (for instance a required key missing from the top level).
	Line int
	// Msg says what is wrong and, where it helps, what would be right. It never
	// contains a secret.
	Msg string
}

// Error formats e as "file:line: path: msg", leaving out the parts it lacks.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		fmt.Fprintf(&b, "%s: ", e.File)
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors lists every problem found in a site configuration, in document order.
// Parse and Load return it (as a value) so that an operator sees all the
// mistakes at once rather than fixing them one reboot at a time.
type Errors []*Error

// Error returns one line per problem.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find the individual *Error values.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// As lets errors.As fill a *Errors target as well as an Errors one, since
// both spellings are natural for a slice type.
func (es Errors) As(target any) bool {
	if p, ok := target.(**Errors); ok {
		*p = &es
		return true
	}
	return false
}
