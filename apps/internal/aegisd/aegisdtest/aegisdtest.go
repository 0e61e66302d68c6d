// Package aegisdtest serves an assembled aegisd on a loopback port, in
// process, for the tests of the server, the CLI and the load generator.
package aegisdtest

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/ai-pantheon/aegis/apps/internal/aegisd"
)

// Server is an aegisd served on 127.0.0.1.
type Server struct {
	// URL is the server's base URL, "http://127.0.0.1:PORT".
	URL string
	// App is the assembled server.
	App  *aegisd.App
	stop func() error
}

// Start assembles an aegisd from o (aegisd.Initialize) and serves it with its
// real http.Server on 127.0.0.1:0; o.Listen is not used.
func Start(o aegisd.Options) (*Server, error) {
	app, err := aegisd.Initialize(o)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, ln) }()
	s := &Server{URL: "http://" + ln.Addr().String(), App: app}
	s.stop = sync.OnceValue(func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(aegisd.ShutdownTimeout + 5*time.Second):
			return context.DeadlineExceeded
		}
	})
	return s, nil
}

// Stop shuts the server down gracefully (in-flight requests finish) and
// returns what Serve returned: nil after a clean shutdown. Later calls return
// the same.
func (s *Server) Stop() error { return s.stop() }
