package ipsec

import (
	"context"

	"github.com/strongswan/govici/vici"
)

// A lister runs VICI commands that answer with a stream of events
// (list-sas, list-conns) on a session of its own.
//
// govici v0.8.0's CallStreaming can end before the last events arrive: its
// wait selects at random between the event and the response channels, so
// when the final event and the command's response are both queued, the
// response may win and the event is lost. A list-sas missing an IKE_SA
// would take a healthy tunnel down. Instead the lister subscribes to the
// event like any other and makes a plain Call: the session's reader
// dispatches each event to subscribers before it reads the next packet, so
// when the response has arrived every event is already in the channel.
type lister struct {
	sess *vici.Session
	ch   chan vici.Event
}

// listEvents are the events of the streamed commands the service runs.
var listEvents = []string{"list-sa", "list-conn"}

func newLister(ctx context.Context, socket string) (*lister, error) {
	sess, err := newSession(socket)
	if err != nil {
		return nil, errCharon{err}
	}
	// Large enough for every SA of four tunnels many times over: govici
	// drops events it cannot queue.
	l := &lister{sess: sess, ch: make(chan vici.Event, 1024)}
	sess.NotifyEvents(l.ch)
	if err := subscribe(ctx, sess, listEvents...); err != nil {
		sess.Close()
		return nil, err
	}
	return l, nil
}

func (l *lister) Close() error { return l.sess.Close() }

// list runs cmd and returns the event messages it streamed.
func (l *lister) list(ctx context.Context, cmd, event string, in *vici.Message) ([]*vici.Message, error) {
	l.drain(event)
	if _, err := call(ctx, l.sess, cmd, in); err != nil {
		return nil, err
	}
	return l.drain(event), nil
}

// drain takes every queued event of the given name.
func (l *lister) drain(event string) []*vici.Message {
	var out []*vici.Message
	for {
		select {
		case e, ok := <-l.ch:
			if !ok {
				return out
			}
			if e.Name == event {
				out = append(out, e.Message)
			}
		default:
			return out
		}
	}
}
