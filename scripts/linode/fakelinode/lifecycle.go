package fakelinode

import (
	"fmt"
)

// Hook errors leave an instance in these states, which a client waiting
// for the action's end never sees turn into the one it waits for.
const (
	// StatusShutdownFailed is where an instance stays when OnShutdown
	// fails: still running, as a machine that ignored the power button.
	StatusShutdownFailed = "running"
	// StatusBootFailed is where an instance ends when OnBoot fails:
	// offline, as after a boot job that failed.
	StatusBootFailed = "offline"
)

// A phase is one transitional state of an action (a shutdown, a rebuild,
// a boot). A phase without a hook ends at the next GET of the instance, as
// the fake always did: the real API moves on while it is polled. A phase
// with a hook ends when the hook returns.
type phase struct {
	status string
	hook   string // "OnShutdown", "OnBoot" or "" (none)
}

// shutdownPhase and bootPhase name their hook only when the Server has it,
// so that without hooks every action behaves as before hooks existed.
func (s *Server) shutdownPhase(status string) phase {
	p := phase{status: status}
	if s.onShutdown != nil {
		p.hook = "OnShutdown"
	}
	return p
}

func (s *Server) bootPhase() phase {
	p := phase{status: "booting"}
	if s.onBoot != nil {
		p.hook = "OnBoot"
	}
	return p
}

// begin starts an action on the instance: it passes through phases and
// settles in target. Called with s.mu held.
func (s *Server) begin(in *instance, target string, phases ...phase) {
	in.phases, in.target = phases, target
	s.step(in)
}

// busy reports whether an action is under way: the API then refuses others
// with "Linode busy.".
func (in *instance) busy() bool { return len(in.phases) > 0 }

// settle ends the leading phases that have no hook, on a GET of the
// instance. Called with s.mu held.
func (s *Server) settle(in *instance) {
	if in.hookRunning {
		return
	}
	for len(in.phases) > 0 && in.phases[0].hook == "" {
		in.phases = in.phases[1:]
	}
	s.step(in)
}

// step shows the current phase's status (or the target once none is left)
// and starts the current phase's hook. Called with s.mu held.
func (s *Server) step(in *instance) {
	if len(in.phases) == 0 {
		in.Status = in.target
		return
	}
	p := in.phases[0]
	in.Status = p.status
	if p.hook == "" || in.hookRunning || s.closed {
		return
	}
	in.hookRunning = true
	label, img := in.Label, in.Image
	ud := in.UserData // replaced, never changed in place
	s.calls = append(s.calls, p.hook+" "+label)
	s.hooks.Add(1)
	go func() {
		defer s.hooks.Done()
		s.logf("fakelinode: %s %s: %s", p.hook, label, p.status)
		var err error
		switch p.hook {
		case "OnShutdown":
			err = s.onShutdown(label)
		case "OnBoot":
			err = s.onBoot(label, img, ud)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		in.hookRunning = false
		if err != nil {
			failed := StatusShutdownFailed
			if p.hook == "OnBoot" {
				failed = StatusBootFailed
			}
			s.calls = append(s.calls, fmt.Sprintf("%s %s failed: %v", p.hook, label, err))
			s.logf("fakelinode: %s %s failed, the instance is %s: %v", p.hook, label, failed, err)
			in.phases, in.target = nil, failed
			s.step(in)
			return
		}
		in.phases = in.phases[1:]
		s.step(in)
	}()
}
