package vault

import (
	"bytes"
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ai-pantheon/aegis/domain"
)

// This file holds the rules that keep a write from destroying what it cannot
// prove is its own, on stores with a writer lock and on stores shared with other
// writers that have none (aegisd, S3):
//
//   - Object ids are owned: the first 16 bytes are random (derived from the write's
//     seed), the last 16 an HMAC of them under a key derived from the vault id,
//     which is sealed in the root. Sweep deletes only unreferenced objects whose
//     tag verifies, so the objects of other vaults in the same store survive, and
//     nobody without the vault's keys can tell which objects belong together.
//   - On a store without a writer lock a write first lists an intent in the root
//     (one header compare-and-swap): the seed its object ids derive from. The
//     commit removes it again. An intent that stays behind (a killed client, a
//     server that stopped answering) is dropped by a later header write once it is
//     stale (see stale), and only after that write has succeeded are its objects
//     deleted: from then on no writer can commit them, because a commit needs its
//     intent in the header it replaces.
//   - A header write whose outcome is unknown is settled by reading the header
//     back; the objects it might make referenced are never deleted on that path.

// intent is a write under way, listed in the root before the write puts its first
// object. It holds no object ids: they derive from seed.
//
//	seed          32
//	data count     4  data objects, written in any order; probeCount: written
//	                  one after another (the first absent id ends them)
//	owner         16  the Vault instance that listed it (random per Open/Create)
//	time           8  when it was listed, Unix seconds, by the writer's clock
//	holder length  1, holder  (Config.Holder: who wrote it, for HolderGone)
type intent struct {
	seed   [32]byte
	data   uint32
	owner  [16]byte
	time   int64
	holder []byte
}

// probeCount marks an intent whose data objects are written one after another.
const probeCount = ^uint32(0)

// rekeyIntent, set in an intent's data count (below probeCount), marks the intent
// of a Rekey (rekey.go): its objects belong to the vault it is creating, whose id
// is rekeyVaultID(seed), and carry that vault's ownership tag.
const rekeyIntent = uint32(1) << 31

// rekeyVaultID is the id of the vault that the Rekey with write seed seed creates.
func rekeyVaultID(seed [32]byte) [32]byte {
	k, err := hkdf.Key(sha256.New, seed[:], nil, "aegis/v1 rekey vault id", 32)
	if err != nil {
		panic(err)
	}
	return [32]byte(k)
}

// ownerKeys returns the ownership keys of the objects this vault may have to
// collect: its own, and those of the Rekeys listed in its root.
func (v *Vault) ownerKeys() [][32]byte {
	keys := [][32]byte{ownershipKey(v.root.vaultID)}
	for _, p := range v.root.pending {
		if p.data != probeCount && p.data&rekeyIntent != 0 {
			keys = append(keys, ownershipKey(rekeyVaultID(p.seed)))
		}
	}
	return keys
}

func (p *intent) append(b []byte) []byte {
	b = append(b, p.seed[:]...)
	b = binary.BigEndian.AppendUint32(b, p.data)
	b = append(b, p.owner[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(p.time))
	b = append(b, byte(len(p.holder)))
	return append(b, p.holder...)
}

func readIntent(rd *reader) (intent, bool) {
	var p intent
	copy(p.seed[:], rd.bytes(32))
	p.data = rd.u32()
	copy(p.owner[:], rd.bytes(16))
	p.time = int64(rd.u64())
	p.holder = rd.bytes(int(rd.u8()))
	return p, rd.ok()
}

// maxHolder bounds Config.Holder.
const maxHolder = 255

// Labels of the ids a write derives from its seed.
const (
	labelData     = 'd'
	labelManifest = 'm'
)

// write is one operation's supply of object ids and its intent.
type write struct {
	seed       [32]byte
	own        [32]byte // ownership key of the vault the objects belong to
	data       uint32   // next data index
	manifest   uint32   // next manifest index (restarts at every commit attempt)
	registered bool     // the intent is listed in the root
	cover      uint32   // next cover index (cover.go)
	// coverClosed: the write takes no more cover writes.
	coverClosed bool
	// deferred are data objects sealed but not yet put: the commit writes them
	// before (or with) the manifest objects, and the header write after both.
	deferred []pending
}

// ownershipKey derives the key that tags a vault's object ids from its vault id.
func ownershipKey(vaultID [32]byte) [32]byte {
	k, err := hkdf.Key(sha256.New, vaultID[:], nil, "aegis/v1 object ownership", 32)
	if err != nil {
		panic(err) // only for lengths out of range
	}
	return [32]byte(k)
}

// ownedID returns the object id with random part r under key own.
func ownedID(own *[32]byte, r []byte) domain.ObjectID {
	var id domain.ObjectID
	copy(id[:16], r)
	m := hmac.New(sha256.New, own[:])
	m.Write([]byte("aegis/v1 object id"))
	m.Write(id[:16])
	copy(id[16:], m.Sum(nil))
	return id
}

// owns reports whether id carries the tag of key own.
func owns(own *[32]byte, id domain.ObjectID) bool {
	want := ownedID(own, id[:16])
	return subtle.ConstantTimeCompare(want[16:], id[16:]) == 1
}

func (v *Vault) newWrite(vaultID [32]byte) (*write, error) {
	w := &write{own: ownershipKey(vaultID)}
	if _, err := io.ReadFull(v.random, w.seed[:]); err != nil {
		return nil, fmt.Errorf("aegis: randomness: %w", err)
	}
	return w, nil
}

func (w *write) id(label byte, i uint32) domain.ObjectID {
	m := hmac.New(sha256.New, w.seed[:])
	m.Write([]byte{label})
	m.Write(binary.BigEndian.AppendUint32(nil, i))
	return ownedID(&w.own, m.Sum(nil)[:16])
}

func (w *write) nextData() (domain.ObjectID, error) {
	id := w.id(labelData, w.data)
	w.data++
	return id, nil
}

// written returns the ids of the data objects handed out so far.
func (w *write) written() []domain.ObjectID {
	ids := make([]domain.ObjectID, w.data)
	for i := range ids {
		ids[i] = w.id(labelData, uint32(i))
	}
	return ids
}

func (w *write) nextManifest() (domain.ObjectID, error) {
	id := w.id(labelManifest, w.manifest)
	w.manifest++
	return id, nil
}

// needsIntents reports whether writes must list an intent first: on stores
// without a writer lock, where other writers may be at work.
func (v *Vault) needsIntents() bool {
	_, locked := v.store.(domain.Locker)
	return !locked
}

// stale reports whether intent p of the current root was abandoned by its writer:
// it was listed by this Vault (which runs one operation at a time, and w is the
// current one), its holder is gone, or it is older than the intent expiry.
func (v *Vault) stale(p *intent, w *write) bool {
	if w != nil && p.seed == w.seed {
		return false
	}
	if p.owner == v.owner {
		return true
	}
	if v.holderGone != nil && len(p.holder) > 0 && v.holderGone(string(p.holder)) {
		return true
	}
	return time.Since(time.Unix(p.time, 0)) > v.intentExpiry
}

// prunePending returns the pending list of the next root: the current one without
// w's own intent (when drop is set: the commit of w) and without stale intents,
// which it also returns.
func (v *Vault) prunePending(cur []intent, w *write, drop bool) (keep, dropped []intent) {
	for i := range cur {
		p := &cur[i]
		switch {
		case w != nil && p.seed == w.seed:
			if !drop {
				keep = append(keep, *p)
			}
		case v.stale(p, w):
			dropped = append(dropped, *p)
		default:
			keep = append(keep, *p)
		}
	}
	return keep, dropped
}

// listed reports whether w's intent is in the current root.
func (v *Vault) listed(w *write) bool {
	for i := range v.root.pending {
		if v.root.pending[i].seed == w.seed {
			return true
		}
	}
	return false
}

// errIntentDropped means another writer found this write's intent stale and
// dropped it: its objects are being collected, so it must not commit.
var errIntentDropped = fmt.Errorf("aegis: this write was taken for abandoned by another writer and collected: %w", domain.ErrConflict)

// register lists w's intent in the root with one header write, before w puts its
// first object. count is the number of data objects, or probeCount. On a store
// with a writer lock it does nothing.
func (v *Vault) register(ctx context.Context, w *write, count uint32) error {
	if w.registered || !v.needsIntents() {
		return nil
	}
	return v.listIntent(ctx, w, count)
}

// listIntent lists w's intent in the root with one header write, on any store.
func (v *Vault) listIntent(ctx context.Context, w *write, count uint32) error {
	it := intent{seed: w.seed, data: count, owner: v.owner, time: time.Now().Unix(), holder: []byte(v.holder)}
	for attempt := 0; ; attempt++ {
		next := *v.root
		next.epoch++
		var dropped []intent
		next.pending, dropped = v.prunePending(v.root.pending, w, false)
		if len(next.pending) >= maxPending {
			return fmt.Errorf("%w: %d writes are under way on this vault", domain.ErrBusy, len(next.pending))
		}
		next.pending = append(next.pending, it)
		hdr, err := v.sealHeader(v.kek, v.fields, &next)
		if err != nil {
			return err
		}
		ver, err := v.writeHeader(ctx, v.version, hdr)
		switch {
		case err == nil:
			w.registered = true
			v.version, v.hdrSize, v.root = ver, len(hdr), &next
			v.collect(ctx, dropped)
			return nil
		case errors.Is(err, errMoved):
			if rerr := v.refresh(ctx); rerr != nil {
				return rerr
			}
			if v.listed(w) {
				// Our registration took effect and another write followed it.
				w.registered = true
				return nil
			}
			if attempt >= maxCommitAttempts {
				return fmt.Errorf("aegis: could not list the write in the vault header: %w", domain.ErrConflict)
			}
			if err := v.backoff(ctx, attempt); err != nil {
				return err
			}
		default:
			// Nothing was written yet: an intent that may be listed is collected as
			// stale later, and has no objects.
			return err
		}
	}
}

// errMoved means a header write was refused or its outcome unclear, and the header
// now holds another writer's version: this write's header is not current and,
// since versions never repeat, can never become current.
var errMoved = errors.New("aegis: the vault header was changed by another writer")

// maxResends bounds how often writeHeader sends a header write again after an
// unclear outcome that left the header unchanged.
const maxResends = 3

// writeHeader swaps the header from expected to hdr and settles an unclear
// outcome by reading the header back. It returns nil when hdr is the header; an
// error wrapping errMoved (and ErrConflict) when another header replaced expected,
// whatever happened to this request; an error wrapping ErrOutcomeUnknown when the
// header could not be read back or stayed unchanged through every resend. It
// never deletes anything.
func (v *Vault) writeHeader(ctx context.Context, expected domain.Version, hdr []byte) (domain.Version, error) {
	for resend := 0; ; resend++ {
		ver, err := v.store.CompareAndSwap(ctx, v.headerID, expected, hdr)
		if err == nil {
			return ver, nil
		}
		if ctx.Err() != nil {
			return "", fmt.Errorf("%w: %w", domain.ErrOutcomeUnknown, err)
		}
		// Whatever err says (a refusal may answer a resend of a request that took
		// effect; a 5xx or a dropped connection may follow one), read the header.
		cur, curVer, gerr := v.store.GetVersioned(ctx, v.headerID)
		switch {
		case gerr != nil && !errors.Is(gerr, domain.ErrNotFound):
			return "", fmt.Errorf("%w: %w (the header could not be read back: %v)", domain.ErrOutcomeUnknown, err, gerr)
		case gerr == nil && bytes.Equal(cur, hdr):
			return curVer, nil
		case curVer == expected:
			// Not applied yet. Sending it again is safe: both copies expect the same
			// version, so at most one takes effect.
			if resend >= maxResends {
				return "", fmt.Errorf("%w: %w", domain.ErrOutcomeUnknown, err)
			}
			if berr := v.backoff(ctx, resend+3); berr != nil {
				return "", fmt.Errorf("%w: %w", domain.ErrOutcomeUnknown, berr)
			}
		default:
			// Settled: not applied, and it never will be. What err said (an
			// unknown outcome, say) no longer holds, so it is not wrapped.
			return "", fmt.Errorf("%w: %w (%v)", errMoved, domain.ErrConflict, err)
		}
	}
}

// sealHeader seals r under kek and lays out the header object.
func (v *Vault) sealHeader(kek domain.KEK, fields []byte, r *root) ([]byte, error) {
	sealed := kek.Seal(nil, r.encode(), rootAD(v.headerID, fields))
	return encodeHeader(fields, sealed, v.policy)
}

// references reports whether the current manifest or root references any of ids.
func (v *Vault) references(ids []domain.ObjectID) bool {
	set := make(map[domain.ObjectID]bool, len(ids))
	for _, id := range ids {
		set[id] = true
	}
	for _, c := range v.root.manifest {
		if set[c.id] {
			return true
		}
	}
	for _, e := range v.man.categories {
		for _, c := range e.chunks {
			if set[c.id] {
				return true
			}
		}
	}
	return false
}

// collect deletes the objects of intents a successful header write dropped. No
// writer can commit them any more. Best effort: a failure leaves garbage, never
// a loss.
func (v *Vault) collect(ctx context.Context, dropped []intent) {
	if len(dropped) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), v.lockTimeout)
	defer cancel()
	for _, p := range dropped {
		w := &write{seed: p.seed, own: ownershipKey(v.root.vaultID)}
		if p.data != probeCount && p.data&rekeyIntent != 0 {
			w.own = ownershipKey(rekeyVaultID(p.seed))
			p.data &^= rekeyIntent
		}
		if p.data != probeCount {
			ids := make([]domain.ObjectID, p.data)
			for i := range ids {
				ids[i], _ = w.nextData()
			}
			v.discard(ctx, ids)
		} else {
			v.probe(ctx, w.nextData)
		}
		v.probe(ctx, w.nextManifest)
		v.collectCover(ctx, w)
	}
}

// maxProbeFailures ends a probe after that many failed deletions in a row: the
// store is not answering.
const maxProbeFailures = 3

// probe deletes the ids next yields until one is absent (objects written one
// after another). A failed deletion does not end it: the answer may have been
// lost after the object was deleted, and the objects after it still have to go
// (nothing lists them any more). maxProbeFailures failures in a row do.
func (v *Vault) probe(ctx context.Context, next func() (domain.ObjectID, error)) {
	failures := 0
	for range 1 << 24 {
		id, _ := next()
		err := v.store.Delete(ctx, id)
		switch {
		case err == nil:
			failures = 0
		case errors.Is(err, domain.ErrNotFound):
			return
		default:
			failures++
			if failures >= maxProbeFailures || ctx.Err() != nil {
				return
			}
		}
	}
}

// enabler returns the write-enabler of id on a store shared with other clients:
// for the header, one derived from the locator and the vault name; for every
// other object an HMAC of its id under a key derived from the locator. The store
// keeps only hashes of them, and without the locator they neither link objects
// nor can be guessed.
func (v *Vault) enabler(id domain.ObjectID) domain.WriteEnabler {
	if id == v.headerID {
		return v.headerEnabler
	}
	m := hmac.New(sha256.New, v.enablerKey[:])
	m.Write(id[:])
	return domain.WriteEnabler(m.Sum(nil))
}

// locatorKey derives a named key from the locator and the vault name.
func locatorKey(locator []byte, name, label string) [32]byte {
	k, err := hkdf.Key(sha256.New, locator, []byte(name), "aegis/v1 "+label, 32)
	if err != nil {
		panic(err)
	}
	return [32]byte(k)
}
