package server

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"
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

// Metrics are the server's counters, with the Go runtime and process
// collectors, in their own Prometheus registry served at MetricsPath. They
// carry no per-client labels: only the method (LogMethod), the route pattern
// ("unmatched" for any other path), the status class and fixed reasons.
type Metrics struct {
	reg        *prometheus.Registry
	requests   *prometheus.CounterVec // method, route, status class
	rejected   *prometheus.CounterVec // token rejection reason
	ohttpRef   *prometheus.CounterVec // OHTTP refusal reason
	challenges prometheus.Counter

	redeemed     prometheus.Counter
	tokensIssued prometheus.Counter
	busyCount    prometheus.Counter
	panics       prometheus.Counter
	bytesIn      prometheus.Counter
	bytesOut     prometheus.Counter
	ohttpOpen    prometheus.Counter
	inFlight     atomic.Int64
}

// Token rejection reasons (label reason of aegisd_tokens_rejected_total).
var rejectReasons = []string{"invalid", "spent", "ledger_error"}

// OHTTP refusal reasons (label reason of aegisd_ohttp_refused_total).
var ohttpReasons = []string{"malformed", "unknown_key", "unsupported", "decrypt", "replayed"}

// NewMetrics returns zeroed counters in a new registry, with the Go runtime
// (go_*) and process (process_*) collectors.
func NewMetrics() *Metrics {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "aegisd_requests_total",
			Help: "HTTP requests served, by method, route pattern and status class."}, []string{"method", "route", "code"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "aegisd_tokens_rejected_total",
			Help: "Object requests with an Authorization refused at token check, by reason."}, []string{"reason"}),
		ohttpRef: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "aegisd_ohttp_refused_total",
			Help: "Encapsulated requests refused by the OHTTP gateway, by reason."}, []string{"reason"}),
		challenges:   counter("aegisd_token_challenges_total", "Object requests without Authorization answered with the token challenge (a client fetching the challenge)."),
		redeemed:     counter("aegisd_tokens_redeemed_total", "Tokens verified and spent."),
		tokensIssued: counter("aegisd_tokens_issued_total", "Tokens issued through /v1/token-requests."),
		ohttpOpen:    counter("aegisd_ohttp_opened_total", "Encapsulated requests the OHTTP gateway opened and served."),
		busyCount:    counter("aegisd_busy_total", "Requests refused because the concurrency limit was reached."),
		panics:       counter("aegisd_panics_total", "Handler panics recovered."),
		bytesIn:      counter("aegisd_object_bytes_received_total", "Object bytes stored by PUT."),
		bytesOut:     counter("aegisd_object_bytes_sent_total", "Object bytes returned by GET."),
	}
	for _, r := range rejectReasons {
		m.rejected.WithLabelValues(r)
	}
	for _, r := range ohttpReasons {
		m.ohttpRef.WithLabelValues(r)
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.rejected, m.ohttpRef, m.challenges, m.redeemed, m.tokensIssued, m.ohttpOpen, m.busyCount,
		m.panics, m.bytesIn, m.bytesOut,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "aegisd_in_flight_requests", Help: "Requests being served."},
			func() float64 { return float64(m.inFlight.Load()) }),
	)
	return m
}

func (m *Metrics) request(method, route string, status int) {
	m.requests.WithLabelValues(method, route, fmt.Sprintf("%dxx", status/100)).Inc()
}

func (m *Metrics) tokenRejected(reason string) { m.rejected.WithLabelValues(reason).Inc() }
func (m *Metrics) ohttpRefused(reason string)  { m.ohttpRef.WithLabelValues(reason).Inc() }
func (m *Metrics) challenged()                 { m.challenges.Inc() }
func (m *Metrics) ohttpOpened()                { m.ohttpOpen.Inc() }
func (m *Metrics) tokenRedeemed()              { m.redeemed.Inc() }
func (m *Metrics) busy()                       { m.busyCount.Inc() }

// InFlight returns the number of requests being served.
func (m *Metrics) InFlight() int64 { return m.inFlight.Load() }

// Registry returns the registry of the metrics.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// WriteTo writes the metrics in the Prometheus text exposition format.
func (m *Metrics) WriteTo(w io.Writer) (int64, error) {
	mfs, err := m.reg.Gather()
	if err != nil {
		return 0, err
	}
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return 0, err
		}
	}
	n, err := w.Write(b.Bytes())
	return int64(n), err
}

func (s *Server) metricsHandler(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	s.prom.ServeHTTP(c.Response(), c.Request())
	return nil
}

func newPromHandler(m *Metrics) http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
