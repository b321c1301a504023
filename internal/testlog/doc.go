// Package testlog is where tests send logs: a Buffer that goroutines
// write while the test reads it, and a Writer (or a slog.Logger on one)
// that shows each write in the test's own log and keeps everything for
// assertions, such as that a secret never appears.
//
// Only tests import it.
package testlog
