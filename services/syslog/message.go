package syslog

import (
	"strconv"
	"strings"
	"time"

	"github.com/tidegate/tidegate/internal/consolelog"
)

// RFC 5424's values this package uses.
const (
	// facilityDaemon is the facility of every message: system daemons.
	facilityDaemon = 3
	// Severities (RFC 5424 section 6.2.1) for slog's levels.
	sevErr     = 3
	sevWarning = 4
	sevNotice  = 5
	sevInfo    = 6
	sevDebug   = 7
	// maxSequenceID is where meta sequenceId wraps back to 1 (section 7.3.1).
	maxSequenceID = 2147483647
	// nilValue stands for an unknown header field.
	nilValue = "-"
)

// MaxLine is the longest line sent whole; a longer one is cut and marked.
// With the header (at most about 200 octets: a 64-character Linode label,
// a 32-character msgid) a message stays within the 2048 octets RFC 5426
// asks every receiver to accept.
const MaxLine = 1800

// A message is one line on its way: what Write saw, and its number.
type message struct {
	seq  uint32
	line string    // as logged, cut to MaxLine, without its newline
	at   time.Time // when Write got it, for a line without a time of its own
}

// header is what every message of a Sender says the same way.
type header struct {
	hostname, appName, procID string
}

// format appends m as an RFC 5424 message (without framing) to b.
func (h header) format(b []byte, m message) []byte {
	at, rest := m.at, m.line
	if v, after, ok := strings.Cut(rest, " "); ok && strings.HasPrefix(v, "time=") {
		if t, err := time.Parse(time.RFC3339Nano, v[len("time="):]); err == nil {
			at, rest = t, after
		}
	}
	b = append(b, '<')
	b = strconv.AppendInt(b, facilityDaemon*8+int64(severity(attr(rest, "level", false))), 10)
	b = append(b, ">1 "...)
	b = at.UTC().AppendFormat(b, consolelog.TimeFormat)
	b = append(b, ' ')
	b = append(b, h.hostname...)
	b = append(b, ' ')
	b = append(b, h.appName...)
	b = append(b, ' ')
	b = append(b, h.procID...)
	b = append(b, ' ')
	// The last svc is the most specific: a logger With svc=gateway may
	// make one With svc=status.
	b = append(b, headerField(attr(rest, "svc", true), 32)...)
	b = append(b, ` [meta sequenceId="`...)
	b = strconv.AppendUint(b, uint64(m.seq), 10)
	b = append(b, `"] `...)
	return append(b, rest...)
}

// severity maps slog's level names, with their offsets ("WARN+2"), to
// syslog severities.
func severity(level string) int {
	switch {
	case strings.HasPrefix(level, "ERROR"):
		return sevErr
	case strings.HasPrefix(level, "WARN"):
		return sevWarning
	case strings.HasPrefix(level, "INFO"):
		return sevInfo
	case strings.HasPrefix(level, "DEBUG"):
		return sevDebug
	}
	return sevNotice // not one of slog's: say it, but not as an error
}

// headerField makes s a header field: printable US-ASCII without spaces
// (others become '_'), at most max octets, "-" when empty.
func headerField(s string, max int) string {
	if s == "" {
		return nilValue
	}
	b := []byte(s[:min(len(s), max)])
	for i, c := range b {
		if c < 33 || c > 126 {
			b[i] = '_'
		}
	}
	return string(b)
}

// attr returns the value of the first (or the last) key=value pair called
// key in a logfmt line, unquoted; "" when there is none. Quoted values may
// hold spaces and escaped quotes, as slog writes them.
func attr(line, key string, last bool) string {
	found := ""
	for line != "" {
		line = strings.TrimLeft(line, " ")
		end := 0
		for end < len(line) && line[end] != ' ' {
			if line[end] == '"' {
				end = closingQuote(line, end)
			} else {
				end++
			}
		}
		k, v, ok := strings.Cut(line[:end], "=")
		if ok && k == key {
			found = v
			if u, err := strconv.Unquote(v); err == nil {
				found = u
			}
			if !last {
				return found
			}
		}
		line = line[end:]
	}
	return found
}

// closingQuote returns the index after the quote that closes the one at
// s[open], or len(s) when it is not closed.
func closingQuote(s string, open int) int {
	for i := open + 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(s)
}
