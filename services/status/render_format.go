package status

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// The cells and tables the Write functions print: aligned columns, and
// times, durations, sizes and counters in FRR's and VyOS's spellings.

// counts prints a map of counters as "name n, name n" in name order,
// leaving out the zeros: "" when all are.
func counts[N int | uint64](m map[string]N) string {
	var out []string
	for _, k := range sortedKeys(m) {
		if m[k] != 0 {
			out = append(out, fmt.Sprintf("%s %d", k, m[k]))
		}
	}
	return strings.Join(out, ", ")
}

// tbl is a table of aligned columns, two spaces apart, whose lines never
// end in spaces (a column left empty at the end of a row would leave them).
type tbl struct {
	w   io.Writer
	buf bytes.Buffer
	tw  *tabwriter.Writer
}

func table(w io.Writer) *tbl {
	t := &tbl{w: w}
	t.tw = tabwriter.NewWriter(&t.buf, 0, 8, 2, ' ', 0)
	return t
}

func row(t *tbl, cells ...string) {
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

// Flush writes the table.
func (t *tbl) Flush() error {
	if err := t.tw.Flush(); err != nil {
		return err
	}
	var out strings.Builder
	for line := range strings.Lines(t.buf.String()) {
		out.WriteString(strings.TrimRight(line, " \n"))
		out.WriteByte('\n')
	}
	t.buf.Reset()
	_, err := io.WriteString(t.w, out.String())
	return err
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

func join(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, ", ")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// uptime prints seconds as FRR prints a peer's up/down time: hh:mm:ss under
// a day, 1d02h03m under a week, 02w3d04h beyond.
func uptime(secs float64) string {
	d := time.Duration(secs) * time.Second
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	const day, week = 86400, 7 * 86400
	switch {
	case s < day:
		return fmt.Sprintf("%02d:%02d:%02d", s/3600, s%3600/60, s%60)
	case s < week:
		return fmt.Sprintf("%dd%02dh%02dm", s/day, s%day/3600, s%3600/60)
	}
	return fmt.Sprintf("%02dw%dd%02dh", s/week, s%week/day, s%day/3600)
}

// span prints a short wait, to the second: "25s", "2m05s", "1h02m".
func span(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
}

// ago is the time from then to now, as uptime prints it.
func ago(now, then time.Time) string { return uptime(now.Sub(then).Seconds()) }

// clock prints a past time as the clock time (UTC, as the console logs) and
// how long ago: "20:01:02 UTC, 00:12:00 ago".
func clock(now, then time.Time) string {
	layout := "15:04:05"
	if now.Sub(then) >= 24*time.Hour {
		layout = "2006-01-02 15:04"
	}
	return then.UTC().Format(layout) + " UTC, " + ago(now, then) + " ago"
}

// size prints a byte count in 1024 steps with one decimal, as VyOS does.
func size(n uint64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return fmt.Sprintf("%dB", n)
	}
	f, i := float64(n)/1024, 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	return fmt.Sprintf("%.1f%c", f, units[i])
}
