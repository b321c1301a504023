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

// doReq is do for a call with one request and no answer but its error.
func doReq[R any](ctx context.Context, name string, f func(context.Context, R) error, r R) error {
	return do(ctx, name, func(ctx context.Context) error { return f(ctx, r) })
}

func (b bounded) SetPolicies(ctx context.Context, r *api.SetPoliciesRequest) error {
	return doReq(ctx, "set policies", b.bs.SetPolicies, r)
}

func (b bounded) ResetPeer(ctx context.Context, r *api.ResetPeerRequest) error {
	return doReq(ctx, "reset peer", b.bs.ResetPeer, r)
}

func (b bounded) EnablePeer(ctx context.Context, r *api.EnablePeerRequest) error {
	return doReq(ctx, "enable peer", b.bs.EnablePeer, r)
}

func (b bounded) DisablePeer(ctx context.Context, r *api.DisablePeerRequest) error {
	return doReq(ctx, "disable peer", b.bs.DisablePeer, r)
}

func (b bounded) AddPeer(ctx context.Context, r *api.AddPeerRequest) error {
	return doReq(ctx, "add peer", b.bs.AddPeer, r)
}

func (b bounded) DeletePeer(ctx context.Context, r *api.DeletePeerRequest) error {
	return doReq(ctx, "delete peer", b.bs.DeletePeer, r)
}

func (b bounded) AddPeerGroup(ctx context.Context, r *api.AddPeerGroupRequest) error {
	return doReq(ctx, "add peer group", b.bs.AddPeerGroup, r)
}

func (b bounded) AddDynamicNeighbor(ctx context.Context, r *api.AddDynamicNeighborRequest) error {
	return doReq(ctx, "add dynamic neighbour", b.bs.AddDynamicNeighbor, r)
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
	return doReq(ctx, "delete path", b.bs.DeletePath, r)
}

// ListPeer and ListPath collect GoBGP's answer on the call's goroutine and
// hand it to fn on the caller's only once the call has succeeded, so a
// call abandoned at its deadline never writes into the caller's state.
func (b bounded) ListPeer(ctx context.Context, r *api.ListPeerRequest, fn func(*api.Peer)) error {
	return list(ctx, "list peers", b.bs.ListPeer, r, fn)
}

func (b bounded) ListPath(ctx context.Context, r *api.ListPathRequest, fn func(*api.Destination)) error {
	return list(ctx, "list paths", b.bs.ListPath, r, fn)
}

// list is do for a List call: it collects the answer on the call's
// goroutine and hands it to fn on the caller's once the call succeeded.
func list[R, T any](ctx context.Context, name string, f func(context.Context, R, func(T)) error, r R, fn func(T)) error {
	var got []T
	err := do(ctx, name, func(ctx context.Context) error {
		return f(ctx, r, func(v T) { got = append(got, v) })
	})
	if err != nil {
		return err
	}
	for _, v := range got {
		fn(v)
	}
	return nil
}
