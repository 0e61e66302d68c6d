package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ai-pantheon/aegis/adapters/httpblob"
	"github.com/ai-pantheon/aegis/crypto/privacypass"
	"github.com/ai-pantheon/aegis/domain"
)

// Config is one load run.
type Config struct {
	Server       string        // base URL of the aegisd
	AttestSecret []byte        // bearer secret of the token issuer
	Clients      int           // concurrent clients
	Duration     time.Duration // measured run
	PutRatio     float64       // share of PUTs, 0..1
	Size         int           // object size, a bucket size
	TokensBatch  int           // tokens per issuance request
	Tokens       int           // tokens fetched before the run; 0: estimated from the warm-up
	Warmup       time.Duration // unmeasured run before the measured one
	Issuers      int           // issuance requests in flight while prefetching
}

// Report is the outcome of a run. Latencies are in milliseconds.
type Report struct {
	Server             string   `json:"server"`
	Clients            int      `json:"clients"`
	DurationS          float64  `json:"duration_s"`
	PutRatio           float64  `json:"put_ratio"`
	Size               int      `json:"size"`
	WarmupRequests     int64    `json:"warmup_requests"`
	TokensPrefetched   int      `json:"tokens_prefetched"`
	PrefetchS          float64  `json:"prefetch_s"`
	PrefetchTokensPerS float64  `json:"prefetch_tokens_per_s"`
	TokensDuringRun    int64    `json:"tokens_fetched_during_run"`
	Requests           int64    `json:"requests"`
	Puts               int64    `json:"puts"`
	Gets               int64    `json:"gets"`
	Errors             int64    `json:"errors"`
	FirstErrors        []string `json:"first_errors,omitempty"`
	ElapsedS           float64  `json:"elapsed_s"`
	RequestsPerS       float64  `json:"requests_per_s"`
	Latency            Latency  `json:"latency_ms"`
	PutLatency         Latency  `json:"put_latency_ms"`
	GetLatency         Latency  `json:"get_latency_ms"`
	Go                 string   `json:"go"`
	GOMAXPROCS         int      `json:"gomaxprocs"`
	NumCPU             int      `json:"num_cpu"`
	Started            string   `json:"started"`
}

// Latency holds the percentiles of one set of requests, in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
}

// maxKeptErrors is how many error messages a report keeps.
const maxKeptErrors = 5

// Run prepares the tokens (and warms up), then runs the measured load. It
// fails when the server cannot be reached or refuses to issue tokens; failed
// requests during the run are counted in the report, not returned.
func Run(ctx context.Context, cfg Config, progress io.Writer) (*Report, error) {
	live, err := httpblob.NewTokenPool(ctx, cfg.Server, cfg.AttestSecret, &httpblob.PoolOptions{Batch: cfg.TokensBatch})
	if err != nil {
		return nil, fmt.Errorf("token issuer of %s: %w", cfg.Server, err)
	}
	src := &tokenSource{live: live}
	rep := &Report{
		Server: cfg.Server, Clients: cfg.Clients, DurationS: cfg.Duration.Seconds(), PutRatio: cfg.PutRatio, Size: cfg.Size,
		Go: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(),
	}
	clients := make([]*client, cfg.Clients)
	for i := range clients {
		if clients[i], err = newClient(cfg, src, uint64(i)); err != nil {
			return nil, err
		}
	}
	defer func() {
		for _, c := range clients {
			c.http.CloseIdleConnections()
		}
	}()

	// Tokens for the warm-up, then the warm-up, then the tokens of the run.
	fetched, spent := 0, time.Duration(0)
	want := cfg.Tokens
	if cfg.Warmup > 0 {
		first := max(cfg.Clients*cfg.TokensBatch, 1024)
		fmt.Fprintf(progress, "aegis-load: fetching %d tokens for the warm-up\n", first)
		d, err := prefetch(ctx, cfg, src, first)
		if err != nil {
			return nil, err
		}
		fetched, spent = fetched+first, spent+d
		fmt.Fprintf(progress, "aegis-load: warm-up, %d clients for %s\n", cfg.Clients, cfg.Warmup)
		// The warm-up spends prefetched tokens only and ends early when they
		// run out, so that issuance does not hold back the rate it measures.
		w := runPhase(ctx, clients, cfg.Warmup)
		rep.WarmupRequests = w.requests
		if w.errors > 0 {
			return nil, fmt.Errorf("warm-up: %d of %d requests failed, the first: %s", w.errors, w.requests, w.firstErrors[0])
		}
		if want == 0 {
			// The run's rate, judged by the warm-up, for the run's length, with a
			// margin of 2×; the warm-up's leftovers count.
			rate := float64(w.requests) / w.elapsed.Seconds()
			want = int(math.Ceil(rate*cfg.Duration.Seconds()*2)) + cfg.Clients*cfg.TokensBatch
		}
	}
	if need := want - src.Len(); need > 0 {
		fmt.Fprintf(progress, "aegis-load: fetching %d tokens before the run\n", need)
		d, err := prefetch(ctx, cfg, src, need)
		if err != nil {
			return nil, err
		}
		fetched, spent = fetched+need, spent+d
	}
	rep.TokensPrefetched = fetched
	rep.PrefetchS = spent.Seconds()
	if spent > 0 {
		rep.PrefetchTokensPerS = float64(fetched) / spent.Seconds()
	}

	fmt.Fprintf(progress, "aegis-load: run, %d clients for %s, %d tokens at hand\n", cfg.Clients, cfg.Duration, src.Len())
	src.measured.Store(true)
	rep.Started = time.Now().UTC().Format(time.RFC3339)
	p := runPhase(ctx, clients, cfg.Duration)
	rep.TokensDuringRun = src.during.Load()
	rep.Requests, rep.Puts, rep.Gets, rep.Errors, rep.FirstErrors = p.requests, p.puts, p.gets, p.errors, p.firstErrors
	rep.ElapsedS = p.elapsed.Seconds()
	if p.elapsed > 0 {
		rep.RequestsPerS = float64(p.requests) / p.elapsed.Seconds()
	}
	all := append(slices.Clone(p.putLat), p.getLat...)
	rep.Latency, rep.PutLatency, rep.GetLatency = percentiles(all), percentiles(p.putLat), percentiles(p.getLat)
	return rep, nil
}

// errWarmupOut ends a client's warm-up: the prefetched tokens are spent.
var errWarmupOut = errors.New("the warm-up spent the prefetched tokens")

// tokenSource hands out the prefetched tokens, then, during the measured run
// only, tokens of the live pool (and counts those).
type tokenSource struct {
	mu       sync.Mutex
	toks     [][]byte
	live     *privacypass.Pool
	measured atomic.Bool // the measured run has started
	during   atomic.Int64
}

var _ domain.TokenSource = (*tokenSource)(nil)

func (s *tokenSource) Token(ctx context.Context) ([]byte, error) {
	s.mu.Lock()
	if n := len(s.toks); n > 0 {
		t := s.toks[n-1]
		s.toks[n-1] = nil
		s.toks = s.toks[:n-1]
		s.mu.Unlock()
		return t, nil
	}
	s.mu.Unlock()
	if !s.measured.Load() {
		return nil, errWarmupOut
	}
	s.during.Add(1)
	return s.live.Token(ctx)
}

func (s *tokenSource) add(toks [][]byte) {
	s.mu.Lock()
	s.toks = append(s.toks, toks...)
	s.mu.Unlock()
}

// Len returns the number of prefetched tokens left.
func (s *tokenSource) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.toks)
}

// prefetch fetches n tokens into src with cfg.Issuers issuance requests in
// flight (one token pool each) and returns how long it took.
func prefetch(ctx context.Context, cfg Config, src *tokenSource, n int) (time.Duration, error) {
	start := time.Now()
	var left atomic.Int64
	left.Store(int64(n))
	errs := make([]error, cfg.Issuers)
	var wg sync.WaitGroup
	for i := range cfg.Issuers {
		wg.Go(func() {
			pool, err := httpblob.NewTokenPool(ctx, cfg.Server, cfg.AttestSecret, &httpblob.PoolOptions{Batch: cfg.TokensBatch})
			if err != nil {
				errs[i] = err
				return
			}
			// No background batch once this pool is below its low water: it
			// would be fetched (and signed by the server) during the run.
			pool.SetLowWater(0)
			var mine [][]byte
			for left.Add(-1) >= 0 {
				t, err := pool.Token(ctx)
				if err != nil {
					errs[i] = err
					left.Store(0)
					break
				}
				mine = append(mine, t)
			}
			src.add(mine)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return 0, fmt.Errorf("fetching tokens from %s: %w", cfg.Server, err)
		}
	}
	return time.Since(start), nil
}

// client is one simulated client: its own connection, its own ids.
type client struct {
	store    domain.BlobStore // a guarded view: its own random enabler key
	http     interface{ CloseIdleConnections() }
	rng      *rand.Rand
	ids8     *rand.ChaCha8 // the source of rng, read directly for ids
	putRatio float64
	size     int
	ids      []domain.ObjectID // stored by this client
	body     []byte
	want     []byte
}

func newClient(cfg Config, src *tokenSource, i uint64) (*client, error) {
	hc := httpblob.NewHTTPClient()
	st, err := httpblob.Open(cfg.Server, &httpblob.Options{Tokens: src, Client: hc, Attempts: 1})
	if err != nil {
		return nil, err
	}
	var seed, enablerKey [32]byte
	if _, err := io.ReadFull(domain.DefaultRandom(), seed[:]); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(domain.DefaultRandom(), enablerKey[:]); err != nil {
		return nil, err
	}
	cc := rand.NewChaCha8(seed)
	return &client{
		store: st.Guarded(enablers(enablerKey[:])), http: hc, rng: rand.New(cc), ids8: cc, putRatio: cfg.PutRatio, size: cfg.Size,
		body: make([]byte, cfg.Size), want: make([]byte, cfg.Size),
	}, nil
}

// enablers returns the client's write-enabler function: HMAC-SHA256 of the id
// under its own key, as a real client derives one enabler per object.
func enablers(key []byte) func(domain.ObjectID) domain.WriteEnabler {
	return func(id domain.ObjectID) domain.WriteEnabler {
		m := hmac.New(sha256.New, key)
		m.Write(id[:])
		var e domain.WriteEnabler
		copy(e[:], m.Sum(nil))
		return e
	}
}

// content fills b with the bytes stored under id: a ChaCha8 stream keyed by
// the id, so that a GET can be checked without keeping what was PUT.
func content(id domain.ObjectID, b []byte) {
	_, _ = rand.NewChaCha8(id).Read(b)
}

// phase is what the clients did in one phase.
type phase struct {
	requests, puts, gets, errors int64
	firstErrors                  []string
	putLat, getLat               []time.Duration
	elapsed                      time.Duration
}

// runPhase runs every client until d has passed (a request in flight at the
// deadline completes and counts) or ctx is cancelled.
func runPhase(ctx context.Context, clients []*client, d time.Duration) phase {
	results := make([]phase, len(clients))
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() { results[i] = c.run(ctx, deadline) })
	}
	wg.Wait()
	var p phase
	p.elapsed = time.Since(start)
	for _, r := range results {
		p.requests += r.requests
		p.puts += r.puts
		p.gets += r.gets
		p.errors += r.errors
		p.putLat = append(p.putLat, r.putLat...)
		p.getLat = append(p.getLat, r.getLat...)
		for _, e := range r.firstErrors {
			if len(p.firstErrors) < maxKeptErrors {
				p.firstErrors = append(p.firstErrors, e)
			}
		}
	}
	return p
}

// run sends requests until the deadline. Requests use a context that the
// deadline does not cancel, so that the last one completes.
func (c *client) run(ctx context.Context, deadline time.Time) phase {
	var p phase
	reqCtx := context.WithoutCancel(ctx)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		put := len(c.ids) == 0 || c.rng.Float64() < c.putRatio
		var id domain.ObjectID
		var err error
		t := time.Now()
		if put {
			_, _ = c.ids8.Read(id[:])
			content(id, c.body)
			t = time.Now()
			err = c.store.Put(reqCtx, id, c.body)
		} else {
			id = c.ids[c.rng.IntN(len(c.ids))]
			var got []byte
			got, err = c.store.Get(reqCtx, id)
			if err == nil {
				content(id, c.want)
				if !bytes.Equal(got, c.want) {
					err = fmt.Errorf("GET %s: %d bytes that differ from the %d bytes PUT", id, len(got), len(c.want))
				}
			}
		}
		lat := time.Since(t)
		if errors.Is(err, errWarmupOut) {
			break // not a request: no token was left to send it with
		}
		if put {
			p.puts++
			p.putLat = append(p.putLat, lat)
			if err == nil {
				c.ids = append(c.ids, id)
			}
		} else {
			p.gets++
			p.getLat = append(p.getLat, lat)
		}
		p.requests++
		if err != nil {
			p.errors++
			if len(p.firstErrors) < maxKeptErrors {
				p.firstErrors = append(p.firstErrors, err.Error())
			}
		}
	}
	return p
}

// percentiles returns the nearest-rank percentiles of ds.
func percentiles(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) float64 {
		i := int(math.Ceil(q*float64(len(s)))) - 1
		return ms(s[min(max(i, 0), len(s)-1)])
	}
	return Latency{P50: at(0.50), P99: at(0.99), P999: at(0.999), Max: ms(s[len(s)-1])}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// WriteJSON prints the report as one JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText prints the report for a person.
func (r *Report) WriteText(w io.Writer) error {
	lat := func(l Latency) string {
		return fmt.Sprintf("p50 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max %.3f ms", l.P50, l.P99, l.P999, l.Max)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "server:     %s\n", r.Server)
	fmt.Fprintf(&b, "load:       %d clients for %gs, %.0f%% PUT, %d-byte objects (%s, GOMAXPROCS %d)\n", r.Clients, r.DurationS, r.PutRatio*100, r.Size, r.Go, r.GOMAXPROCS)
	fmt.Fprintf(&b, "tokens:     %d fetched before the run in %.2f s (%.0f tokens/s); %d fetched during the run\n", r.TokensPrefetched, r.PrefetchS, r.PrefetchTokensPerS, r.TokensDuringRun)
	if r.TokensDuringRun > 0 {
		fmt.Fprintf(&b, "            (the run outlasted the prefetched tokens: issuance is inside the measured time; raise --tokens)\n")
	}
	fmt.Fprintf(&b, "requests:   %d (%d PUT, %d GET) in %.2f s\n", r.Requests, r.Puts, r.Gets, r.ElapsedS)
	fmt.Fprintf(&b, "throughput: %.1f requests/s\n", r.RequestsPerS)
	fmt.Fprintf(&b, "latency:    %s\n", lat(r.Latency))
	fmt.Fprintf(&b, "  PUT:      %s\n", lat(r.PutLatency))
	fmt.Fprintf(&b, "  GET:      %s\n", lat(r.GetLatency))
	fmt.Fprintf(&b, "errors:     %d\n", r.Errors)
	_, err := w.Write(b.Bytes())
	return err
}
