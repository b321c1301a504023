// Package deathsig starts child processes that the kernel kills when this
// process dies, so that a test binary killed by its timeout, or a lab
// stopped with Ctrl-C, leaves no QEMU, dnsmasq or routing daemon behind.
//
// Linux does this with the parent-death signal (Pdeathsig), but "parent"
// there is the thread that forked the child, not the process: the child is
// signalled when that thread exits. The Go runtime ends a thread when a
// goroutine locked to it returns without unlocking, which namespace code
// does on purpose (a thread left in another network namespace must not go
// back to the pool: the ipsec service's inNetNS, netlink handles). A child
// forked from an ordinary goroutine may be on such a thread later, and
// then dies at a random moment: the ipsec tests' AWS peer did, mid-test.
//
// Start forks every child from one thread that lives as long as the
// process, so the signal means what it says. A child that must inherit a
// thread's namespaces (the gateway's charon) cannot come from that
// thread; it is forked from a locked thread of its own that waits for it
// (services/ipsec, startCharon).
package deathsig
