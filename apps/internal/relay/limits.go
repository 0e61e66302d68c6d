package relay

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ai-pantheon/aegis/apps/internal/server"
)

// bucketKey is the context key of a connection's token bucket.
type bucketKey struct{}

// bucket is a token bucket: it holds up to burst tokens, gains rate tokens
// per second, and every request takes one.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

// newBucket returns a full bucket.
func newBucket(rate float64, burst int, now time.Time) *bucket {
	return &bucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: now}
}

// take takes a token at now, or reports how long until one is there.
func (b *bucket) take(now time.Time) (ok bool, wait time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if dt := now.Sub(b.last); dt > 0 {
		b.tokens = math.Min(b.burst, b.tokens+dt.Seconds()*b.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
}

// rateLimit refuses, with 429 rate_limited and Retry-After (whole seconds,
// at least 1), a request whose connection's bucket is empty.
func (r *Relay) rateLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if b, ok := c.Request().Context().Value(bucketKey{}).(*bucket); ok {
			if ok, wait := b.take(r.now()); !ok {
				e := server.NewError(http.StatusTooManyRequests, CodeRateLimited, "too many requests on this connection; retry later")
				e.WithHeader("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
				return e
			}
		}
		return next(c)
	}
}

// limitInFlight bounds the requests being relayed at once. A request over the
// bound gets 503 busy at once, before its body is read.
func (r *Relay) limitInFlight(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		select {
		case r.sem <- struct{}{}:
		default:
			e := server.NewError(http.StatusServiceUnavailable, server.CodeBusy, "too many requests in flight; retry")
			e.WithHeader("Retry-After", "1")
			return e
		}
		defer func() { <-r.sem }()
		return next(c)
	}
}

// recoverPanics turns a handler panic into a 500 without logging anything
// about the request.
func (r *Relay) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				err = server.NewError(http.StatusInternalServerError, server.CodeInternal, "internal error")
			}
		}()
		return next(c)
	}
}
