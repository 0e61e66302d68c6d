package vault

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/ai-pantheon/aegis/domain"
)

// Rekey changes the passphrase and replaces every key of the vault: a new KEK
// from newPassphrase (with the named KDF, "" keeping the current one, and a fresh
// salt), a new random vault id, and for every category a new slot and a new DEK
// under which its content is re-encrypted into fresh objects. The new state
// becomes visible in one header swap; then the old objects are deleted.
//
// ChangePassphraseKDF re-wraps the data keys and keeps them, so whoever holds the
// old passphrase and a copy of the store taken before the change (a backup) can
// still unwrap every data key, and with it read everything later written under
// those keys. After Rekey nothing written from then on opens under any key that
// such a copy yields: the old KEK, the old DEKs and the old vault id are no
// longer used.
//
// Rekey reads and rewrites all the data, so its cost grows with the vault's size.
// It streams: per category it reads the old chunks a window at a time (as Get
// does) and seals the new ones one at a time. The objects of categories that fit
// one object are handed to the store in batches of at most one largest object's
// worth of bytes, each in a random order; see reencrypt.
//
// If it fails before the swap, the objects it wrote are deleted and the vault is
// unchanged: the old passphrase opens it and the handle keeps working. After a
// crash at any point exactly one of the old and the new passphrase opens the
// vault; what the crash left unreferenced (the new objects before the swap, the
// old ones after it) is removed by Sweep. If the outcome of the swap cannot be
// known (the header cannot be read back after an ambiguous failure), nothing is
// deleted and the error wraps the cause; open the vault again with either
// passphrase to find out.
func (v *Vault) Rekey(ctx context.Context, newPassphrase []byte, kdf string) error {
	release, spec, kek, fields, err := v.startPassphraseChange(ctx, newPassphrase, kdf)
	if err != nil {
		return err
	}
	defer release()
	rk := &rekeying{v: v, kek: kek, deks: map[dekKey]domain.DEK{}}
	// The new vault id derives from the seed of the write that makes the new
	// objects, data and manifest, whose ids carry the new vault's ownership tag.
	// The seed is listed in the old root first (an intent, on every store), so
	// that what a crash before the swap leaves can be told and collected: by Sweep,
	// and by the writer that drops the intent.
	if rk.w, err = v.newWrite(v.root.vaultID); err != nil {
		rk.destroy()
		return err
	}
	rk.vaultID = rekeyVaultID(rk.w.seed)
	rk.w.own = ownershipKey(rk.vaultID)
	if rk.vaultID == v.root.vaultID {
		rk.destroy()
		return fmt.Errorf("aegis: rekey: the new vault id equals the old one")
	}
	count, err := rk.count()
	if err != nil {
		rk.destroy()
		return fmt.Errorf("aegis: rekey: %w", err)
	}
	if count >= rekeyIntent {
		rk.destroy()
		return fmt.Errorf("%w: %d objects to re-encrypt", domain.ErrInvalidInput, count)
	}
	if err := v.listIntent(ctx, rk.w, count|rekeyIntent); err != nil {
		rk.destroy()
		return fmt.Errorf("aegis: rekey: %w", err)
	}
	rk.w.registered = v.needsIntents() // on a locked store, commit writes as usual

	next, err := rk.reencrypt(ctx)
	if err == nil && rk.w.data != count {
		err = fmt.Errorf("wrote %d objects, %d planned", rk.w.data, count)
	}
	if err != nil {
		rk.abort()
		return fmt.Errorf("aegis: rekey: %w", err)
	}
	// The old objects, and what the last commit left to delete: the new manifest
	// lists them, so that if the deletions below do not happen, the next writer of
	// the new vault deletes them.
	obsolete := idsOf(v.root.manifest)
	for _, e := range v.man.categories {
		obsolete = append(obsolete, idsOf(e.chunks)...)
	}
	obsolete = append(obsolete, v.man.garbage...)
	// As in mutate: a random order, so the deletions do not group objects by category.
	if err := domain.Shuffle(v.random, len(obsolete), func(i, j int) { obsolete[i], obsolete[j] = obsolete[j], obsolete[i] }); err != nil {
		rk.abort()
		return err
	}
	next.garbage = obsolete
	c, err := v.commit(ctx, kek, fields, rk.vaultID, next, rk.w, v.version)
	if err != nil {
		if errors.Is(err, domain.ErrOutcomeUnknown) {
			// The header may point at the new objects now: keep them.
			rk.destroy()
		} else {
			// The header was not written, or another writer's replaced the one this
			// commit expected: nothing references the new objects.
			rk.abort()
		}
		return fmt.Errorf("aegis: rekey: %w", err)
	}
	// The old root's intents are the old vault's (apart from this Rekey's own):
	// collect them under its id.
	dropped := c.dropped[:0:0]
	for _, p := range c.dropped {
		if p.seed != rk.w.seed {
			dropped = append(dropped, p)
		}
	}
	v.collect(ctx, dropped)
	if c.descendant {
		// The new header took effect and a writer with the new passphrase already
		// replaced it (and deleted the old objects, from the garbage list).
		for _, d := range rk.deks {
			d.Destroy()
		}
		kek.Destroy()
		v.destroyKeys()
		v.closed = true
		return fmt.Errorf("aegis: rekey: the new passphrase is set and another writer changed the vault since; open it again: %w", domain.ErrConflict)
	}
	for k, d := range v.deks {
		d.Destroy()
		delete(v.deks, k)
	}
	v.kek.Destroy()
	v.kek, v.spec, v.fields = kek, spec, fields
	v.version, v.hdrSize, v.root, v.man = c.version, c.size, c.root, next
	v.deks = rk.deks
	v.discard(ctx, obsolete)
	return nil
}

// rekeying is the state of one Rekey before its commit.
type rekeying struct {
	v       *Vault
	kek     domain.KEK
	vaultID [32]byte
	w       *write                // the new objects' ids
	deks    map[dekKey]domain.DEK // the new DEKs, by the new slots
	written []domain.ObjectID     // every data object handed to the store (or about to be)
}

// reencrypt copies every category into a new entry under a new DEK and returns
// the manifest of the new state (commit sets its epoch: the old one plus one).
//
// A category that fits one object is small: its new object is sealed in memory
// and handed to the store with others, as one batch (one PutBatch where the store
// has it) of at most one largest object's worth of bytes, in a random order. A
// vault of many small categories so costs a few batches, not one durable write
// per object. The batches are planned from the sizes before anything is sealed:
// the small categories sorted by object size (ties in a random order) and cut
// into consecutive runs, so their number does not depend on the random order.
// Every other category streams, as RotateKey does: one Put per chunk, in chunk
// order, as the chunks are sealed. Large categories come after the small ones, in
// a random order.
func (rk *rekeying) reencrypt(ctx context.Context) (*manifest, error) {
	v := rk.v
	next := &manifest{categories: make(map[string]*entry, len(v.man.categories))}
	names := v.man.sortedNames()
	if err := domain.Shuffle(v.random, len(names), func(i, j int) { names[i], names[j] = names[j], names[i] }); err != nil {
		return nil, err
	}
	type small struct {
		name string
		size int // of its one object
	}
	var smalls []small
	var larges []string
	for _, name := range names {
		p, err := rk.plan(v.man.categories[name].size)
		if err != nil {
			return nil, fmt.Errorf("category %q: %w", name, err)
		}
		if p.Chunks == 1 {
			smalls = append(smalls, small{name, p.ChunkSize})
		} else {
			larges = append(larges, name)
		}
	}
	slices.SortStableFunc(smalls, func(a, b small) int { return a.size - b.size })

	budget := v.policy.Max()
	for start := 0; start < len(smalls); {
		end, bytes := start, 0
		for end < len(smalls) && (end == start || bytes+smalls[end].size <= budget) {
			bytes += smalls[end].size
			end++
		}
		var batch []pending
		for _, c := range smalls[start:end] {
			e, err := rk.category(ctx, v.man.categories[c.name], func(id domain.ObjectID, obj []byte) error {
				batch = append(batch, pending{id, obj})
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("category %q: %w", c.name, err)
			}
			next.categories[c.name] = e
		}
		if err := domain.Shuffle(v.random, len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] }); err != nil {
			return nil, err
		}
		if err := v.putAll(ctx, batch); err != nil {
			return nil, err
		}
		start = end
	}
	for _, name := range larges {
		e, err := rk.category(ctx, v.man.categories[name], func(id domain.ObjectID, obj []byte) error {
			return v.store.Put(ctx, id, obj)
		})
		if err != nil {
			return nil, fmt.Errorf("category %q: %w", name, err)
		}
		next.categories[name] = e
	}
	return next, nil
}

// count is the number of data objects the re-encryption writes.
func (rk *rekeying) count() (uint32, error) {
	var n uint64
	for name, e := range rk.v.man.categories {
		p, err := rk.plan(e.size)
		if err != nil {
			return 0, fmt.Errorf("category %q: %w", name, err)
		}
		n += uint64(p.Chunks)
	}
	return uint32(min(n, uint64(rekeyIntent))), nil
}

// plan is how a payload of n bytes is stored under a new DEK (what sealStream
// makes of it).
func (rk *rekeying) plan(n uint64) (domain.PaddingPlan, error) {
	if n > math.MaxInt {
		return domain.PaddingPlan{}, fmt.Errorf("%w: a %d-byte payload", domain.ErrInvalidInput, n)
	}
	// Every key of a Crypto has the same construction, so the KEK's overhead is
	// the new DEKs'.
	return domain.PlanPadding(rk.v.policy, rk.kek.Overhead(), int(n))
}

// category re-encrypts one category: it pipes the old chunks, opened under the old
// DEK, into sealStream under a new DEK, and hands each new object to put (after
// recording its id, so that abort deletes it whatever put did).
func (rk *rekeying) category(ctx context.Context, base *entry, put func(domain.ObjectID, []byte) error) (*entry, error) {
	v := rk.v
	oldDEK, err := v.dek(base)
	if err != nil {
		return nil, err
	}
	e := &entry{name: base.name, generation: 1, version: 1}
	if _, err := io.ReadFull(v.random, e.slot[:]); err != nil {
		return nil, fmt.Errorf("randomness: %w", err)
	}
	newDEK, err := v.crypto.NewDEK()
	if err != nil {
		return nil, err
	}
	rk.deks[dekKey{e.slot, e.generation}] = newDEK
	if e.wrappedDEK, err = rk.kek.Wrap(newDEK, dekAD(rk.vaultID, e.slot, e.generation)); err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		pw.CloseWithError(v.openStream(ctx, oldDEK, dataAD(v.root.vaultID, base), base.chunks, base.size, "old chunks", pw))
	}()
	e.size, err = v.sealStream(ctx, newDEK, dataAD(rk.vaultID, e), rk.w.nextData, pr, func(ref chunkRef, obj []byte) error {
		e.chunks = append(e.chunks, ref)
		rk.written = append(rk.written, ref.id)
		return put(ref.id, obj)
	})
	pr.CloseWithError(io.ErrClosedPipe)
	<-done // the reader must be done with the old DEK before anything destroys it
	if err != nil {
		return nil, err
	}
	if e.size != base.size {
		return nil, fmt.Errorf("re-encrypted %d bytes of %d: %w", e.size, base.size, domain.ErrIntegrity)
	}
	return e, nil
}

// abort deletes what the rekeying wrote, data and manifest, and destroys its keys.
func (rk *rekeying) abort() {
	ids := rk.written
	if rk.w != nil {
		for i := range rk.w.manifest {
			ids = append(ids, rk.w.id(labelManifest, i))
		}
	}
	rk.v.discard(context.Background(), ids)
	rk.destroy()
}

func (rk *rekeying) destroy() {
	for _, d := range rk.deks {
		d.Destroy()
	}
	rk.kek.Destroy()
}
