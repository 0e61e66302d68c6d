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
	"github.com/ai-pantheon/aegis/crypto/ohttp"
	"github.com/ai-pantheon/aegis/crypto/privacypass"
	"github.com/ai-pantheon/aegis/domain"
)

// Config is one load run.
type Config struct {
	Server       string        // base URL of the aegisd
	Relay        string        // base URL of an aegis-relay in front of its gateway ("": direct)
	AttestSecret []byte        // bearer secret of the token issuer
	Clients      int           // concurrent clients
	Duration     time.Duration // measured run
	PutRatio     float64       // share of PUTs, 0..1
	Size         int           // object size, a bucket size
	TokensBatch  int           // tokens per issuance request
}

// Report is the outcome of a run. Latencies are in milliseconds.
//
// The issuance figures cover the round trips that ended during the run: every
// client's pool starts empty when the clock starts and fetches its batches
// while the run goes (synchronously when it is empty, in the background below
// its low water). FetchSeconds sums their durations (blinding, the POST round
// trip and finalization) over all clients, and FetchShare is FetchSeconds over
// the run's wall time: the issuance time spent per second of the run, which
// exceeds 1 when several clients fetch at once. A batch still being fetched
// when the run ends is not counted (at most one per client). WaitSeconds sums
// the time the clients' requests waited for a token (a pool found empty waits
// for its fetch; a background fetch makes no request wait), and WaitShare is
// WaitSeconds over the clients' time (Clients × the wall time): the share of
// the run that issuance held requests up.
type Report struct {
	Server          string   `json:"server"`
	Relay           bool     `json:"relay"`
	RelayURL        string   `json:"relay_url,omitempty"`
	Clients         int      `json:"clients"`
	DurationS       float64  `json:"duration_s"`
	PutRatio        float64  `json:"put_ratio"`
	Size            int      `json:"size"`
	TokenType       uint16   `json:"token_type"`
	TokenTypeName   string   `json:"token_type_name"`
	TokensBatch     int      `json:"tokens_batch"`
	FetchRoundTrips int64    `json:"fetch_round_trips"`
	TokensFetched   int64    `json:"tokens_fetched"`
	FetchSeconds    float64  `json:"fetch_seconds"`
	FetchShare      float64  `json:"fetch_share"`
	WaitSeconds     float64  `json:"wait_seconds"`
	WaitShare       float64  `json:"wait_share"`
	Requests        int64    `json:"requests"`
	Puts            int64    `json:"puts"`
	Gets            int64    `json:"gets"`
	Errors          int64    `json:"errors"`
	FirstErrors     []string `json:"first_errors,omitempty"`
	ElapsedS        float64  `json:"elapsed_s"`
	RequestsPerS    float64  `json:"requests_per_s"`
	Latency         Latency  `json:"latency_ms"`
	PutLatency      Latency  `json:"put_latency_ms"`
	GetLatency      Latency  `json:"get_latency_ms"`
	Go              string   `json:"go"`
	GOMAXPROCS      int      `json:"gomaxprocs"`
	NumCPU          int      `json:"num_cpu"`
	Started         string   `json:"started"`
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

// Run sets up the clients, each with its own token pool (which reads the
// server's challenge and issuer directory but fetches no token), then runs the
// measured load, during which the pools fetch their tokens. It fails when the
// server cannot be reached; failed requests during the run, issuance failures
// among them, are counted in the report, not returned.
func Run(ctx context.Context, cfg Config, progress io.Writer) (*Report, error) {
	rep := &Report{
		Server: cfg.Server, Relay: cfg.Relay != "", RelayURL: cfg.Relay, Clients: cfg.Clients, DurationS: cfg.Duration.Seconds(), PutRatio: cfg.PutRatio, Size: cfg.Size,
		TokensBatch: cfg.TokensBatch, Go: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(),
	}
	var keys *ohttp.KeyConfig
	if cfg.Relay != "" {
		// The gateway's key configuration as the relay passes it on, taken as
		// offered (the gateway's preferred): a load run measures the path, it
		// does not guard against a relay substituting its key as aegis does.
		hc := httpblob.NewHTTPClient()
		cfgs, err := httpblob.FetchKeyConfigs(ctx, cfg.Relay, hc)
		hc.CloseIdleConnections()
		if err != nil {
			return nil, err
		}
		keys = cfgs[0]
	}
	iss := &issuance{}
	clients := make([]*client, cfg.Clients)
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.http.CloseIdleConnections()
			}
		}
	}()
	for i := range clients {
		c, err := newClient(ctx, cfg, keys, iss)
		if err != nil {
			return nil, err
		}
		clients[i] = c
	}

	fmt.Fprintf(progress, "aegis-load: run, %d clients for %s, tokens fetched during the run in batches of %d\n", cfg.Clients, cfg.Duration, cfg.TokensBatch)
	rep.Started = time.Now().UTC().Format(time.RFC3339)
	iss.start()
	p := runPhase(ctx, clients, cfg.Duration)
	rounds, toks, busy, wait := iss.stop()
	rep.Requests, rep.Puts, rep.Gets, rep.Errors, rep.FirstErrors = p.requests, p.puts, p.gets, p.errors, p.firstErrors
	rep.ElapsedS = p.elapsed.Seconds()
	rep.FetchRoundTrips, rep.TokensFetched, rep.FetchSeconds, rep.WaitSeconds = rounds, toks, busy.Seconds(), wait.Seconds()
	if t := privacypass.TokenType(iss.typ.Load()); t != 0 {
		rep.TokenType, rep.TokenTypeName = uint16(t), t.String()
	}
	if p.elapsed > 0 {
		rep.RequestsPerS = float64(p.requests) / p.elapsed.Seconds()
		rep.FetchShare = busy.Seconds() / p.elapsed.Seconds()
		rep.WaitShare = wait.Seconds() / (float64(cfg.Clients) * p.elapsed.Seconds())
	}
	all := append(slices.Clone(p.putLat), p.getLat...)
	rep.Latency, rep.PutLatency, rep.GetLatency = percentiles(all), percentiles(p.putLat), percentiles(p.getLat)
	return rep, nil
}

// issuance sums the issuance round trips of every client's pool while the run
// goes (httpblob.PoolOptions.OnFetch), and records the tokens' type.
type issuance struct {
	mu       sync.Mutex
	counting bool
	rounds   int64
	tokens   int64
	busy     time.Duration
	wait     time.Duration // requests waiting for a token
	typ      atomic.Uint32 // the type of the first token handed out
}

func (s *issuance) start() {
	s.mu.Lock()
	s.counting = true
	s.mu.Unlock()
}

// stop ends the counting and returns the round trips, tokens, their summed
// time and the time requests waited for tokens.
func (s *issuance) stop() (rounds, tokens int64, busy, wait time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counting = false
	return s.rounds, s.tokens, s.busy, s.wait
}

// waited records d of a request waiting for its token.
func (s *issuance) waited(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.counting {
		s.wait += d
	}
}

// fetched is the pools' OnFetch.
func (s *issuance) fetched(tokens int, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.counting {
		s.rounds++
		s.tokens += int64(tokens)
		s.busy += d
	}
}

// errIssuance marks a request that got no token: the client's pool could not
// fetch a batch.
var errIssuance = errors.New("issuance")

// clientTokens is a client's token source: its own pool.
type clientTokens struct {
	pool *privacypass.Pool
	iss  *issuance
}

var _ domain.TokenSource = (*clientTokens)(nil)

func (t *clientTokens) Token(ctx context.Context) ([]byte, error) {
	start := time.Now()
	tok, err := t.pool.Token(ctx)
	t.iss.waited(time.Since(start))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errIssuance, err)
	}
	if t.iss.typ.Load() == 0 {
		if pt, err := privacypass.ParseToken(tok); err == nil {
			t.iss.typ.CompareAndSwap(0, uint32(pt.TokenType))
		}
	}
	return tok, nil
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

// newClient sets up a client with its own connection and its own token pool,
// empty: its tokens are fetched during the run. With cfg.Relay, its
// connection goes to the relay and every request, token requests included,
// is encapsulated to keys (httpblob.RelayTransport).
func newClient(ctx context.Context, cfg Config, keys *ohttp.KeyConfig, iss *issuance) (*client, error) {
	conn := httpblob.NewHTTPClient() // the client's own connection: to aegisd, or to the relay
	hc := conn
	if cfg.Relay != "" {
		t, err := httpblob.NewRelayTransport(cfg.Relay, keys, conn)
		if err != nil {
			return nil, err
		}
		hc = httpblob.NewRelayHTTPClient(t)
	}
	pool, err := httpblob.NewTokenPool(ctx, cfg.Server, cfg.AttestSecret, &httpblob.PoolOptions{Batch: cfg.TokensBatch, Client: hc, OnFetch: iss.fetched})
	if err != nil {
		conn.CloseIdleConnections()
		return nil, fmt.Errorf("token issuer of %s: %w", cfg.Server, err)
	}
	st, err := httpblob.Open(cfg.Server, &httpblob.Options{Tokens: &clientTokens{pool: pool, iss: iss}, Client: hc, Attempts: 1})
	if err != nil {
		conn.CloseIdleConnections()
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
		store: st.Guarded(enablers(enablerKey[:])), http: conn, rng: rand.New(cc), ids8: cc, putRatio: cfg.PutRatio, size: cfg.Size,
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
			if errors.Is(err, errIssuance) {
				break // the pool fetches again at every request: do not hammer a failing issuer
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
	if r.Relay {
		fmt.Fprintf(&b, "relay:      %s (every request encapsulated, Oblivious HTTP)\n", r.RelayURL)
	} else {
		fmt.Fprintf(&b, "relay:      none (direct)\n")
	}
	fmt.Fprintf(&b, "load:       %d clients for %gs, %.0f%% PUT, %d-byte objects (%s, GOMAXPROCS %d)\n", r.Clients, r.DurationS, r.PutRatio*100, r.Size, r.Go, r.GOMAXPROCS)
	fmt.Fprintf(&b, "requests:   %d (%d PUT, %d GET) in %.2f s\n", r.Requests, r.Puts, r.Gets, r.ElapsedS)
	fmt.Fprintf(&b, "throughput: %.1f requests/s\n", r.RequestsPerS)
	typ := r.TokenTypeName
	if typ == "" {
		typ = "none received"
	}
	fmt.Fprintf(&b, "tokens:     %d fetched during the run in %d issuance round trips of %d (%s)\n", r.TokensFetched, r.FetchRoundTrips, r.TokensBatch, typ)
	fmt.Fprintf(&b, "issuance:   %.2f s summed over the clients' round trips, fetch share %.1f%% of the run\n", r.FetchSeconds, 100*r.FetchShare)
	fmt.Fprintf(&b, "waiting:    requests waited %.2f s for tokens, wait share %.1f%% of the clients' time\n", r.WaitSeconds, 100*r.WaitShare)
	fmt.Fprintf(&b, "latency:    %s\n", lat(r.Latency))
	fmt.Fprintf(&b, "  PUT:      %s\n", lat(r.PutLatency))
	fmt.Fprintf(&b, "  GET:      %s\n", lat(r.GetLatency))
	fmt.Fprintf(&b, "errors:     %d\n", r.Errors)
	_, err := w.Write(b.Bytes())
	return err
}
