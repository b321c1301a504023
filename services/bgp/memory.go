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
// but the RSS peaks between 180 and 200 MiB and stays there once the
// routes are in, more than FRR's bgpd and zebra together (about 170 MiB).
// With this limit the collector works harder only when the heap nears it
// and returns freed pages to the system sooner: at 100k the RSS peaks at
// 138 MiB and is 133 MiB after convergence, for 10 to 15% more CPU time,
// and convergence stays faster than FRR's (see README.md). Below a few 10k
// prefixes (AWS sends a VPN connection only its VPC's prefixes) the heap
// never nears the limit and nothing changes.
//
// It is a soft limit: a larger live heap (a table of several 100k
// prefixes) is not refused, the collector then just runs more often, at
// most half of the CPU by the runtime's own bound.
const MemoryLimit = 128 << 20
