package anonymize

import (
	"context"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/ai-pantheon/aegis/domain"
)

// DefaultTimestampWindow is the window BucketTimestamp rounds down to by default.
const DefaultTimestampWindow = 10 * time.Second

// BucketTimestamp rounds every timestamp down to a multiple of Window (since the
// Unix epoch, in UTC), so requests made within one window carry the same time.
// A request without a timestamp gets the bucketed time of Clock. If a request has
// a "timestamp" metadata field it is replaced by the bucketed time in Unix seconds.
type BucketTimestamp struct {
	// Window is the bucket width; 0 means DefaultTimestampWindow.
	Window time.Duration
	// Clock dates requests that have no timestamp; nil means domain.SystemClock.
	Clock domain.Clock
}

// Name implements Stage.
func (BucketTimestamp) Name() string { return "bucket-timestamp" }

// Apply implements Stage.
func (s BucketTimestamp) Apply(ctx context.Context, b Batch) (Batch, error) {
	w := s.Window
	if w == 0 {
		w = DefaultTimestampWindow
	}
	if w < 0 {
		return nil, fmt.Errorf("%w: negative timestamp window %s", domain.ErrInvalidInput, w)
	}
	clock := s.Clock
	if clock == nil {
		clock = domain.SystemClock{}
	}
	var now time.Time
	out := make(Batch, len(b))
	for i, r := range b {
		out[i] = r
		t := r.Timestamp
		if t.IsZero() {
			if now.IsZero() {
				now = clock.Now()
			}
			t = now
		}
		t = BucketTime(t, w)
		out[i].Timestamp = t
		if _, ok := r.Metadata["timestamp"]; ok {
			md := make(map[string]string, len(r.Metadata))
			for k, v := range r.Metadata {
				md[k] = v
			}
			md["timestamp"] = strconv.FormatInt(t.Unix(), 10)
			out[i].Metadata = md
		}
	}
	return out, nil
}

// BucketTime rounds t down to a multiple of window since the Unix epoch and
// returns it in UTC without a monotonic reading. Times before the epoch round
// towards the past as well. It is exact for every time.Time.
func BucketTime(t time.Time, window time.Duration) time.Time {
	if window <= 0 {
		return t.UTC().Round(0)
	}
	sec, nsec := t.Unix(), int64(t.Nanosecond())
	w := int64(window)
	if w%int64(time.Second) == 0 {
		ws := w / int64(time.Second)
		r := sec % ws
		if r < 0 {
			r += ws
		}
		return time.Unix(sec-r, 0).UTC()
	}
	// Exact arithmetic on nanoseconds since the epoch, which may not fit an int64.
	ns := new(big.Int).Mul(big.NewInt(sec), big.NewInt(int64(time.Second)))
	ns.Add(ns, big.NewInt(nsec))
	r := new(big.Int).Mod(ns, big.NewInt(w)) // Euclidean: 0 <= r < w
	ns.Sub(ns, r)
	q, m := new(big.Int).DivMod(ns, big.NewInt(int64(time.Second)), new(big.Int))
	return time.Unix(q.Int64(), m.Int64()).UTC()
}
