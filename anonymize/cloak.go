package anonymize

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/vault"
)

// Cloak is a Vault that reads and writes through a Layer: the Vault seals, pads
// and orders the objects of every operation, the Layer decides what leaves when,
// with what and with which token. Its reports count what was actually sent. It
// is safe for concurrent use.
type Cloak struct {
	vault *vault.Vault
	layer *Layer

	mu     sync.Mutex
	totals Stats
}

// Open opens the vault of vcfg through a new Layer over vcfg.Store.
func Open(ctx context.Context, vcfg vault.Config, passphrase []byte, cfg Config) (*Cloak, error) {
	return open(ctx, vcfg, cfg, func(vc vault.Config) (*vault.Vault, error) { return vault.Open(ctx, vc, passphrase) })
}

// Create creates the vault of vcfg through a new Layer over vcfg.Store.
func Create(ctx context.Context, vcfg vault.Config, passphrase []byte, cfg Config) (*Cloak, error) {
	return open(ctx, vcfg, cfg, func(vc vault.Config) (*vault.Vault, error) { return vault.Create(ctx, vc, passphrase) })
}

func open(ctx context.Context, vcfg vault.Config, cfg Config, openVault func(vault.Config) (*vault.Vault, error)) (*Cloak, error) {
	l, err := NewLayer(vcfg.Store, cfg)
	if err != nil {
		return nil, err
	}
	vcfg.Store = l.Store()
	v, err := openVault(vcfg)
	if err != nil {
		return nil, err
	}
	l.SetCoverWrites(v.CoverID)
	return &Cloak{vault: v, layer: l}, nil
}

// Vault returns the Vault behind the Cloak. Everything it does goes through the
// Layer too.
func (c *Cloak) Vault() *vault.Vault { return c.vault }

// Layer returns the Cloak's request layer.
func (c *Cloak) Layer() *Layer { return c.layer }

// Close closes the Vault (its keys are destroyed).
func (c *Cloak) Close() error { return c.vault.Close() }

// CategoryReport is what the Vault stored for one category.
type CategoryReport struct {
	// PlaintextBytes is the payload length.
	PlaintextBytes int `json:"plaintext_bytes"`
	// PaddedBytes is the padded plaintext that was encrypted: the frames of all
	// chunks (length prefix, payload, zero padding, empty padding chunks).
	PaddedBytes int `json:"padded_bytes"`
	// StoredBytes is what the store holds for the category: its objects' sizes.
	StoredBytes int `json:"stored_bytes"`
}

// Report describes one Cloak.Store or Put. It names categories, so it stays on
// the trusted side.
type Report struct {
	Categories          map[string]CategoryReport `json:"categories"`
	TotalPlaintextBytes int64                     `json:"total_plaintext_bytes"`
	TotalPaddedBytes    int64                     `json:"total_padded_bytes"`
	TotalEncryptedBytes int64                     `json:"total_encrypted_bytes"`
	// Objects is the number of data objects written.
	Objects int `json:"objects"`
	// ShuffleOrder lists the categories in the order their first object was handed
	// to the store.
	ShuffleOrder []string `json:"shuffle_order"`
	// Requests is the number of requests the store received for this call: data,
	// manifest and header objects, reads, removals. Cover is not counted.
	Requests int `json:"requests"`
	// Cover is the number of cover requests that went out together with this
	// call's requests (a window's cover may also have gone out with another
	// call's requests of the same window).
	Cover int `json:"cover_requests"`
	// TokensUsed is the number of tokens this call's requests and their cover
	// spent: Requests + Cover on a store that takes tokens, 0 on one that does not.
	TokensUsed int `json:"tokens_used"`
	// Windows is the number of time windows this call's requests went out in.
	Windows int `json:"windows"`
}

// Stats are the Cloak's running totals: the Layer's (what was sent) and the
// Vault calls made through the Cloak.
type Stats struct {
	LayerStats
	CategoriesStored       int64   `json:"categories_stored"`
	CategoriesLoaded       int64   `json:"categories_loaded"`
	BytesBeforePadding     int64   `json:"bytes_before_padding"`
	BytesAfterPadding      int64   `json:"bytes_after_padding"`
	PaddingOverheadPercent float64 `json:"padding_overhead_percent"`
}

// Stats returns the running totals.
func (c *Cloak) Stats() Stats {
	c.mu.Lock()
	s := c.totals
	c.mu.Unlock()
	s.LayerStats = c.layer.Stats()
	if s.BytesBeforePadding > 0 {
		s.PaddingOverheadPercent = 100 * float64(s.BytesAfterPadding-s.BytesBeforePadding) / float64(s.BytesBeforePadding)
	}
	return s
}

// ChaffPrefix starts the category names of the dummy categories that releases
// before v0.3 stored. They are hidden from LoadAll; PurgeChaff removes them.
const ChaffPrefix = "aegis:chaff/"

// IsChaff reports whether category is the name of such a dummy.
func IsChaff(category string) bool { return strings.HasPrefix(category, ChaffPrefix) }

// Store stores every category of data in one batch: one manifest commit, all or
// nothing.
func (c *Cloak) Store(ctx context.Context, data map[string][]byte) (Report, error) {
	if len(data) == 0 {
		return Report{}, fmt.Errorf("%w: nothing to store", domain.ErrInvalidInput)
	}
	items := make([]vault.BatchItem, 0, len(data))
	for _, name := range slices.Sorted(maps.Keys(data)) {
		if IsChaff(name) {
			return Report{}, fmt.Errorf("%w: category names starting with %q are reserved", domain.ErrInvalidInput, ChaffPrefix)
		}
		items = append(items, vault.BatchItem{Category: name, Data: data[name]})
	}
	t := new(tracker)
	res, err := c.vault.StoreBatch(track(ctx, t), items)
	if err != nil {
		return Report{}, err
	}
	rep := t.report()
	rep.Categories = make(map[string]CategoryReport, len(items))
	for _, r := range res.Items {
		rep.add(r)
	}
	seen := make([]bool, len(items))
	for _, i := range res.WriteOrder {
		if !seen[i] {
			seen[i] = true
			rep.ShuffleOrder = append(rep.ShuffleOrder, items[i].Category)
		}
	}
	c.stored(rep)
	return rep, nil
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

// Put streams everything read from r into category: the Vault seals and pads it
// chunk by chunk, so a payload of any size is never held whole in memory.
func (c *Cloak) Put(ctx context.Context, category string, r io.Reader) (Report, error) {
	if IsChaff(category) {
		return Report{}, fmt.Errorf("%w: category names starting with %q are reserved", domain.ErrInvalidInput, ChaffPrefix)
	}
	t := new(tracker)
	res, err := c.vault.Stream(track(ctx, t), category, r)
	if err != nil {
		return Report{}, err
	}
	rep := t.report()
	rep.Categories = make(map[string]CategoryReport, 1)
	rep.add(res)
	rep.ShuffleOrder = []string{category}
	c.stored(rep)
	return rep, nil
}

func (r *Report) add(res vault.BatchItemResult) {
	r.Categories[res.Category] = CategoryReport{
		PlaintextBytes: int(res.PlaintextBytes),
		PaddedBytes:    int(res.PaddedBytes),
		StoredBytes:    int(res.StoredBytes),
	}
	r.TotalPlaintextBytes += int64(res.PlaintextBytes)
	r.TotalPaddedBytes += int64(res.PaddedBytes)
	r.TotalEncryptedBytes += int64(res.StoredBytes)
	r.Objects += res.Objects
}

func (t *tracker) report() Report {
	return Report{
		Requests:   int(t.requests.Load()),
		Cover:      int(t.cover.Load()),
		TokensUsed: int(t.tokens.Load()),
		Windows:    int(t.windows.Load()),
	}
}

func (c *Cloak) stored(rep Report) {
	c.mu.Lock()
	c.totals.CategoriesStored += int64(len(rep.Categories))
	c.totals.BytesBeforePadding += rep.TotalPlaintextBytes
	c.totals.BytesAfterPadding += rep.TotalPaddedBytes
	c.mu.Unlock()
}

func (c *Cloak) loaded(n int) {
	c.mu.Lock()
	c.totals.CategoriesLoaded += int64(n)
	c.mu.Unlock()
}

// Get streams the content of category to w.
func (c *Cloak) Get(ctx context.Context, category string, w io.Writer) error {
	if err := c.vault.Get(ctx, category, w); err != nil {
		return err
	}
	c.loaded(1)
	return nil
}

// Load returns the content of one category.
func (c *Cloak) Load(ctx context.Context, category string) ([]byte, error) {
	b, err := c.vault.Load(ctx, category)
	if err != nil {
		return nil, err
	}
	c.loaded(1)
	return b, nil
}

// LoadAll returns every category, read in a random order.
func (c *Cloak) LoadAll(ctx context.Context) (map[string][]byte, error) {
	names, err := c.vault.Categories(ctx)
	if err != nil {
		return nil, err
	}
	names = slices.DeleteFunc(names, IsChaff)
	order, err := domain.Permutation(c.layer.random, len(names))
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(names))
	for _, k := range order {
		b, err := c.vault.Load(ctx, names[k])
		if err != nil {
			return nil, err
		}
		out[names[k]] = b
	}
	c.loaded(len(out))
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

// PurgeChaff deletes the dummy categories that releases before v0.3 stored and
// returns how many it deleted.
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
