package fakemetadata

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// Serve answers Metadata API requests on ln until ctx is done, then shuts
// down, giving requests under way a second to finish. It returns nil after
// such a shutdown, and the error that stopped it otherwise. It closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 5 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Start serves on ln in the background, for tests. It returns the base URL
// to give a client ("http://" and ln's address) and a function that stops
// the server and waits for it.
func (s *Server) Start(ln net.Listener) (baseURL string, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(ctx, ln)
	}()
	return "http://" + ln.Addr().String(), func() {
		cancel()
		<-done
	}
}
