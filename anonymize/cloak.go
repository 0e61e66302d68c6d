package anonymize

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/vault"
)

// Config configures a Cloak.
type Config struct {
	// Vault stores the data. Required.
	Vault *vault.Vault
	// Padding is the policy the Pad stage plans with; nil means the Vault's own
	// (Vault.Padding), which is what it should be.
	Padding domain.PaddingPolicy
	// Overhead is the AEAD overhead of the Vault's crypto; 0 means DefaultOverhead.
	Overhead int
	// Clock dates requests; nil means domain.SystemClock.
	Clock domain.Clock
	// TimestampWindow is the BucketTimestamp window; 0 means 10 s.
	TimestampWindow time.Duration
	// AllowMetadata is the StripMetadata allow-list; nil means DefaultAllowedMetadata.
	AllowMetadata []string
	// Tokens issues privacy tokens. Required. If it also implements Redeemer
	// (domain.Redeemer), the Cloak redeems every token before storing, as an
	// origin would; crypto/hmactoken's Issuer is both, for a local store.
	Tokens TokenSource
	// Chaff is the number of dummy requests added to every batch (0: none).
	Chaff int
	// Random is the source of the shuffle and of chaff; nil means crypto/rand.
	Random domain.Random
	// Pipeline replaces the default pipeline when set. It must keep every
	// request's category and payload, and attach a PadPlan and a token to each.
	Pipeline Stage
}

// Cloak is the request-anonymization service in front of a Vault. It is safe for
// concurrent use.
type Cloak struct {
	vault    *vault.Vault
	pipeline Stage
	stream   Stage // for Put: a single streamed request
	planner  Planner
	tokens   TokenSource
	clock    domain.Clock
	random   domain.Random

	mu    sync.Mutex
	stats Stats
}

// New returns a Cloak over cfg.Vault. The default pipeline is StripMetadata,
// BucketTimestamp, Chaff (when cfg.Chaff > 0), Pad, Shuffle, Authorize.
func New(cfg Config) (*Cloak, error) {
	if cfg.Vault == nil {
		return nil, fmt.Errorf("%w: the Cloak needs a Vault", domain.ErrInvalidInput)
	}
	if cfg.Chaff < 0 || cfg.Chaff > MaxChaff {
		return nil, fmt.Errorf("%w: chaff count %d is outside [0, %d]", domain.ErrInvalidInput, cfg.Chaff, MaxChaff)
	}
	policy := cfg.Padding
	if policy == nil {
		policy = cfg.Vault.Padding()
	}
	c := &Cloak{vault: cfg.Vault, planner: Planner{Policy: policy, Overhead: cfg.Overhead}, tokens: cfg.Tokens, clock: cfg.Clock, random: cfg.Random}
	if c.clock == nil {
		c.clock = domain.SystemClock{}
	}
	if c.tokens == nil {
		return nil, fmt.Errorf("%w: the Cloak needs a token source", domain.ErrInvalidInput)
	}
	// A streamed request has no payload in memory to plan, pad or shuffle with
	// others: it is stripped, dated and authorized; the Vault pads its chunks.
	c.stream = NewPipeline(
		StripMetadata{Allow: cfg.AllowMetadata},
		BucketTimestamp{Window: cfg.TimestampWindow, Clock: c.clock},
		Authorize{Source: c.tokens},
	)
	c.pipeline = cfg.Pipeline
	if c.pipeline == nil {
		var chaff Stage
		if cfg.Chaff > 0 {
			chaff = Chaff{K: cfg.Chaff, Random: cfg.Random}
		}
		c.pipeline = NewPipeline(
			StripMetadata{Allow: cfg.AllowMetadata},
			BucketTimestamp{Window: cfg.TimestampWindow, Clock: c.clock},
			chaff,
			Pad{c.planner},
			Shuffle{Random: cfg.Random},
			Authorize{Source: c.tokens},
		)
	}
	return c, nil
}

// Tokens returns the Cloak's token source.
func (c *Cloak) Tokens() TokenSource { return c.tokens }

// CategoryReport is what the Cloak did with one category.
type CategoryReport struct {
	// PlaintextBytes is the payload length.
	PlaintextBytes int `json:"plaintext_bytes"`
	// PaddedBytes is the padded plaintext that was encrypted: the frames of all
	// chunks (length prefix, payload, zero padding, empty padding chunks).
	PaddedBytes int `json:"padded_bytes"`
	// StoredBytes is what the store holds for the category: its objects' sizes,
	// which are PaddedBytes plus the AEAD overhead of every chunk.
	StoredBytes int `json:"stored_bytes"`
	// MetadataStripped lists, sorted, the metadata fields StripMetadata removed.
	MetadataStripped []string `json:"metadata_stripped"`
}

// Report describes one Cloak.Store. It names categories, so it stays on the
// trusted side. Dummy (chaff) requests are not listed.
type Report struct {
	Categories          map[string]CategoryReport `json:"categories"`
	TotalPlaintextBytes int64                     `json:"total_plaintext_bytes"`
	TotalPaddedBytes    int64                     `json:"total_padded_bytes"`
	TotalEncryptedBytes int64                     `json:"total_encrypted_bytes"`
	TokensUsed          int                       `json:"tokens_used"`
	// ShuffleOrder lists the categories in the order their first object was
	// written to the store.
	ShuffleOrder []string `json:"shuffle_order"`
	// Chaff is the number of dummy requests stored with the batch.
	Chaff int `json:"chaff"`
	// Objects is the number of data objects written.
	Objects int `json:"objects"`
}

// Stats are the Cloak's running totals.
type Stats struct {
	RequestsProcessed      int64   `json:"requests_processed"`
	CategoriesStored       int64   `json:"categories_stored"`
	CategoriesLoaded       int64   `json:"categories_loaded"`
	ChaffStored            int64   `json:"chaff_stored"`
	BytesBeforePadding     int64   `json:"bytes_before_padding"`
	BytesAfterPadding      int64   `json:"bytes_after_padding"`
	PaddingOverheadPercent float64 `json:"padding_overhead_percent"`
	TokensIssued           int64   `json:"tokens_issued"`
	TokensSpent            int64   `json:"tokens_spent"`
}

// Store stores every category of data in one batch: one manifest commit, all or
// nothing.
func (c *Cloak) Store(ctx context.Context, data map[string][]byte) (Report, error) {
	if len(data) == 0 {
		return Report{}, fmt.Errorf("%w: nothing to store", domain.ErrInvalidInput)
	}
	b := make(Batch, 0, len(data))
	for _, name := range slices.Sorted(maps.Keys(data)) {
		b = append(b, Request{Category: name, Payload: data[name], Metadata: map[string]string{"action": "store"}})
	}
	return c.StoreBatch(ctx, b)
}

// StoreJSON stores the JSON encoding of every value (encoding/json).
func (c *Cloak) StoreJSON(ctx context.Context, data map[string]any) (Report, error) {
	raw := make(map[string][]byte, len(data))
	for name, v := range data {
		b, err := json.Marshal(v)
		if err != nil {
			return Report{}, fmt.Errorf("%w: category %q: %v", domain.ErrInvalidInput, name, err)
		}
		raw[name] = b
	}
	return c.Store(ctx, raw)
}

// StoreBatch runs b through the pipeline and stores the result with one manifest
// commit. If anything fails, nothing is stored.
func (c *Cloak) StoreBatch(ctx context.Context, b Batch) (Report, error) {
	if err := Validate(b); err != nil {
		return Report{}, err
	}
	for i, r := range b {
		if r.Chaff {
			return Report{}, fmt.Errorf("%w: request %d is marked as chaff; only the Chaff stage makes chaff", domain.ErrInvalidInput, i)
		}
	}
	out, err := c.pipeline.Apply(ctx, b)
	if err != nil {
		return Report{}, err
	}
	if err := checkPipelineOutput(b, out); err != nil {
		return Report{}, err
	}
	if err := c.redeem(ctx, out); err != nil {
		return Report{}, err
	}
	items := make([]vault.BatchItem, len(out))
	for i, r := range out {
		items[i] = vault.BatchItem{Category: r.Category, Data: r.Payload}
	}
	res, err := c.vault.StoreBatch(ctx, items)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Categories: make(map[string]CategoryReport, len(b)), TokensUsed: len(out), Objects: len(res.WriteOrder)}
	var before, after int64
	for i, r := range out {
		got := res.Items[i]
		if got.Objects != r.Plan.Chunks || int(got.StoredBytes) != r.Plan.StoredBytes {
			// The Vault's padding policy or AEAD differs from the Cloak's configuration.
			return rep, fmt.Errorf("anonymize: the batch was stored, but category %q became %d objects of %d bytes in all where %d of %d were planned: the Cloak's Padding/Overhead do not match the Vault's",
				r.Category, got.Objects, got.StoredBytes, r.Plan.Chunks, r.Plan.StoredBytes)
		}
		before += int64(len(r.Payload))
		after += int64(r.Plan.PaddedBytes)
		if r.Chaff {
			rep.Chaff++
			continue
		}
		rep.Categories[r.Category] = CategoryReport{
			PlaintextBytes:   len(r.Payload),
			PaddedBytes:      r.Plan.PaddedBytes,
			StoredBytes:      int(got.StoredBytes),
			MetadataStripped: append([]string{}, r.Stripped...),
		}
		rep.TotalPlaintextBytes += int64(len(r.Payload))
		rep.TotalPaddedBytes += int64(r.Plan.PaddedBytes)
		rep.TotalEncryptedBytes += int64(got.StoredBytes)
	}
	seen := make([]bool, len(out))
	for _, i := range res.WriteOrder {
		if !seen[i] {
			seen[i] = true
			if !out[i].Chaff {
				rep.ShuffleOrder = append(rep.ShuffleOrder, out[i].Category)
			}
		}
	}
	c.mu.Lock()
	c.stats.RequestsProcessed += int64(len(out))
	c.stats.CategoriesStored += int64(len(out) - rep.Chaff)
	c.stats.ChaffStored += int64(rep.Chaff)
	c.stats.BytesBeforePadding += before
	c.stats.BytesAfterPadding += after
	c.stats.TokensIssued += int64(len(out))
	c.stats.TokensSpent += int64(len(out))
	c.mu.Unlock()
	return rep, nil
}

// Put streams everything read from r into category through the Cloak: the
// request is stripped of metadata, dated to the timestamp window and authorized
// with one token, then the Vault seals and pads it chunk by chunk, so a payload of
// any size (several GiB) is never held whole in memory. metadata is what a
// transport would send with the request (nil: none but the action).
func (c *Cloak) Put(ctx context.Context, category string, r io.Reader, metadata map[string]string) (Report, error) {
	md := map[string]string{"action": "put"}
	maps.Copy(md, metadata)
	b := Batch{{Category: category, Metadata: md}}
	if err := Validate(b); err != nil {
		return Report{}, err
	}
	out, err := c.stream.Apply(ctx, b)
	if err != nil {
		return Report{}, err
	}
	if len(out) != 1 || out[0].Category != category || len(out[0].Token) == 0 {
		return Report{}, fmt.Errorf("anonymize: the streaming pipeline changed or did not authorize the request")
	}
	if err := c.redeem(ctx, out); err != nil {
		return Report{}, err
	}
	res, err := c.vault.Stream(ctx, category, r)
	if err != nil {
		return Report{}, err
	}
	padded := int64(res.StoredBytes) - int64(res.Objects*c.planner.overhead())
	rep := Report{
		Categories: map[string]CategoryReport{category: {
			PlaintextBytes:   int(res.PlaintextBytes),
			PaddedBytes:      int(padded),
			StoredBytes:      int(res.StoredBytes),
			MetadataStripped: append([]string{}, out[0].Stripped...),
		}},
		TotalPlaintextBytes: int64(res.PlaintextBytes),
		TotalPaddedBytes:    padded,
		TotalEncryptedBytes: int64(res.StoredBytes),
		TokensUsed:          1,
		ShuffleOrder:        []string{category},
		Objects:             res.Objects,
	}
	c.mu.Lock()
	c.stats.RequestsProcessed++
	c.stats.CategoriesStored++
	c.stats.BytesBeforePadding += int64(res.PlaintextBytes)
	c.stats.BytesAfterPadding += padded
	c.stats.TokensIssued++
	c.stats.TokensSpent++
	c.mu.Unlock()
	return rep, nil
}

// Get streams the content of category to w. The Vault fetches its objects in a
// random order within windows of a few chunks and writes them in order.
func (c *Cloak) Get(ctx context.Context, category string, w io.Writer) error {
	if err := c.vault.Get(ctx, category, w); err != nil {
		return err
	}
	c.mu.Lock()
	c.stats.CategoriesLoaded++
	c.mu.Unlock()
	return nil
}

// redeem spends every request's token at the token source's own origin side
// (when the source is a Redeemer), as a server would before accepting a request.
// A source that is not one is trusted as is.
func (c *Cloak) redeem(ctx context.Context, b Batch) error {
	for i, r := range b {
		var err error
		if v, ok := c.tokens.(Redeemer); ok {
			err = v.Redeem(ctx, r.Token)
		}
		if err != nil {
			return fmt.Errorf("anonymize: request %d: %w", i, err)
		}
	}
	return nil
}

// checkPipelineOutput makes sure a pipeline kept every request, added only
// chaff, and planned and authorized every request.
func checkPipelineOutput(in, out Batch) error {
	want := make(map[string]int, len(in))
	for _, r := range in {
		want[r.Category] = len(r.Payload)
	}
	if err := Validate(out); err != nil {
		return fmt.Errorf("anonymize: pipeline output: %w", err)
	}
	kept := 0
	for _, r := range out {
		n, ok := want[r.Category]
		switch {
		case !ok && !r.Chaff:
			return fmt.Errorf("anonymize: pipeline added request %q that is not chaff", r.Category)
		case r.Chaff && !IsChaff(r.Category):
			return fmt.Errorf("anonymize: pipeline marked request %q as chaff outside the reserved names", r.Category)
		case ok && (r.Chaff || n != len(r.Payload)):
			return fmt.Errorf("anonymize: pipeline changed request %q", r.Category)
		case r.Plan == nil || r.Plan.PlaintextBytes != len(r.Payload):
			return fmt.Errorf("anonymize: pipeline left request %q without a padding plan", r.Category)
		case len(r.Token) == 0:
			return fmt.Errorf("anonymize: pipeline left request %q without a token", r.Category)
		}
		if ok {
			kept++
		}
	}
	if kept != len(in) {
		return fmt.Errorf("anonymize: pipeline dropped %d requests", len(in)-kept)
	}
	return nil
}

// Load returns the content of one category.
func (c *Cloak) Load(ctx context.Context, category string) ([]byte, error) {
	b, err := c.vault.Load(ctx, category)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.stats.CategoriesLoaded++
	c.mu.Unlock()
	return b, nil
}

// LoadAll returns every category except chaff.
func (c *Cloak) LoadAll(ctx context.Context) (map[string][]byte, error) {
	names, err := c.vault.Categories(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(names))
	// Read in a random order: the sequence of requests must not follow the names.
	order, err := domain.Permutation(c.random, len(names))
	if err != nil {
		return nil, err
	}
	for _, k := range order {
		name := names[k]
		if IsChaff(name) {
			continue
		}
		b, err := c.vault.Load(ctx, name)
		if err != nil {
			return nil, err
		}
		out[name] = b
	}
	c.mu.Lock()
	c.stats.CategoriesLoaded += int64(len(out))
	c.mu.Unlock()
	return out, nil
}

// Verification results of VerifyAll.
const (
	Pass = "PASS"
	Fail = "FAIL"
)

// VerifyAll checks every category of expected against the vault: Pass when it
// holds exactly those bytes, Fail otherwise (also when it is missing or does not
// authenticate). The comparison is of SHA-256 digests in constant time.
func (c *Cloak) VerifyAll(ctx context.Context, expected map[string][]byte) map[string]string {
	out := make(map[string]string, len(expected))
	for name, want := range expected {
		ok, err := c.vault.Verify(ctx, name, want)
		if err == nil && ok {
			out[name] = Pass
		} else {
			out[name] = Fail
		}
	}
	return out
}

// PurgeChaff deletes every dummy category from the vault and returns how many it
// deleted.
func (c *Cloak) PurgeChaff(ctx context.Context) (int, error) {
	names, err := c.vault.Categories(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, name := range names {
		if !IsChaff(name) {
			continue
		}
		if err := c.vault.Delete(ctx, name); err != nil && !errors.Is(err, domain.ErrNotFound) {
			return n, err
		}
		n++
	}
	return n, nil
}

// tokenCounter is a token source that counts what it issued and accepted
// (crypto/hmactoken's Issuer does).
type tokenCounter interface {
	Issued() uint64
	Spent() uint64
}

// Stats returns the running totals. Token counts come from the token source when
// it keeps them.
func (c *Cloak) Stats() Stats {
	c.mu.Lock()
	s := c.stats
	c.mu.Unlock()
	if h, ok := c.tokens.(tokenCounter); ok {
		s.TokensIssued, s.TokensSpent = int64(h.Issued()), int64(h.Spent())
	}
	if s.BytesBeforePadding > 0 {
		s.PaddingOverheadPercent = 100 * float64(s.BytesAfterPadding-s.BytesBeforePadding) / float64(s.BytesBeforePadding)
	}
	return s
}
