// Package netnstest is the test toolkit for tests that run across Linux
// network namespaces: a Lab of named namespaces joined by veth pairs and
// removed when the test ends, a function that runs code on a thread inside
// one, commands run there, background processes (Start: a daemon for the
// length of a test, its output in a file, killed by pid at the end), and
// sockets that listen and dial there to tell whether a packet or a
// connection got through.
//
// A namespace is named by a string, as `ip netns` knows it
// (/run/netns/NAME), so that a test can hand it to `ip -n`, to
// `ip netns exec`, or to the code under test. A Lab names its namespaces
// tg<pkg>-<pid>-<n>-<name>: test binaries that run in parallel, and
// labs within one binary, never share one.
//
// Creating namespaces needs root: NewLab and NeedRoot skip the test
// otherwise. Everything a Lab makes is undone in t.Cleanup: the processes
// still running in its namespaces are killed by pid (only the test's own
// can be there) and the namespaces deleted.
//
// Only tests, and the QEMU lab (a test harness that also runs as a
// command), import it: most of it fails the test on error.
package netnstest
