// Package promql finds the metric names a PromQL expression selects, for
// the tests that keep tidegate's alert rules (configs/prometheus) and
// dashboard (configs/grafana) in step with the metrics the status API
// serves: a renamed metric must break them, not leave a panel empty or an
// alert that can never fire.
//
// It is a scanner, not a parser: it skips string literals, label matchers
// ({...}), ranges and subqueries ([...]), numbers and durations, Grafana's
// $variables, the lists of by, without, on, ignoring, group_left and
// group_right, and keywords and function names (an identifier followed by
// "("); every other identifier is a metric name. That is enough for
// expressions that promtool has already checked, and needs none of
// Prometheus's own modules.
package promql

import (
	"fmt"
	"slices"
	"strings"
)

// keywords are PromQL's operators, aggregations and modifiers that are
// written as identifiers and may stand without a "(" right after them
// ("sum by (x) (...)", "a and b", "x offset 5m").
var keywords = map[string]bool{
	"and": true, "or": true, "unless": true, "bool": true, "offset": true, "atan2": true,
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
	"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true,
	"inf": true, "nan": true, "start": true, "end": true,
}

// grouping are the keywords whose parenthesised list holds label names.
var grouping = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
}

// Metrics returns the metric names expr selects, sorted and without
// duplicates, or an error for a string, brace or bracket left open.
func Metrics(expr string) ([]string, error) {
	var names []string
	s := expr
	for len(s) > 0 {
		c := s[0]
		switch {
		case c == '"' || c == '\'' || c == '`':
			n, err := skipString(s)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", expr, err)
			}
			s = s[n:]
		case c == '{' || c == '[':
			n, err := skipGroup(s)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", expr, err)
			}
			s = s[n:]
		case c == '#':
			// A comment runs to the end of the line.
			if i := strings.IndexByte(s, '\n'); i >= 0 {
				s = s[i:]
			} else {
				s = ""
			}
		case c == '$':
			// A Grafana variable: $name, ${name} or [[name]].
			s = s[1:]
			if strings.HasPrefix(s, "{") {
				n, err := skipGroup(s)
				if err != nil {
					return nil, fmt.Errorf("%q: %w", expr, err)
				}
				s = s[n:]
			} else {
				s = s[identLen(s):]
			}
		case isDigit(c) || c == '.' && len(s) > 1 && isDigit(s[1]):
			// A number or a duration (5m, 1h30m, 0x1f, 1e3).
			n := 1
			for n < len(s) && (isIdent(s[n]) || s[n] == '.') {
				n++
			}
			s = s[n:]
		case isIdentStart(c):
			n := identLen(s)
			word := s[:n]
			s = s[n:]
			rest := strings.TrimLeft(s, " \t\r\n")
			switch {
			case grouping[strings.ToLower(word)] && strings.HasPrefix(rest, "("):
				end := strings.IndexByte(rest, ')')
				if end < 0 {
					return nil, fmt.Errorf("%q: %s ( left open", expr, word)
				}
				s = rest[end+1:]
			case keywords[strings.ToLower(word)], strings.HasPrefix(rest, "("):
				// An operator, or a function or aggregation called.
			default:
				names = append(names, word)
			}
		default:
			s = s[1:]
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// Check returns what is wrong with expr as a query of the metrics served:
// it does not scan, it selects no metric, or it selects one served lacks.
func Check(expr string, served []string) []error {
	names, err := Metrics(expr)
	if err != nil {
		return []error{err}
	}
	if len(names) == 0 {
		return []error{fmt.Errorf("selects no metric: %s", expr)}
	}
	var errs []error
	for _, n := range names {
		if !slices.Contains(served, n) {
			errs = append(errs, fmt.Errorf("selects %s, which is not served", n))
		}
	}
	return errs
}

// skipString returns the length of the string literal s begins with.
func skipString(s string) (int, error) {
	q := s[0]
	for i := 1; i < len(s); i++ {
		switch {
		case s[i] == '\\' && q != '`':
			i++
		case s[i] == q:
			return i + 1, nil
		}
	}
	return 0, fmt.Errorf("string %s left open", s)
}

// skipGroup returns the length of the {...} or [...] s begins with,
// strings and nested groups included.
func skipGroup(s string) (int, error) {
	closer := map[byte]byte{'{': '}', '[': ']'}
	var stack []byte
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\'' || c == '`':
			n, err := skipString(s[i:])
			if err != nil {
				return 0, err
			}
			i += n - 1
		case c == '{' || c == '[':
			stack = append(stack, closer[c])
		case c == '}' || c == ']':
			if len(stack) == 0 || stack[len(stack)-1] != c {
				return 0, fmt.Errorf("unbalanced %c", c)
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return i + 1, nil
			}
		}
	}
	return 0, fmt.Errorf("%c left open", s[0])
}

func identLen(s string) int {
	n := 0
	for n < len(s) && (isIdent(s[n]) || s[n] == ':') {
		n++
	}
	return n
}

func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
func isIdent(c byte) bool { return isIdentStart(c) || isDigit(c) }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
