package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"golang.org/x/sync/errgroup"
)

// A supervisor runs the services, each under a context of its own so that
// the caller stops them one by one in the order the handover needs;
// cancelling one shared context would stop VRRP crash-like, without the
// handover. A service that returns an error, or returns at all before it
// is stopped, has failed.
type supervisor struct {
	log    *slog.Logger
	base   context.Context
	eg     *errgroup.Group
	failed context.Context // done once a service has failed (or wait returned)
	stops  map[string]func()
}

// newSupervisor starts nothing yet. The services' contexts carry ctx's
// values, not its cancellation.
func newSupervisor(ctx context.Context, log *slog.Logger) *supervisor {
	eg, failed := errgroup.WithContext(context.Background())
	return &supervisor{
		log:    log,
		base:   context.WithoutCancel(ctx),
		eg:     eg,
		failed: failed,
		stops:  map[string]func(){},
	}
}

// start runs the service name.
func (s *supervisor) start(name string, run func(context.Context) error) {
	ctx, cancel := context.WithCancel(s.base)
	done := make(chan struct{})
	s.stops[name] = func() { cancel(); <-done }
	s.eg.Go(func() error {
		defer close(done)
		err := run(ctx)
		if err == nil && ctx.Err() == nil {
			err = errors.New("stopped on its own")
		}
		if err == nil {
			s.log.Info("service stopped", "service", name)
			return nil
		}
		if !strings.HasPrefix(err.Error(), name+":") {
			err = fmt.Errorf("%s: %w", name, err)
		}
		s.log.Error("service failed", "service", name, "err", err)
		return err
	})
}

// Failed is closed once a service has failed, and after wait.
func (s *supervisor) Failed() <-chan struct{} { return s.failed.Done() }

// stop stops the service name, if it was started, and waits for it.
func (s *supervisor) stop(name string) {
	if stop, ok := s.stops[name]; ok {
		stop()
	}
}

// wait stops the services still running, in no particular order, waits
// for all of them, and returns the first failure.
func (s *supervisor) wait() error {
	for _, stop := range s.stops {
		stop()
	}
	return s.eg.Wait()
}
