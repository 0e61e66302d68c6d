package vault

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/ai-pantheon/aegis/domain"
)

func notFound(category string) error {
	return fmt.Errorf("aegis: category %q: %w", category, domain.ErrNotFound)
}

// nextEntry returns the entry a write of category produces: the next version under
// the same key, or a new slot and key for a new category.
func (v *Vault) nextEntry(category string, base *entry) (*entry, domain.DEK, error) {
	if base != nil {
		d, err := v.dek(base)
		if err != nil {
			return nil, nil, err
		}
		e := *base
		e.version++
		e.chunks = nil
		e.size = 0
		return &e, d, nil
	}
	e := &entry{name: category, generation: 1, version: 1}
	if _, err := io.ReadFull(v.random, e.slot[:]); err != nil {
		return nil, nil, fmt.Errorf("aegis: randomness: %w", err)
	}
	d, err := v.crypto.NewDEK()
	if err != nil {
		return nil, nil, err
	}
	e.wrappedDEK, err = v.kek.Wrap(d, dekAD(v.root.vaultID, e.slot, e.generation))
	if err != nil {
		d.Destroy()
		return nil, nil, err
	}
	v.deks[dekKey{e.slot, e.generation}] = d
	return e, d, nil
}

// Put stores everything read from r as the new content of category, replacing any
// previous content. It streams: at most one chunk (1 MiB by default) is in memory,
// so chunks reach the store in order. The change becomes visible atomically when
// the manifest commits; if Put fails the store is left as it was.
func (v *Vault) Put(ctx context.Context, category string, r io.Reader) error {
	_, err := v.Stream(ctx, category, r)
	return err
}

// Stream is Put, and reports what the store received.
func (v *Vault) Stream(ctx context.Context, category string, r io.Reader) (BatchItemResult, error) {
	res := BatchItemResult{Category: category}
	if err := domain.ValidateCategory(category); err != nil {
		return res, err
	}
	if err := v.begin(); err != nil {
		return res, err
	}
	defer v.mu.Unlock()
	err := v.mutate(ctx, true, func(m *manifest, w *write) ([]change, []domain.ObjectID, error) {
		base := m.categories[category]
		next, dek, err := v.nextEntry(category, base)
		if err != nil {
			return nil, nil, err
		}
		var written []domain.ObjectID
		next.size, err = v.sealStream(ctx, dek, dataAD(v.root.vaultID, next), w.nextData, r, func(ref chunkRef, obj []byte) error {
			written = append(written, ref.id)
			next.chunks = append(next.chunks, ref)
			return v.store.Put(ctx, ref.id, obj)
		})
		if err != nil {
			return nil, written, fmt.Errorf("aegis: store %q: %w", category, err)
		}
		res.PlaintextBytes = next.size
		res.Objects = len(next.chunks)
		for _, c := range next.chunks {
			res.PaddedBytes += uint64(int(c.size) - dek.Overhead())
			res.StoredBytes += uint64(c.size)
		}
		return []change{{category, base, next}}, written, nil
	})
	if err != nil {
		return BatchItemResult{Category: category}, err
	}
	return res, nil
}

// Store stores data as the content of category. Unlike Put it has the whole
// payload at hand, so it writes the category's objects in a random order.
func (v *Vault) Store(ctx context.Context, category string, data []byte) error {
	return v.StoreAll(ctx, map[string][]byte{category: data})
}

// StoreAll stores several categories with one manifest commit: all of them become
// visible together, or none does. Objects are written in a random order (from the
// vault's Random source). See StoreBatch, which also reports what was written.
func (v *Vault) StoreAll(ctx context.Context, categories map[string][]byte) error {
	items := make([]BatchItem, 0, len(categories))
	for _, name := range slices.Sorted(maps.Keys(categories)) {
		items = append(items, BatchItem{Category: name, Data: categories[name]})
	}
	_, err := v.StoreBatch(ctx, items)
	return err
}

// Get writes the content of category to w. If a chunk fails authentication the
// error wraps ErrIntegrity and w may have received the chunks before it; write to a
// temporary file and rename it on success when that matters.
func (v *Vault) Get(ctx context.Context, category string, w io.Writer) error {
	if err := v.begin(); err != nil {
		return err
	}
	defer v.mu.Unlock()
	if err := v.refresh(ctx); err != nil {
		return err
	}
	cw := &countingWriter{w: w}
	return v.retryMissing(ctx, func() error {
		if cw.n > 0 {
			return fmt.Errorf("aegis: category %q changed while it was being read: %w", category, domain.ErrConflict)
		}
		return v.get(ctx, category, cw)
	})
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func (v *Vault) get(ctx context.Context, category string, w io.Writer) error {
	e, ok := v.man.categories[category]
	if !ok {
		return notFound(category)
	}
	d, err := v.dek(e)
	if err != nil {
		return err
	}
	return v.openStream(ctx, d, dataAD(v.root.vaultID, e), e.chunks, e.size, fmt.Sprintf("aegis: category %q", category), w)
}

// Load returns the content of category.
func (v *Vault) Load(ctx context.Context, category string) ([]byte, error) {
	if err := v.begin(); err != nil {
		return nil, err
	}
	defer v.mu.Unlock()
	if err := v.refresh(ctx); err != nil {
		return nil, err
	}
	return v.load1(ctx, category)
}

func (v *Vault) load1(ctx context.Context, category string) ([]byte, error) {
	e, ok := v.man.categories[category]
	if !ok {
		return nil, notFound(category)
	}
	var buf bytes.Buffer
	buf.Grow(int(min(e.size, 1<<30)))
	err := v.retryMissing(ctx, func() error {
		buf.Reset()
		return v.get(ctx, category, &buf)
	})
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// LoadAll returns every category, reading them in a random order. It fails on the
// first category that does not authenticate; use Load per category to read the
// others.
func (v *Vault) LoadAll(ctx context.Context) (map[string][]byte, error) {
	if err := v.begin(); err != nil {
		return nil, err
	}
	defer v.mu.Unlock()
	if err := v.refresh(ctx); err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(v.man.categories))
	names := v.man.sortedNames()
	// Read the categories in a random order, so the sequence of requests the store
	// sees does not follow the (sorted) names.
	if err := domain.Shuffle(v.random, len(names), func(i, j int) { names[i], names[j] = names[j], names[i] }); err != nil {
		return nil, err
	}
	for _, name := range names {
		b, err := v.load1(ctx, name)
		if err != nil {
			return nil, err
		}
		out[name] = b
	}
	return out, nil
}

// Verify reports whether category holds exactly expected. The comparison is of
// SHA-256 digests in constant time, so its timing says nothing about where the
// contents differ.
func (v *Vault) Verify(ctx context.Context, category string, expected []byte) (bool, error) {
	got, err := v.Load(ctx, category)
	if err != nil {
		return false, err
	}
	a, b := sha256.Sum256(got), sha256.Sum256(expected)
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1, nil
}

// Categories returns the category names in sorted order.
func (v *Vault) Categories(ctx context.Context) ([]string, error) {
	if err := v.begin(); err != nil {
		return nil, err
	}
	defer v.mu.Unlock()
	if err := v.refresh(ctx); err != nil {
		return nil, err
	}
	return v.man.sortedNames(), nil
}

// Sizes returns the size in bytes of every category's content, by name.
func (v *Vault) Sizes(ctx context.Context) (map[string]uint64, error) {
	if err := v.begin(); err != nil {
		return nil, err
	}
	defer v.mu.Unlock()
	if err := v.refresh(ctx); err != nil {
		return nil, err
	}
	out := make(map[string]uint64, len(v.man.categories))
	for name, e := range v.man.categories {
		out[name] = e.size
	}
	return out, nil
}

// Stats describes what the vault holds and what the store sees.
type Stats struct {
	Categories     int         `json:"categories"`
	Objects        int         `json:"objects"`         // header, manifest and data objects
	PlaintextBytes uint64      `json:"plaintext_bytes"` // sum of category sizes
	StoredBytes    uint64      `json:"stored_bytes"`    // sum of object sizes
	Buckets        map[int]int `json:"buckets"`         // object size → number of objects
	Epoch          uint64      `json:"epoch"`           // header writes since creation
	KDF            string      `json:"kdf"`
}

// Stats returns the vault's statistics.
func (v *Vault) Stats(ctx context.Context) (Stats, error) {
	if err := v.begin(); err != nil {
		return Stats{}, err
	}
	defer v.mu.Unlock()
	if err := v.refresh(ctx); err != nil {
		return Stats{}, err
	}
	s := Stats{Categories: len(v.man.categories), Buckets: map[int]int{}, Epoch: v.root.epoch, KDF: v.spec.Name}
	add := func(size int) {
		s.Objects++
		s.StoredBytes += uint64(size)
		s.Buckets[size]++
	}
	add(v.hdrSize)
	for _, c := range v.root.manifest {
		add(int(c.size))
	}
	for _, e := range v.man.categories {
		s.PlaintextBytes += e.size
		for _, c := range e.chunks {
			add(int(c.size))
		}
	}
	return s, nil
}

// Delete removes a category and its objects.
func (v *Vault) Delete(ctx context.Context, category string) error {
	if err := v.begin(); err != nil {
		return err
	}
	defer v.mu.Unlock()
	return v.mutate(ctx, false, func(m *manifest, _ *write) ([]change, []domain.ObjectID, error) {
		base, ok := m.categories[category]
		if !ok {
			return nil, nil, notFound(category)
		}
		return []change{{category, base, nil}}, nil, nil
	})
}

// RotateKey gives category a new data key (the next generation), re-encrypts its
// content under it into fresh objects and removes the old objects. It streams one
// chunk at a time.
func (v *Vault) RotateKey(ctx context.Context, category string) error {
	if err := v.begin(); err != nil {
		return err
	}
	defer v.mu.Unlock()
	return v.mutate(ctx, true, func(m *manifest, w *write) ([]change, []domain.ObjectID, error) {
		base, ok := m.categories[category]
		if !ok {
			return nil, nil, notFound(category)
		}
		oldDEK, err := v.dek(base)
		if err != nil {
			return nil, nil, err
		}
		newDEK, err := v.crypto.NewDEK()
		if err != nil {
			return nil, nil, err
		}
		next := &entry{name: category, slot: base.slot, generation: base.generation + 1, version: base.version + 1}
		next.wrappedDEK, err = v.kek.Wrap(newDEK, dekAD(v.root.vaultID, next.slot, next.generation))
		if err != nil {
			newDEK.Destroy()
			return nil, nil, err
		}
		v.deks[dekKey{next.slot, next.generation}] = newDEK
		pr, pw := io.Pipe()
		go func() {
			pw.CloseWithError(v.openStream(ctx, oldDEK, dataAD(v.root.vaultID, base), base.chunks, base.size, fmt.Sprintf("aegis: category %q", category), pw))
		}()
		var written []domain.ObjectID
		next.size, err = v.sealStream(ctx, newDEK, dataAD(v.root.vaultID, next), w.nextData, pr, func(ref chunkRef, obj []byte) error {
			written = append(written, ref.id)
			next.chunks = append(next.chunks, ref)
			return v.store.Put(ctx, ref.id, obj)
		})
		pr.CloseWithError(io.ErrClosedPipe)
		if err != nil {
			return nil, written, fmt.Errorf("aegis: rotate %q: %w", category, err)
		}
		return []change{{category, base, next}}, written, nil
	})
}

// ChangePassphrase re-wraps every data key under a key derived from newPassphrase
// with a fresh salt, keeping the current KDF. See ChangePassphraseKDF.
func (v *Vault) ChangePassphrase(ctx context.Context, newPassphrase []byte) error {
	return v.ChangePassphraseKDF(ctx, newPassphrase, "")
}

// ChangePassphraseKDF re-wraps every data key under a key derived from
// newPassphrase with the named KDF ("" keeps the current one) and a fresh salt. No
// data is re-encrypted: the cost depends on the number of categories, not on their
// size. The switch is one header swap, so after a crash at any point either the old
// or the new passphrase opens the vault.
func (v *Vault) ChangePassphraseKDF(ctx context.Context, newPassphrase []byte, kdf string) error {
	release, spec, kek, fields, err := v.startPassphraseChange(ctx, newPassphrase, kdf)
	if err != nil {
		return err
	}
	defer release()
	next := v.man.clone()
	for name, e := range next.categories {
		d, err := v.dek(e)
		if err != nil {
			kek.Destroy()
			return err
		}
		ne := *e
		if ne.wrappedDEK, err = kek.Wrap(d, dekAD(v.root.vaultID, e.slot, e.generation)); err != nil {
			kek.Destroy()
			return err
		}
		next.categories[name] = &ne
	}
	w, err := v.newWrite(v.root.vaultID)
	if err == nil {
		err = v.register(ctx, w, probeCount)
	}
	if err != nil {
		kek.Destroy()
		return fmt.Errorf("aegis: change passphrase: %w", err)
	}
	obsolete := idsOf(v.root.manifest)
	next.garbage = obsolete
	leftover := v.leftover()
	c, err := v.commit(ctx, kek, fields, v.root.vaultID, next, w, v.version)
	if err != nil || c.descendant {
		kek.Destroy()
		if err == nil {
			// The new header took effect and another writer already replaced it:
			// this handle's keys are stale.
			v.destroyKeys()
			v.closed = true
			return fmt.Errorf("aegis: change passphrase: the new passphrase is set and another writer changed the vault since; open it again: %w", domain.ErrConflict)
		}
		return fmt.Errorf("aegis: change passphrase: %w", err)
	}
	v.kek.Destroy()
	v.kek, v.spec, v.fields = kek, spec, fields
	v.version, v.hdrSize, v.root, v.man = c.version, c.size, c.root, next
	if v.discard(ctx, append(obsolete, leftover...)) {
		v.cleared = v.root.manifestEpoch
	}
	v.collect(ctx, c.dropped)
	return nil
}

// startPassphraseChange is the start of ChangePassphraseKDF and Rekey: it checks
// the new passphrase, takes the vault and the store's writer lock, rereads the
// header and derives the key of the new passphrase under the named KDF ("" keeps
// the current one) with a fresh salt, and the header fields it gives. release
// gives the locks back.
func (v *Vault) startPassphraseChange(ctx context.Context, newPassphrase []byte, kdf string) (release func(), spec domain.KDFSpec, kek domain.KEK, fields []byte, err error) {
	if len(newPassphrase) == 0 {
		return nil, spec, nil, nil, fmt.Errorf("%w: new passphrase is empty", domain.ErrInvalidInput)
	}
	if err := v.begin(); err != nil {
		return nil, spec, nil, nil, err
	}
	unlock, err := v.lock(ctx)
	if err != nil {
		v.mu.Unlock()
		return nil, spec, nil, nil, err
	}
	release = func() { unlock(); v.mu.Unlock() }
	if err := v.refresh(ctx); err != nil {
		release()
		return nil, spec, nil, nil, err
	}
	if kdf == "" {
		kdf = v.spec.Name
	}
	if spec, err = v.crypto.NewKDFSpec(kdf); err == nil {
		kek, err = v.crypto.DeriveKEK(newPassphrase, spec)
	}
	if err == nil {
		if fields, err = encodeHeaderFields(spec, kek.KeyCheck()); err != nil {
			kek.Destroy()
		}
	}
	if err != nil {
		release()
		return nil, spec, nil, nil, err
	}
	return release, spec, kek, fields, nil
}

// StoreJSON stores the JSON encoding of value (encoding/json, so map keys are sorted).
func (v *Vault) StoreJSON(ctx context.Context, category string, value any) error {
	b, err := json.Marshal(value)
	if err != nil {
		return fmt.Errorf("%w: category %q: %v", domain.ErrInvalidInput, category, err)
	}
	return v.Store(ctx, category, b)
}

// LoadJSON decodes the content of category into out.
func (v *Vault) LoadJSON(ctx context.Context, category string, out any) error {
	b, err := v.Load(ctx, category)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("aegis: category %q does not hold JSON for this value: %w", category, err)
	}
	return nil
}

// VerifyJSON reports whether category holds JSON equal to value: both sides are put
// in canonical form (keys sorted, no insignificant space, numbers kept as written)
// and compared in constant time.
func (v *Vault) VerifyJSON(ctx context.Context, category string, value any) (bool, error) {
	want, err := json.Marshal(value)
	if err != nil {
		return false, fmt.Errorf("%w: %v", domain.ErrInvalidInput, err)
	}
	want, err = CanonicalJSON(want)
	if err != nil {
		return false, err
	}
	got, err := v.Load(ctx, category)
	if err != nil {
		return false, err
	}
	got, err = CanonicalJSON(got)
	if err != nil {
		return false, nil // not JSON, so not equal
	}
	a, b := sha256.Sum256(got), sha256.Sum256(want)
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1, nil
}

// CanonicalJSON re-encodes one JSON value with object keys sorted and no
// insignificant whitespace. Numbers keep their textual form.
func CanonicalJSON(b []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: not JSON: %v", domain.ErrInvalidInput, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: trailing data after the JSON value", domain.ErrInvalidInput)
	}
	return json.Marshal(v)
}

// Sweep deletes objects in the store that this vault does not reference and can
// prove are its own (their ids carry the vault's tag, or the tag of the vault a
// Rekey listed in the root was creating, or the manifest lists them as garbage of
// its commit): leftovers of writes interrupted by a crash. Objects of other vaults in the same store, and objects
// written before ids carried tags, are left alone. It holds the writer lock, so it
// never races a writer of a store that has one. It returns the number of objects
// deleted.
func (v *Vault) Sweep(ctx context.Context) (int, error) {
	if err := v.begin(); err != nil {
		return 0, err
	}
	defer v.mu.Unlock()
	if _, ok := v.store.(domain.Locker); !ok {
		return 0, fmt.Errorf("%w: sweep needs a store with a writer lock", domain.ErrInvalidInput)
	}
	unlock, err := v.lock(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()
	if err := v.refresh(ctx); err != nil {
		return 0, err
	}
	live := map[domain.ObjectID]bool{v.headerID: true}
	for _, c := range v.root.manifest {
		live[c.id] = true
	}
	for _, e := range v.man.categories {
		for _, c := range e.chunks {
			live[c.id] = true
		}
	}
	owners := v.ownerKeys() // the vault's, and those of Rekeys that did not finish
	// What the last commit made obsolete is this vault's whatever its tag (a
	// Rekey's garbage list holds the old vault's objects).
	listed := make(map[domain.ObjectID]bool, len(v.man.garbage))
	for _, id := range v.man.garbage {
		listed[id] = true
	}
	var dead []domain.ObjectID
	if err := v.store.List(ctx, func(id domain.ObjectID) error {
		if live[id] {
			return nil
		}
		if listed[id] {
			dead = append(dead, id)
			return nil
		}
		for i := range owners {
			if owns(&owners[i], id) {
				dead = append(dead, id)
				break
			}
		}
		return nil
	}); err != nil {
		return 0, err
	}
	for _, id := range dead {
		if err := v.store.Delete(ctx, id); err != nil && !errors.Is(err, domain.ErrNotFound) {
			return 0, err
		}
	}
	return len(dead), nil
}
