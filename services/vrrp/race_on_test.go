//go:build race

package vrrp_test

// raceEnabled makes TestMain build vrrpd with the race detector too.
const raceEnabled = true
