package awsimport

import (
	"fmt"
	"strings"
)

// An Error is one problem found in AWS's customer gateway configuration.
type Error struct {
	File string // the file it came from, when known
	Line int    // 1-based line of the element, 0 when unknown
	// Path names the element, e.g. "vpn_connection/ipsec_tunnel[2]/ike/pre_shared_key".
	Path string
	Msg  string // never contains a pre-shared key
}

// Error formats e as "file:line: path: msg", leaving out the parts it lacks.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(":")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:", e.Line)
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors lists every problem found, in document order.
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

// inFile sets File on every error of err that has none.
func inFile(err error, file string) error {
	switch e := err.(type) {
	case Errors:
		for _, x := range e {
			if x.File == "" {
				x.File = file
			}
		}
	case *Error:
		if e.File == "" {
			e.File = file
		}
	default:
		return fmt.Errorf("%s: %w", file, err)
	}
	return err
}
