package relay

import (
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ai-pantheon/aegis/apps/internal/server"
)

// logRequests writes one line per request with aegisd's fields and rules
// (server.LogWindow, server.SizeBucket): the time truncated to the log
// window, the method, the route pattern ("unmatched" for any other path), the
// status and the size bucket of the larger of request and response body.
// Nothing about the client (address, port, header, body, query, path) and no
// finer timing is written.
func (r *Relay) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := next(c); err != nil {
			c.Error(err) // writes the response, so the status below is final
		}
		route := c.Path()
		if !r.routes[route] {
			route = "unmatched"
		}
		res := c.Response()
		method := c.Request().Method
		switch method {
		case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPost, http.MethodDelete, http.MethodOptions, http.MethodPatch:
		default:
			method = "OTHER"
		}
		r.counts.add(res.Status)
		t := r.now().UTC().Truncate(server.LogWindow).Format(time.RFC3339)
		line := fmt.Sprintf("t=%s method=%s route=%s status=%d size=%s\n", t, method, route, res.Status,
			server.SizeBucket(max(res.Size, c.Request().ContentLength)))
		r.logMu.Lock()
		_, _ = io.WriteString(r.log, line)
		r.logMu.Unlock()
		return nil
	}
}

// counts are the requests answered, by status class, for the stop line.
type counts struct{ class [6]atomic.Int64 }

func (n *counts) add(status int) {
	if c := status / 100; c >= 1 && c <= 5 {
		n.class[c].Add(1)
	}
}

// String is "N requests answered (2xx: a, 4xx: b, 5xx: c)".
func (n *counts) String() string {
	var total int64
	for i := range n.class {
		total += n.class[i].Load()
	}
	return fmt.Sprintf("%d requests answered (2xx: %d, 4xx: %d, 5xx: %d)", total, n.class[2].Load(), n.class[4].Load(), n.class[5].Load())
}
