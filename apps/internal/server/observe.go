package server

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
)

// LogWindow is the resolution of log timestamps: precise times help link
// requests to clients, so every timestamp is truncated to it.
const LogWindow = 10 * time.Second

// sizeBuckets label request and response sizes in logs: a size is written as
// the smallest bound it does not exceed.
var sizeBuckets = []struct {
	max   int64
	label string
}{
	{0, "0"}, {1 << 10, "1KiB"}, {4 << 10, "4KiB"}, {16 << 10, "16KiB"}, {64 << 10, "64KiB"},
	{256 << 10, "256KiB"}, {1 << 20, "1MiB"},
}

// SizeBucket returns the log label of a byte count.
func SizeBucket(n int64) string {
	for _, b := range sizeBuckets {
		if n <= b.max {
			return b.label
		}
	}
	return ">1MiB"
}

// logRequests writes one line per request: the time truncated to LogWindow,
// the method, the route pattern (never the path, which holds the object id),
// the status and the size bucket of the larger of request and response body.
// Nothing about the client (address, port, user agent, cookies, forwarded-for
// headers, query) is written.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		if err != nil {
			c.Error(err) // writes the response, so the status below is final
		}
		route := c.Path()
		if !s.routes[route] {
			route = "unmatched"
		}
		res := c.Response()
		size := max(res.Size, c.Request().ContentLength)
		method := c.Request().Method
		if !knownMethod(method) {
			method = "OTHER"
		}
		s.metrics.request(method, route, res.Status)
		t := s.cfg.Now().UTC().Truncate(LogWindow).Format(time.RFC3339)
		line := fmt.Sprintf("t=%s method=%s route=%s status=%d size=%s\n", t, method, route, res.Status, SizeBucket(size))
		s.logMu.Lock()
		_, _ = io.WriteString(s.cfg.Log, line)
		s.logMu.Unlock()
		return nil
	}
}

func knownMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPost, http.MethodDelete, http.MethodOptions, http.MethodPatch:
		return true
	}
	return false
}

// Metrics are the server's counters, exposed in the Prometheus text format at
// /metrics. They carry no per-client labels: only method, route pattern and
// status class.
type Metrics struct {
	mu       sync.Mutex
	requests map[[3]string]int64 // method, route, status class
	rejected map[string]int64    // token rejection reason
	ohttpRef map[string]int64    // OHTTP refusal reason

	redeemed     atomic.Int64
	tokensIssued atomic.Int64
	busyCount    atomic.Int64
	panics       atomic.Int64
	bytesIn      atomic.Int64
	bytesOut     atomic.Int64
	inFlight     atomic.Int64
	ohttpOpen    atomic.Int64
}

// NewMetrics returns zeroed counters.
func NewMetrics() *Metrics {
	return &Metrics{requests: map[[3]string]int64{}, rejected: map[string]int64{}, ohttpRef: map[string]int64{}}
}

func (m *Metrics) request(method, route string, status int) {
	class := fmt.Sprintf("%dxx", status/100)
	m.mu.Lock()
	m.requests[[3]string{method, route, class}]++
	m.mu.Unlock()
}

func (m *Metrics) tokenRejected(reason string) {
	m.mu.Lock()
	m.rejected[reason]++
	m.mu.Unlock()
}

func (m *Metrics) ohttpRefused(reason string) {
	m.mu.Lock()
	m.ohttpRef[reason]++
	m.mu.Unlock()
}

func (m *Metrics) ohttpOpened()   { m.ohttpOpen.Add(1) }
func (m *Metrics) tokenRedeemed() { m.redeemed.Add(1) }
func (m *Metrics) busy()          { m.busyCount.Add(1) }

// InFlight returns the number of requests being served.
func (m *Metrics) InFlight() int64 { return m.inFlight.Load() }

// WriteTo writes the metrics in the Prometheus text exposition format (0.0.4).
func (m *Metrics) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	counter := func(name, help string, v int64) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", name, help, name, name, v)
	}
	m.mu.Lock()
	keys := make([][3]string, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [3]string) int { return strings.Compare(a[0]+a[1]+a[2], b[0]+b[1]+b[2]) })
	b.WriteString("# HELP aegisd_requests_total HTTP requests served, by method, route pattern and status class.\n# TYPE aegisd_requests_total counter\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "aegisd_requests_total{method=%q,route=%q,code=%q} %d\n", k[0], k[1], k[2], m.requests[k])
	}
	reasons := make([]string, 0, len(m.rejected))
	for r := range m.rejected {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	b.WriteString("# HELP aegisd_tokens_rejected_total Object requests refused at token check, by reason.\n# TYPE aegisd_tokens_rejected_total counter\n")
	for _, r := range reasons {
		fmt.Fprintf(&b, "aegisd_tokens_rejected_total{reason=%q} %d\n", r, m.rejected[r])
	}
	reasons = reasons[:0]
	for r := range m.ohttpRef {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	b.WriteString("# HELP aegisd_ohttp_refused_total Encapsulated requests refused by the OHTTP gateway, by reason.\n# TYPE aegisd_ohttp_refused_total counter\n")
	for _, r := range reasons {
		fmt.Fprintf(&b, "aegisd_ohttp_refused_total{reason=%q} %d\n", r, m.ohttpRef[r])
	}
	m.mu.Unlock()
	counter("aegisd_tokens_redeemed_total", "Tokens verified and spent.", m.redeemed.Load())
	counter("aegisd_tokens_issued_total", "Tokens issued through /v1/token-requests.", m.tokensIssued.Load())
	counter("aegisd_ohttp_opened_total", "Encapsulated requests the OHTTP gateway opened and served.", m.ohttpOpen.Load())
	counter("aegisd_busy_total", "Requests refused because the concurrency limit was reached.", m.busyCount.Load())
	counter("aegisd_panics_total", "Handler panics recovered.", m.panics.Load())
	counter("aegisd_object_bytes_received_total", "Object bytes stored by PUT.", m.bytesIn.Load())
	counter("aegisd_object_bytes_sent_total", "Object bytes returned by GET.", m.bytesOut.Load())
	fmt.Fprintf(&b, "# HELP aegisd_in_flight_requests Requests being served.\n# TYPE aegisd_in_flight_requests gauge\naegisd_in_flight_requests %d\n", m.inFlight.Load())
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

func (s *Server) metricsHandler(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderContentType, "text/plain; version=0.0.4; charset=utf-8")
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	c.Response().WriteHeader(http.StatusOK)
	_, err := s.metrics.WriteTo(c.Response())
	return err
}
