//go:build race

package gateway

// raceEnabled: the test runs with -race, so the tidegate it builds does too.
const raceEnabled = true
