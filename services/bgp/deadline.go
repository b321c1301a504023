package bgp

import (
	"context"
	"errors"
	"fmt"
	"time"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/server"
)

// callTimeout bounds every management call into GoBGP made after start.
//
// GoBGP's management calls queue an operation for its main loop and wait
// for the answer without looking at their context. A GoBGP stuck on
// something (a bug, a peer's socket) would then hang whoever called: the
// gateway's event loop, with s.mu held, and with it every later call. A
// call that has not answered by its deadline returns ErrTimeout instead;
// the operation may still complete later in GoBGP's own time.
const callTimeout = 10 * time.Second

// ErrTimeout is returned by a GoBGP call that did not answer in time.
var ErrTimeout = errors.New("bgp: gobgp did not answer in time")

// bounded is a BgpServer whose management calls carry a deadline: the
// context's, or callTimeout when it has none. List calls hand their
// results to their callbacks only after the call succeeded (see ListPeer).
type bounded struct{ bs *server.BgpServer }

// do runs f and waits for it until ctx's deadline (or callTimeout).
func do(ctx context.Context, name string, f func(context.Context) error) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, callTimeout)
		defer cancel()
	}
	done := make(chan error, 1)
	go func() { done <- f(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("%s: %w (%w)", name, ErrTimeout, ctx.Err())
	}
}

func (b bounded) SetPolicies(ctx context.Context, r *api.SetPoliciesRequest) error {
	return do(ctx, "set policies", func(ctx context.Context) error { return b.bs.SetPolicies(ctx, r) })
}

func (b bounded) ResetPeer(ctx context.Context, r *api.ResetPeerRequest) error {
	return do(ctx, "reset peer", func(ctx context.Context) error { return b.bs.ResetPeer(ctx, r) })
}

func (b bounded) EnablePeer(ctx context.Context, r *api.EnablePeerRequest) error {
	return do(ctx, "enable peer", func(ctx context.Context) error { return b.bs.EnablePeer(ctx, r) })
}

func (b bounded) DisablePeer(ctx context.Context, r *api.DisablePeerRequest) error {
	return do(ctx, "disable peer", func(ctx context.Context) error { return b.bs.DisablePeer(ctx, r) })
}

func (b bounded) AddPeer(ctx context.Context, r *api.AddPeerRequest) error {
	return do(ctx, "add peer", func(ctx context.Context) error { return b.bs.AddPeer(ctx, r) })
}

func (b bounded) DeletePeer(ctx context.Context, r *api.DeletePeerRequest) error {
	return do(ctx, "delete peer", func(ctx context.Context) error { return b.bs.DeletePeer(ctx, r) })
}

func (b bounded) AddPeerGroup(ctx context.Context, r *api.AddPeerGroupRequest) error {
	return do(ctx, "add peer group", func(ctx context.Context) error { return b.bs.AddPeerGroup(ctx, r) })
}

func (b bounded) AddDynamicNeighbor(ctx context.Context, r *api.AddDynamicNeighborRequest) error {
	return do(ctx, "add dynamic neighbour", func(ctx context.Context) error { return b.bs.AddDynamicNeighbor(ctx, r) })
}

func (b bounded) AddPath(ctx context.Context, r *api.AddPathRequest) (*api.AddPathResponse, error) {
	var resp *api.AddPathResponse
	err := do(ctx, "add path", func(ctx context.Context) (err error) {
		resp, err = b.bs.AddPath(ctx, r)
		return err
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

func (b bounded) DeletePath(ctx context.Context, r *api.DeletePathRequest) error {
	return do(ctx, "delete path", func(ctx context.Context) error { return b.bs.DeletePath(ctx, r) })
}

// ListPeer and ListPath collect GoBGP's answer on the call's goroutine and
// hand it to fn on the caller's only once the call has succeeded, so a
// call abandoned at its deadline never writes into the caller's state.
func (b bounded) ListPeer(ctx context.Context, r *api.ListPeerRequest, fn func(*api.Peer)) error {
	var got []*api.Peer
	err := do(ctx, "list peers", func(ctx context.Context) error {
		return b.bs.ListPeer(ctx, r, func(p *api.Peer) { got = append(got, p) })
	})
	if err != nil {
		return err
	}
	for _, p := range got {
		fn(p)
	}
	return nil
}

func (b bounded) ListPath(ctx context.Context, r *api.ListPathRequest, fn func(*api.Destination)) error {
	var got []*api.Destination
	err := do(ctx, "list paths", func(ctx context.Context) error {
		return b.bs.ListPath(ctx, r, func(d *api.Destination) { got = append(got, d) })
	})
	if err != nil {
		return err
	}
	for _, d := range got {
		fn(d)
	}
	return nil
}
