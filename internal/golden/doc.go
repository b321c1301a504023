// Package golden compares what a test produced with a file kept in the
// package's testdata directory, and rewrites that file instead when the test
// binary runs with -update:
//
//	go test ./services/status -run TestRender -update
//
// A test that imports it gets the -update flag; it must not define its own.
package golden
