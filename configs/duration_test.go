package configs

import (
	"testing"
	"time"
)

func TestFormatDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{8 * time.Hour, "8h"},
		{90 * time.Minute, "90m"},
		{15 * time.Minute, "15m"},
		{3600 * time.Second, "1h"},
		{10 * time.Second, "10s"},
		{100 * time.Millisecond, "100ms"},
		{1500 * time.Millisecond, "1.5s"},
	} {
		got := FormatDuration(tc.d)
		if got != tc.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
		// What it prints, the schema parses back.
		if back, err := time.ParseDuration(got); err != nil || back != tc.d {
			t.Errorf("%q parses back as %v, %v; want %v", got, back, err, tc.d)
		}
	}
}
