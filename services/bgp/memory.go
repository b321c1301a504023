package bgp

// MemoryLimit is the soft memory limit, in bytes, that the gateway process
// should set for the Go runtime (runtime/debug.SetMemoryLimit at start,
// before the services run; GOMEMLIMIT=128MiB in its environment does the
// same). It is the gateway's to set, because the limit is process-wide.
//
// Why: GoBGP hands every best path to the speaker in its protobuf API form,
// so learning a table allocates several times the table's size, and while
// the table is being learned GoBGP's own queues hold part of it twice.
// With the runtime's default GOGC=100 alone the heap may grow to twice
// what was live at the last collection, and the process keeps those pages
// for minutes after: at 100k prefixes the live heap ends at about 51 MiB
// but the RSS peaks near 190 MiB and is still about 175 MiB once the routes
// are in, more than FRR's bgpd and zebra together (about 170 MiB). With
// this limit the collector works harder only when the heap nears it and
// returns freed pages to the system sooner: the RSS stays near 140 MiB at
// 100k, with about 15% more CPU time and convergence still faster than
// FRR's (see README.md). Below a few 10k prefixes, and AWS sends a VPN
// only its VPC's prefixes, the heap never nears the limit and nothing
// changes.
//
// It is a soft limit: a larger live heap (a table of several 100k
// prefixes) is not refused, the collector then just runs more often, at
// most half of the CPU by the runtime's own bound.
const MemoryLimit = 128 << 20
