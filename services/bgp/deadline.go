package bgp

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
// context's, or callTimeout when it has none. Calls go through call; List
// calls hand their results to their callbacks only after the call
// succeeded (see ListPeer).
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

// call runs one of GoBGP's management calls whose only answer is an
// error, f, given as a method expression ((*server.BgpServer).ResetPeer),
// with request r, bounded as do bounds it. Every such call goes through
// here rather than through a wrapper method each; the timeout error names
// the call after its request's type ("ResetPeer").
func call[R any](ctx context.Context, b *bounded, f func(*server.BgpServer, context.Context, R) error, r R) error {
	name := fmt.Sprintf("%T", r)
	name = strings.TrimSuffix(name[strings.LastIndexByte(name, '.')+1:], "Request")
	return do(ctx, name, func(ctx context.Context) error { return f(b.bs, ctx, r) })
}

// addPath is (*server.BgpServer).AddPath for call: nobody uses its answer
// (the path's UUID).
func addPath(bs *server.BgpServer, ctx context.Context, r *api.AddPathRequest) error {
	_, err := bs.AddPath(ctx, r)
	return err
}

// ListPeer and ListPath collect GoBGP's answer on the call's goroutine and
// hand it to fn on the caller's only once the call has succeeded, so a
// call abandoned at its deadline never writes into the caller's state.
func (b *bounded) ListPeer(ctx context.Context, r *api.ListPeerRequest, fn func(*api.Peer)) error {
	return list(ctx, "list peers", b.bs.ListPeer, r, fn)
}

func (b *bounded) ListPath(ctx context.Context, r *api.ListPathRequest, fn func(*api.Destination)) error {
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
