package bgp

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/server"
)

// TestCallDeadline: a call GoBGP does not answer returns ErrTimeout at
// the context's deadline, named after its request; one it answers returns
// the answer's error.
func TestCallDeadline(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	stuck := func(*server.BgpServer, context.Context, *api.ResetPeerRequest) error {
		<-hang
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := call(ctx, &bounded{}, stuck, &api.ResetPeerRequest{})
	if !errors.Is(err, ErrTimeout) || !strings.HasPrefix(err.Error(), "ResetPeer: ") {
		t.Errorf("stuck call: %v, want ResetPeer: ... ErrTimeout", err)
	}

	bad := errors.New("refused")
	answers := func(*server.BgpServer, context.Context, *api.AddPeerRequest) error { return bad }
	if err := call(context.Background(), &bounded{}, answers, &api.AddPeerRequest{}); err != bad {
		t.Errorf("answered call: %v, want %v", err, bad)
	}
}
