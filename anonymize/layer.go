package anonymize

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ai-pantheon/aegis/domain"
)

// Limits and defaults of Config.
const (
	// DefaultWindow is the width of a time window: requests leave, and objects are
	// dated, at multiples of it since the Unix epoch.
	DefaultWindow = 10 * time.Second
	// MaxWindow is the widest window.
	MaxWindow = time.Hour
	// MaxCover is the largest number of cover requests per window.
	MaxCover = 64
	// DefaultConcurrency is the number of requests of one window in flight at once.
	DefaultConcurrency = 8
)

// Release says when the Layer hands requests to the store.
type Release int

// Release settings.
const (
	// ReleaseAuto holds requests to window boundaries on stores whose requests
	// leave the machine (domain.Networked: aegisd, S3) and sends them at once on
	// others (a local directory, memory).
	ReleaseAuto Release = iota
	// ReleaseAtWindow holds every request until the next window boundary.
	ReleaseAtWindow
	// ReleaseNow sends every request at once.
	ReleaseNow
)

// String returns the setting's name as the CLI spells it.
func (r Release) String() string {
	switch r {
	case ReleaseAuto:
		return "auto"
	case ReleaseAtWindow:
		return "window"
	case ReleaseNow:
		return "now"
	}
	return fmt.Sprintf("Release(%d)", int(r))
}

// Config configures the Cloak's request layer. The zero value is valid: 10 s
// windows, held on remote stores, no cover traffic, no tokens, protocol fields
// only.
type Config struct {
	// Window is the width of a time window, a whole number of seconds from 1 s to
	// MaxWindow; 0 means DefaultWindow. On a store whose objects carry times
	// (domain.Dater: a local directory) every object is dated to the start of the
	// window it was written in, whatever Release says.
	Window time.Duration
	// Release says whether requests wait for the next window boundary.
	Release Release
	// Cover is the number of cover requests that go out with every window that
	// carries requests, 0 to MaxCover: reads of objects the layer has seen exist
	// and, while the Vault is writing, writes of objects it removes later.
	Cover int
	// Tokens authorizes requests: each request sent, cover included, carries one
	// token from it (domain.WithToken), fetched for a whole window at once when it
	// has a Tokens(ctx, n) method. nil: requests carry no token from the layer
	// (a local store needs none).
	Tokens domain.TokenSource
	// AllowMetadata names the transport fields (HTTP header names) that may go
	// out besides those the protocol needs, on a store that can strip them
	// (domain.MetadataStripper). nil: none.
	AllowMetadata []string
	// Clock tells the time of windows; nil means domain.SystemClock. Held requests
	// wait on real timers, so only a local store's dates follow another clock.
	Clock domain.Clock
	// Random is the source of shuffles and cover; nil means crypto/rand.
	Random domain.Random
	// Concurrency bounds the requests of one window in flight at once; 0 means
	// DefaultConcurrency.
	Concurrency int
}

// BatchTokenSource is a token source that hands out many tokens in one call (a
// Privacy Pass pool); the layer uses it to authorize a whole window at once.
type BatchTokenSource interface {
	domain.TokenSource
	Tokens(ctx context.Context, n int) ([][]byte, error)
}

// LayerStats are what the layer sent, as the store saw it.
type LayerStats struct {
	// Requests is the number of requests sent for callers (a batch of n objects
	// counts n).
	Requests int64 `json:"requests"`
	// Cover is the number of cover requests sent: CoverReads + CoverWrites.
	Cover       int64 `json:"cover_requests"`
	CoverReads  int64 `json:"cover_reads"`
	CoverWrites int64 `json:"cover_writes"`
	// TokensSpent is the number of tokens the layer attached to requests sent.
	TokensSpent int64 `json:"tokens_spent"`
	// Windows is the number of windows in which requests went out.
	Windows int64 `json:"windows"`
}

// Layer is the Cloak's request layer: a domain.BlobStore over another (Store
// returns it) that decides what leaves when, with what, and with which token.
// Its stages, in order:
//
//	strip      the transport sends only the fields its protocol needs (and
//	           AllowMetadata), through domain.MetadataStripper
//	window     requests wait for the next multiple of Window of the wall clock
//	           (on remote stores by default); objects are dated to their window
//	           (domain.Dater)
//	cover      Cover extra requests join every window that carries requests
//	shuffle    the requests of a window leave in a uniformly random order
//	authorize  each request carries one single-use token from Tokens
//
// A Layer is safe for concurrent use. It starts a goroutine only while requests
// are held, and stops it when none are.
type Layer struct {
	inner  domain.BlobStore
	window time.Duration
	hold   bool
	cover  int
	tokens domain.TokenSource
	clock  domain.Clock
	random domain.Random
	conc   int

	mu      sync.Mutex
	pending []*op
	running bool
	// Released at once: the window whose cover is being sent and how much of it
	// went out.
	coverIndex int64
	coverSent  int
	countIndex int64 // the last window counted in Stats
	known      idSet
	coverIDs   func() (domain.ObjectID, bool)
	spare      [][]byte // tokens taken ahead of a held window (prefetch)
	fetching   bool

	requests, coverReads, coverWrites, tokensSpent, windows atomic.Int64
	batches                                                 atomic.Uint64 // numbers the batches count sees
}

// NewLayer returns a layer over store.
func NewLayer(store domain.BlobStore, cfg Config) (*Layer, error) {
	if store == nil {
		return nil, fmt.Errorf("%w: the Cloak needs a store", domain.ErrInvalidInput)
	}
	w := cfg.Window
	if w == 0 {
		w = DefaultWindow
	}
	if w < time.Second || w > MaxWindow || w%time.Second != 0 {
		return nil, fmt.Errorf("%w: window %s: want a whole number of seconds from 1s to %s", domain.ErrInvalidInput, cfg.Window, MaxWindow)
	}
	if cfg.Cover < 0 || cfg.Cover > MaxCover {
		return nil, fmt.Errorf("%w: cover %d: want 0 to %d requests per window", domain.ErrInvalidInput, cfg.Cover, MaxCover)
	}
	if cfg.Concurrency < 0 {
		return nil, fmt.Errorf("%w: concurrency %d is negative", domain.ErrInvalidInput, cfg.Concurrency)
	}
	l := &Layer{inner: store, window: w, cover: cfg.Cover, tokens: cfg.Tokens, clock: cfg.Clock, random: cfg.Random, conc: cfg.Concurrency, coverIndex: -1 << 62, countIndex: -1 << 62}
	switch cfg.Release {
	case ReleaseAuto:
		n, ok := store.(domain.Networked)
		l.hold = ok && n.Networked()
	case ReleaseAtWindow:
		l.hold = true
	case ReleaseNow:
	default:
		return nil, fmt.Errorf("%w: unknown release setting %d", domain.ErrInvalidInput, cfg.Release)
	}
	if l.clock == nil {
		l.clock = domain.SystemClock{}
	}
	if l.random == nil {
		l.random = domain.DefaultRandom()
	}
	if l.conc == 0 {
		l.conc = DefaultConcurrency
	}
	if s, ok := store.(domain.MetadataStripper); ok {
		l.inner = s.Stripped(cfg.AllowMetadata)
	}
	return l, nil
}

// Store returns the layer as a store: the one the Vault reads and writes
// through. It is a domain.Batcher, and a domain.Locker, domain.BatchSwapper or
// domain.WriteGuard when the wrapped store is one.
func (l *Layer) Store() domain.BlobStore { return l.shape(l.inner) }

// Window returns the window width.
func (l *Layer) Window() time.Duration { return l.window }

// Holds reports whether requests wait for window boundaries.
func (l *Layer) Holds() bool { return l.hold }

// SetCoverWrites gives the layer the source of its cover writes: fresh object
// ids that the Vault records and removes the way it removes its own garbage (ok
// false while the Vault is not writing). Without one, cover is reads only.
func (l *Layer) SetCoverWrites(next func() (domain.ObjectID, bool)) {
	l.mu.Lock()
	l.coverIDs = next
	l.mu.Unlock()
}

// Stats returns the running totals.
func (l *Layer) Stats() LayerStats {
	s := LayerStats{
		Requests:    l.requests.Load(),
		CoverReads:  l.coverReads.Load(),
		CoverWrites: l.coverWrites.Load(),
		TokensSpent: l.tokensSpent.Load(),
		Windows:     l.windows.Load(),
	}
	s.Cover = s.CoverReads + s.CoverWrites
	return s
}

// windowStart returns the start of the window t falls in.
func (l *Layer) windowStart(t time.Time) time.Time { return BucketTime(t, l.window) }

// index numbers the window that starts at start.
func (l *Layer) index(start time.Time) int64 { return start.Unix() / int64(l.window/time.Second) }

// Tracker counts what the layer sent for the calls made with one context.
type tracker struct {
	requests, cover, tokens, windows atomic.Int64
	mu                               sync.Mutex
	last                             int64  // index of the last window counted
	seen                             bool   // last is set
	lastBatch                        uint64 // the last batch counted (Layer.batches)
}

type trackerKey struct{}

// track returns a context whose requests the layer counts in t.
func track(ctx context.Context, t *tracker) context.Context {
	return context.WithValue(ctx, trackerKey{}, t)
}

func trackerOf(ctx context.Context) *tracker {
	t, _ := ctx.Value(trackerKey{}).(*tracker)
	return t
}

// batch counts, once per batch (id) of requests of window index that carried
// some of the caller's, the batch's cover (and its tokens) and the window.
func (t *tracker) batch(id uint64, index, cover int64, tokens bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.lastBatch == id {
		return
	}
	t.lastBatch = id
	t.cover.Add(cover)
	if tokens {
		t.tokens.Add(cover)
	}
	if !t.seen || t.last != index {
		t.seen, t.last = true, index
		t.windows.Add(1)
	}
}

// opKind is what a request does.
type opKind uint8

const (
	opGet opKind = iota
	opGetVersioned
	opPut
	opCAS
	opDelete
	opList
	opSwap        // PutBatchThenSwap, one unit
	opPutBatch    // PutBatch passed on whole (requests released at once)
	opDeleteBatch // DeleteBatch passed on whole (requests released at once)
)

func (k opKind) writes() bool { return k == opPut || k == opCAS || k == opSwap || k == opPutBatch }

// op is one request to the store, held or not.
type op struct {
	kind     opKind
	ctx      context.Context  // the caller's; never changed once held
	send     context.Context  // what the request is sent with: ctx and its token
	target   domain.BlobStore // the wrapped store (or a guarded view of it)
	id       domain.ObjectID
	data     []byte
	expected domain.Version
	objs     []domain.Object   // opSwap, opPutBatch
	ids      []domain.ObjectID // opDeleteBatch
	list     func(domain.ObjectID) error
	cover    bool
	cancel   context.CancelFunc // of a cover request's own context
	track    *tracker

	out  []byte
	ver  domain.Version
	err  error
	done chan struct{}
}

// requests is the number of store requests op stands for.
func (o *op) requests() int64 {
	switch o.kind {
	case opSwap:
		return int64(len(o.objs)) + 1
	case opPutBatch:
		return int64(len(o.objs))
	case opDeleteBatch:
		return int64(len(o.ids))
	}
	return 1
}

// submit sends o through the layer and returns when it is done, or when its
// context ends while it is still held (then it was never sent).
func (l *Layer) submit(o *op) error {
	o.track = trackerOf(o.ctx)
	if err := o.ctx.Err(); err != nil {
		return err
	}
	if !l.hold {
		return l.now(o)
	}
	o.done = make(chan struct{})
	l.mu.Lock()
	l.pending = append(l.pending, o)
	if !l.running {
		l.running = true
		go l.dispatch()
	}
	l.mu.Unlock()
	select {
	case <-o.done:
		return o.err
	case <-o.ctx.Done():
		if l.withdraw(o) {
			return o.ctx.Err()
		}
		<-o.done
		return o.err
	}
}

// withdraw removes o from the held requests; false if it is already on its way.
func (l *Layer) withdraw(o *op) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, p := range l.pending {
		if p == o {
			l.pending = append(l.pending[:i], l.pending[i+1:]...)
			return true
		}
	}
	return false
}

// dispatch releases the held requests at every window boundary until none are
// held.
func (l *Layer) dispatch() {
	for {
		now := l.clock.Now()
		next := l.windowStart(now).Add(l.window)
		t := time.NewTimer(next.Sub(now))
		l.prefetch()
		<-t.C
		l.mu.Lock()
		ops := l.pending
		l.pending = nil
		if len(ops) == 0 {
			l.running = false
			l.mu.Unlock()
			return
		}
		l.mu.Unlock()
		l.release(ops, l.windowStart(l.clock.Now()))
	}
}

// release sends the requests of one window: with their cover, shuffled, each with
// its token, dated to the window. Every op is done when it returns.
func (l *Layer) release(ops []*op, start time.Time) {
	live := ops[:0]
	for _, o := range ops {
		if err := o.ctx.Err(); err != nil {
			o.err = err
			close(o.done)
			continue
		}
		live = append(live, o)
	}
	if len(live) == 0 {
		return
	}
	batch := append(slices.Clone(live), l.coverFor(live, l.cover)...)
	if err := domain.Shuffle(l.random, len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] }); err != nil {
		l.failAll(live, fmt.Errorf("anonymize: shuffle: %w", err))
		return
	}
	actx, cancel := context.WithTimeout(context.Background(), coverTimeout)
	err := l.authorize(actx, batch)
	cancel()
	if err != nil {
		l.failAll(live, err)
		return
	}
	l.count(batch, start)
	sem := make(chan struct{}, l.conc)
	var wg sync.WaitGroup
	for _, o := range batch {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			l.exec(o, start)
		}()
	}
	wg.Wait()
	for _, o := range live {
		close(o.done)
	}
}

func (l *Layer) failAll(ops []*op, err error) {
	for _, o := range ops {
		o.err = err
		close(o.done)
	}
}

// now sends o at once. The cover a window owes goes out with its requests as
// soon as the layer has something to read or the Vault is writing: with the
// first request of the window that can take it, the rest with later ones.
func (l *Layer) now(o *op) error {
	start := l.windowStart(l.clock.Now())
	idx := l.index(start)
	var cover []*op
	if l.cover > 0 {
		l.mu.Lock()
		if idx != l.coverIndex {
			l.coverIndex, l.coverSent = idx, 0
		}
		owed := l.cover - l.coverSent
		l.mu.Unlock()
		if owed > 0 {
			cover = l.coverFor([]*op{o}, owed)
			l.mu.Lock()
			if idx == l.coverIndex {
				l.coverSent += len(cover)
			}
			l.mu.Unlock()
		}
	}
	batch := append([]*op{o}, cover...)
	if err := l.authorize(o.ctx, batch); err != nil {
		return err
	}
	l.count(batch, start)
	if len(cover) == 0 {
		l.exec(o, start)
		return o.err
	}
	if err := domain.Shuffle(l.random, len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] }); err != nil {
		return fmt.Errorf("anonymize: shuffle: %w", err)
	}
	var wg sync.WaitGroup
	for _, c := range batch {
		wg.Add(1)
		go func() { defer wg.Done(); l.exec(c, start) }()
	}
	wg.Wait()
	return o.err
}

// count adds a batch of requests that leave together (a window's, or one
// request and its cover) to the totals and to their callers'.
func (l *Layer) count(batch []*op, start time.Time) {
	idx := l.index(start)
	var real, cover int64
	for _, o := range batch {
		if o.cover {
			cover++
		} else {
			real += o.requests()
		}
	}
	tokens := l.tokens != nil
	l.requests.Add(real)
	l.mu.Lock()
	if idx != l.countIndex {
		l.countIndex = idx
		l.windows.Add(1)
	}
	l.mu.Unlock()
	id := l.batches.Add(1)
	for _, o := range batch {
		if o.track == nil || o.cover {
			continue
		}
		o.track.requests.Add(o.requests())
		if tokens {
			o.track.tokens.Add(1)
		}
		o.track.batch(id, idx, cover, tokens)
	}
	if tokens {
		l.tokensSpent.Add(int64(len(batch)))
	}
}

// prefetch takes one token ahead of a held window, in the background, so that a
// source that fetches lazily (a Privacy Pass pool that is empty) fetches before
// the boundary and the window's requests are not late.
func (l *Layer) prefetch() {
	if l.tokens == nil {
		return
	}
	l.mu.Lock()
	busy := len(l.spare) > 0 || l.fetching
	l.fetching = true
	l.mu.Unlock()
	if busy {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), coverTimeout)
		defer cancel()
		tok, err := l.tokens.Token(ctx)
		l.mu.Lock()
		defer l.mu.Unlock()
		l.fetching = false
		if err == nil && len(tok) > 0 {
			l.spare = append(l.spare, tok)
		}
	}()
}

// authorize attaches one token to every request of batch: a token taken ahead
// first (prefetch), the rest from the source.
func (l *Layer) authorize(ctx context.Context, batch []*op) error {
	if l.tokens == nil {
		return nil
	}
	l.mu.Lock()
	n := min(len(l.spare), len(batch))
	toks := append([][]byte{}, l.spare[:n]...)
	l.spare = l.spare[n:]
	l.mu.Unlock()
	if rest := len(batch) - n; rest > 1 {
		if bs, ok := l.tokens.(BatchTokenSource); ok {
			more, err := bs.Tokens(ctx, rest)
			if err != nil {
				return fmt.Errorf("anonymize: authorize: %w", err)
			}
			if len(more) != rest {
				return fmt.Errorf("anonymize: authorize: the token source gave %d tokens for %d requests", len(more), rest)
			}
			toks = append(toks, more...)
		}
	}
	for len(toks) < len(batch) {
		t, err := l.tokens.Token(ctx)
		if err != nil {
			return fmt.Errorf("anonymize: authorize: %w", err)
		}
		toks = append(toks, t)
	}
	seen := make(map[string]bool, len(toks))
	for i, o := range batch {
		if len(toks[i]) == 0 || seen[string(toks[i])] {
			return errors.New("anonymize: authorize: the token source gave an empty or repeated token")
		}
		seen[string(toks[i])] = true
		o.send = domain.WithToken(o.ctx, toks[i])
	}
	return nil
}

// exec sends one request to the store, dated to the window that starts at start,
// and learns from the answer which objects exist.
func (l *Layer) exec(o *op, start time.Time) {
	s := o.target
	if d, ok := s.(domain.Dater); ok {
		s = d.Dated(start)
	}
	ctx := o.send
	if ctx == nil {
		ctx = o.ctx
	}
	if o.cancel != nil {
		defer o.cancel()
	}
	switch o.kind {
	case opGet:
		o.out, o.err = s.Get(ctx, o.id)
	case opGetVersioned:
		o.out, o.ver, o.err = s.GetVersioned(ctx, o.id)
	case opPut:
		o.err = s.Put(ctx, o.id, o.data)
	case opCAS:
		o.ver, o.err = s.CompareAndSwap(ctx, o.id, o.expected, o.data)
	case opDelete:
		o.err = s.Delete(ctx, o.id)
	case opList:
		o.err = s.List(ctx, o.list)
	case opSwap:
		sw, ok := s.(domain.BatchSwapper)
		if !ok {
			o.err = fmt.Errorf("anonymize: the store cannot swap after a batch: %w", errors.ErrUnsupported)
			return
		}
		o.ver, o.err = sw.PutBatchThenSwap(ctx, o.objs, o.id, o.expected, o.data)
	case opPutBatch:
		o.err = s.(domain.Batcher).PutBatch(ctx, o.objs)
	case opDeleteBatch:
		o.err = s.(domain.Batcher).DeleteBatch(ctx, o.ids)
	}
	if o.cover {
		return
	}
	switch {
	case o.kind == opDelete:
		l.forget(o.id)
	case o.kind == opDeleteBatch:
		l.forget(o.ids...)
	case o.err == nil && (o.kind == opSwap || o.kind == opPutBatch):
		for _, ob := range o.objs {
			l.learn(ob.ID)
		}
		if o.kind == opSwap {
			l.learn(o.id)
		}
	case o.err == nil && o.kind != opList && o.kind != opPutBatch:
		l.learn(o.id)
	case errors.Is(o.err, domain.ErrNotFound):
		l.forget(o.id)
	}
}

func (l *Layer) learn(id domain.ObjectID) {
	l.mu.Lock()
	l.known.add(id, l.random)
	l.mu.Unlock()
}

func (l *Layer) forget(ids ...domain.ObjectID) {
	l.mu.Lock()
	for _, id := range ids {
		l.known.remove(id)
	}
	l.mu.Unlock()
}

// coverFor returns the cover requests that go out with real: each mimics a real
// request of the window picked at random. A write is mimicked by a write of the
// same size under a fresh id of the Vault's when the Vault is writing; anything
// else by a read of an object the layer has seen exist that no real request of
// the window names. A window with nothing to read carries fewer.
func (l *Layer) coverFor(real []*op, n int) []*op {
	if n <= 0 {
		return nil
	}
	// Cover never reads what a real request of the window names (it may be
	// removed in the same window), and reads an object twice only when the layer
	// knows too few.
	busy := make(map[domain.ObjectID]bool, len(real))
	for _, o := range real {
		busy[o.id] = true
		for _, ob := range o.objs {
			busy[ob.ID] = true
		}
		for _, id := range o.ids {
			busy[id] = true
		}
	}
	picked := make(map[domain.ObjectID]bool, n)
	var out []*op
	for range n {
		j, err := domain.UniformInt(l.random, uint64(len(real)))
		if err != nil {
			break
		}
		model := real[j]
		if model.kind.writes() {
			if c := l.coverWrite(model); c != nil {
				out = append(out, c)
				l.coverWrites.Add(1)
				continue
			}
		}
		if c := l.coverRead(model, busy, picked); c != nil {
			out = append(out, c)
			picked[c.id] = true
			l.coverReads.Add(1)
			continue
		}
		if c := l.coverWrite(model); c != nil {
			out = append(out, c)
			l.coverWrites.Add(1)
		}
	}
	return out
}

// coverTimeout bounds a cover request.
const coverTimeout = time.Minute

func (l *Layer) coverWrite(model *op) *op {
	l.mu.Lock()
	next := l.coverIDs
	l.mu.Unlock()
	if next == nil || !model.kind.writes() {
		return nil
	}
	id, ok := next()
	if !ok {
		return nil
	}
	size := len(model.data)
	if len(model.objs) > 0 {
		j, err := domain.UniformInt(l.random, uint64(len(model.objs)))
		if err != nil {
			return nil
		}
		size = len(model.objs[j].Data)
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(l.random, data); err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), coverTimeout)
	return &op{kind: opPut, ctx: ctx, cancel: cancel, target: model.target, id: id, data: data, cover: true}
}

func (l *Layer) coverRead(model *op, busy, picked map[domain.ObjectID]bool) *op {
	l.mu.Lock()
	id, ok := l.known.pick(l.random, busy, picked)
	l.mu.Unlock()
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), coverTimeout)
	return &op{kind: opGet, ctx: ctx, cancel: cancel, target: model.target, id: id, cover: true}
}

// maxKnown bounds the ids the layer remembers for cover reads.
const maxKnown = 1 << 14

// idSet is a set of object ids with uniform random picks.
type idSet struct {
	ids   []domain.ObjectID
	index map[domain.ObjectID]int
}

func (s *idSet) add(id domain.ObjectID, r domain.Random) {
	if s.index == nil {
		s.index = make(map[domain.ObjectID]int)
	}
	if _, ok := s.index[id]; ok {
		return
	}
	if len(s.ids) >= maxKnown {
		j, err := domain.UniformInt(r, uint64(len(s.ids)))
		if err != nil {
			return
		}
		s.remove(s.ids[j])
	}
	s.index[id] = len(s.ids)
	s.ids = append(s.ids, id)
}

func (s *idSet) remove(id domain.ObjectID) {
	i, ok := s.index[id]
	if !ok {
		return
	}
	last := len(s.ids) - 1
	s.ids[i] = s.ids[last]
	s.index[s.ids[i]] = i
	s.ids = s.ids[:last]
	delete(s.index, id)
}

// pick returns a random id in neither never nor avoid, else one not in never.
func (s *idSet) pick(r domain.Random, never, avoid map[domain.ObjectID]bool) (domain.ObjectID, bool) {
	var fallback []int
	for _, i := range s.perm(r) {
		id := s.ids[i]
		switch {
		case never[id]:
		case !avoid[id]:
			return id, true
		default:
			fallback = append(fallback, i)
		}
	}
	if len(fallback) == 0 {
		return domain.ObjectID{}, false
	}
	return s.ids[fallback[0]], true
}

// perm returns up to 32 distinct random indices of ids.
func (s *idSet) perm(r domain.Random) []int {
	n := len(s.ids)
	if n == 0 {
		return nil
	}
	if n <= 32 {
		p, err := domain.Permutation(r, n)
		if err != nil {
			return nil
		}
		return p
	}
	out := make([]int, 0, 32)
	for range 32 {
		j, err := domain.UniformInt(r, uint64(n))
		if err != nil {
			break
		}
		out = append(out, int(j))
	}
	return out
}

// BucketTime rounds t down to a multiple of window since the Unix epoch and
// returns it in UTC without a monotonic reading; times before the epoch round
// towards the past as well. A window that is not positive returns t in UTC.
func BucketTime(t time.Time, window time.Duration) time.Time {
	if window <= 0 {
		return t.UTC().Round(0)
	}
	ns := t.UnixNano() // exact from 1678 to 2262
	r := ns % int64(window)
	if r < 0 {
		r += int64(window)
	}
	return time.Unix(0, ns-r).UTC()
}
