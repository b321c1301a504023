package vrrp

import (
	"net/netip"
	"time"
)

// State is a VRRP router state (RFC 5798 §6.4; RFC 9568 calls Master
// "Active").
type State int

// The three RFC states.
const (
	StateInitialize State = iota
	StateBackup
	StateMaster
)

func (s State) String() string {
	switch s {
	case StateInitialize:
		return "initialize"
	case StateBackup:
		return "backup"
	case StateMaster:
		return "master"
	}
	return "unknown"
}

// Reason says why a router changed state. The reasons for becoming master
// are distinct on purpose: a peer that went silent (ReasonMasterDown) calls
// for a different reaction than a peer that handed over (ReasonPriorityZero)
// or one that was outranked (ReasonPreempt).
type Reason string

// Reasons carried in StateChange.
const (
	ReasonStartup        Reason = "startup"                // Initialize -> Backup
	ReasonOwner          Reason = "address owner"          // Initialize -> Master at priority 255
	ReasonMasterDown     Reason = "master-down timer"      // Backup -> Master: the master went silent
	ReasonPriorityZero   Reason = "priority 0 received"    // Backup -> Master: the master resigned
	ReasonPreempt        Reason = "preempt"                // Backup -> Master: we outrank the master
	ReasonHigherPriority Reason = "higher priority advert" // Master -> Backup
	ReasonResigned       Reason = "resigned"               // -> Initialize after our planned handover
	ReasonShutdown       Reason = "shutdown"               // -> Initialize: RFC Shutdown event
	ReasonStopped        Reason = "stopped"                // -> Initialize: Run ended without resigning (crash-like)
)

// StateChange is published on every transition.
type StateChange struct {
	From, State State
	Reason      Reason
	// Peer is the router whose advert caused the change (or the last master
	// heard from, for a master-down timer), if any.
	Peer netip.Addr
	Time time.Time
}
