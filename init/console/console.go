// Package console has what the appliance's console shows about the
// machine itself: the time since the kernel booted. Its logging is in
// internal/consolelog.
package console

import "time"

// Uptime is the time since the kernel booted (CLOCK_BOOTTIME), which is what
// "time to configured" means on an appliance; zero when unavailable.
func Uptime() time.Duration { return uptime() }
