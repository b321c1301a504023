package configs

import (
	"fmt"
	"time"
)

// FormatDuration prints a duration the way the site schema and an operator
// write it ("8h", "15m", "10s", "100ms"), rather than time.Duration's
// "8h0m0s": what the configuration parses back to the same value.
func FormatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return d.String()
}
