// Package relaytest serves an assembled aegis-relay on a loopback port, in
// process, for the tests of the relay, its command and the clients that use
// it.
package relaytest

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/ai-pantheon/aegis/apps/internal/relay"
)

// Server is an aegis-relay served on 127.0.0.1.
type Server struct {
	// URL is the relay's base URL, "http://127.0.0.1:PORT".
	URL string
	// App is the assembled relay.
	App  *relay.App
	stop func() error
}

// Start assembles an aegis-relay from o (relay.Initialize) and serves it with
// its real http.Server (ConnContext, timeouts and limits included) on
// 127.0.0.1:0; o.Listen is not used.
func Start(o relay.Options) (*Server, error) {
	app, err := relay.Initialize(o)
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
		case <-time.After(app.Settings.RequestTimeout + 5*time.Second):
			return context.DeadlineExceeded
		}
	})
	return s, nil
}

// Stop shuts the relay down gracefully (in-flight requests finish) and
// returns what Serve returned: nil after a clean shutdown. Later calls return
// the same.
func (s *Server) Stop() error { return s.stop() }
