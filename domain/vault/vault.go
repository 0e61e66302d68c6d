// Package vault is the Vault service: AES-256-GCM envelope encryption of named
// categories over an untrusted domain.BlobStore.
//
// Every category has its own data-encryption key (DEK), wrapped by a
// key-encryption key (KEK) derived from the passphrase, which is never stored.
// Category names, sizes, keys and object ids live in an encrypted manifest; the
// store sees only padded objects under random names plus one header object with
// the format version, the KDF parameters, the salt and a key-check value.
//
// The format is specified in docs/format.md.
package vault

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/ai-pantheon/aegis/domain"
)

// Config says where a vault lives and how it is built.
type Config struct {
	// Store holds the objects. Required.
	Store domain.BlobStore
	// Crypto provides the primitives (package crypto/suite). Required.
	Crypto domain.Crypto
	// Padding decides object sizes; nil means domain.DefaultBuckets().
	Padding domain.PaddingPolicy
	// Random is the source of object ids and shuffles; nil means crypto/rand.
	Random domain.Random
	// Name selects one of several vaults in a store; "" is the default vault.
	Name string
	// KDF is the passphrase KDF for Create: domain.KDFPBKDF2SHA256 (default) or
	// domain.KDFArgon2id. Open reads it from the header.
	KDF string
	// LockTimeout bounds the wait for another writer's lock (default 30 s); after it
	// a write fails with ErrBusy.
	LockTimeout time.Duration
	// OnLockWait, when set, is called each time a write finds the store's writer
	// lock held by another writer (within lockProbe of asking for it), before it
	// waits for it; timeout is how long it waits at most (LockTimeout). The CLI
	// tells the user what it is waiting for.
	OnLockWait func(timeout time.Duration)
	// Parallelism is the number of concurrent object writes of a batch (default 8).
	Parallelism int
	// Locator is a secret of at least 16 bytes that the client keeps (the CLI keeps
	// one per remote vault in its configuration directory). When set, the header's
	// object id derives from it and Name instead of from Name alone, so a guessed
	// name finds nothing, and on a store shared with other clients (a
	// domain.WriteGuard, such as aegisd) the write-enablers derive from it.
	// Required on a domain.WriteGuard store.
	Locator []byte
	// SharedStore lets Create make a vault in a store that already holds objects
	// (other named vaults). Without it Create refuses a non-empty store with
	// ErrNotEmpty, since the objects may be the remains of a vault whose header was
	// lost. A store that cannot list (aegisd) is shared by design.
	SharedStore bool
	// Holder names this writer in the intents it lists on a store without a writer
	// lock (at most 255 bytes; the CLI uses a host id and its process id). It is
	// sealed in the header.
	Holder string
	// HolderGone reports that the writer named holder no longer runs (the CLI:
	// same host, process gone). Its intents are then stale: the next write collects
	// what they wrote. Nil: only IntentExpiry and this Vault's own intents count.
	HolderGone func(holder string) bool
	// IntentExpiry is the age after which any writer's intent is stale (default 1 h).
	// A write that takes longer may be collected by another writer and then fails.
	IntentExpiry time.Duration
}

// Vault is an open vault. Its methods are safe for concurrent use; they run one at
// a time. Close destroys the keys.
type Vault struct {
	store       domain.BlobStore
	crypto      domain.Crypto
	policy      domain.PaddingPolicy
	random      domain.Random
	headerID    domain.ObjectID
	lockTimeout time.Duration
	onLockWait  func(time.Duration)
	parallelism int

	// Writes on stores without a writer lock (write.go).
	owner         [16]byte // this Vault instance, in its intents
	holder        string
	holderGone    func(string) bool
	intentExpiry  time.Duration
	shared        bool
	headerEnabler domain.WriteEnabler
	enablerKey    [32]byte

	chunkPool sync.Pool // chunk-sized read buffers (sealStream)

	cover coverState // cover.go

	mu      sync.Mutex
	closed  bool
	kek     domain.KEK
	spec    domain.KDFSpec
	fields  []byte         // header fields the root is bound to
	version domain.Version // header version the state below was read from
	hdrSize int
	root    *root
	man     *manifest
	deks    map[dekKey]domain.DEK
	// cleared is the manifest epoch whose garbage list this handle deleted in
	// full (0: none), so the next write need not delete it again.
	cleared uint64
}

type dekKey struct {
	slot       [16]byte
	generation uint32
}

// HeaderID returns the id of the header object of the vault called name in a
// store without a locator. It is the only object whose id is not random.
func HeaderID(name string) domain.ObjectID {
	return sha256.Sum256([]byte("aegis/v1 vault header\x00" + name))
}

// LocatedHeaderID returns the id of the header object of the vault called name
// whose Config.Locator is locator.
func LocatedHeaderID(locator []byte, name string) domain.ObjectID {
	return domain.ObjectID(locatorKey(locator, name, "header id"))
}

// MinLocatorSize is the smallest Config.Locator.
const MinLocatorSize = 16

func newVault(cfg Config) (*Vault, error) {
	if cfg.Store == nil || cfg.Crypto == nil {
		return nil, fmt.Errorf("%w: vault config needs a Store and a Crypto", domain.ErrInvalidInput)
	}
	v := &Vault{
		store:        cfg.Store,
		crypto:       cfg.Crypto,
		policy:       cfg.Padding,
		random:       cfg.Random,
		headerID:     HeaderID(cfg.Name),
		lockTimeout:  cfg.LockTimeout,
		onLockWait:   cfg.OnLockWait,
		parallelism:  cfg.Parallelism,
		deks:         map[dekKey]domain.DEK{},
		holder:       cfg.Holder,
		holderGone:   cfg.HolderGone,
		intentExpiry: cfg.IntentExpiry,
		shared:       cfg.SharedStore,
	}
	if len(cfg.Holder) > maxHolder {
		return nil, fmt.Errorf("%w: holder of %d bytes (at most %d)", domain.ErrInvalidInput, len(cfg.Holder), maxHolder)
	}
	if v.intentExpiry <= 0 {
		v.intentExpiry = time.Hour
	}
	if len(cfg.Locator) > 0 {
		if len(cfg.Locator) < MinLocatorSize {
			return nil, fmt.Errorf("%w: a locator of %d bytes (at least %d)", domain.ErrInvalidInput, len(cfg.Locator), MinLocatorSize)
		}
		v.headerID = LocatedHeaderID(cfg.Locator, cfg.Name)
		v.headerEnabler = domain.WriteEnabler(locatorKey(cfg.Locator, cfg.Name, "header write-enabler"))
		v.enablerKey = locatorKey(cfg.Locator, cfg.Name, "write-enabler key")
	}
	if g, ok := cfg.Store.(domain.WriteGuard); ok {
		if len(cfg.Locator) == 0 {
			return nil, fmt.Errorf("%w: a store shared with other clients needs a Config.Locator", domain.ErrInvalidInput)
		}
		v.store = g.Guarded(v.enabler)
		v.shared = true
	}
	if v.policy == nil {
		v.policy = domain.DefaultBuckets()
	}
	if err := domain.CheckPadding(v.policy); err != nil {
		return nil, err
	}
	if v.random == nil {
		v.random = domain.DefaultRandom()
	}
	if v.lockTimeout <= 0 {
		v.lockTimeout = 30 * time.Second
	}
	if v.parallelism <= 0 {
		v.parallelism = 8
	}
	if _, err := io.ReadFull(v.random, v.owner[:]); err != nil {
		return nil, fmt.Errorf("aegis: randomness: %w", err)
	}
	return v, nil
}

// errStop ends a listing early.
var errStop = errors.New("stop")

// checkEmpty fails with ErrNotEmpty when the store holds any object, unless the
// store is shared or cannot list.
func (v *Vault) checkEmpty(ctx context.Context) error {
	if v.shared {
		return nil
	}
	n := 0
	err := v.store.List(ctx, func(domain.ObjectID) error { n++; return errStop })
	switch {
	case errors.Is(err, errors.ErrUnsupported):
		return nil
	case err != nil && !errors.Is(err, errStop):
		return err
	case n > 0:
		return fmt.Errorf("%w: it may hold the remains of a vault whose header was lost; use an empty store, or set SharedStore to keep several named vaults in one", domain.ErrNotEmpty)
	}
	return nil
}

// Create makes a new, empty vault in the store. It fails with ErrExists if the store
// already has a vault of that name, and writes nothing in that case.
func Create(ctx context.Context, cfg Config, passphrase []byte) (*Vault, error) {
	v, err := newVault(cfg)
	if err != nil {
		return nil, err
	}
	if len(passphrase) == 0 {
		return nil, fmt.Errorf("%w: passphrase is empty", domain.ErrInvalidInput)
	}
	unlock, err := v.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, _, err := v.store.GetVersioned(ctx, v.headerID); err == nil {
		return nil, fmt.Errorf("aegis: create: %w", domain.ErrExists)
	} else if !errors.Is(err, domain.ErrNotFound) {
		return nil, fmt.Errorf("aegis: create: %w", err)
	}
	if err := v.checkEmpty(ctx); err != nil {
		return nil, fmt.Errorf("aegis: create: %w", err)
	}
	spec, err := v.crypto.NewKDFSpec(cfg.KDF)
	if err != nil {
		return nil, err
	}
	kek, err := v.crypto.DeriveKEK(passphrase, spec)
	if err != nil {
		return nil, err
	}
	fields, err := encodeHeaderFields(spec, kek.KeyCheck())
	if err != nil {
		kek.Destroy()
		return nil, err
	}
	var vaultID [32]byte
	if _, err := io.ReadFull(v.random, vaultID[:]); err != nil {
		kek.Destroy()
		return nil, fmt.Errorf("aegis: create: randomness: %w", err)
	}
	m := &manifest{categories: map[string]*entry{}}
	w, err := v.newWrite(vaultID)
	if err != nil {
		kek.Destroy()
		return nil, err
	}
	c, err := v.commit(ctx, kek, fields, vaultID, m, w, "")
	if err != nil {
		kek.Destroy()
		if errors.Is(err, errMoved) {
			return nil, fmt.Errorf("aegis: create: %w", domain.ErrExists)
		}
		return nil, fmt.Errorf("aegis: create: %w", err)
	}
	v.kek, v.spec, v.fields, v.version, v.hdrSize, v.root, v.man = kek, spec, fields, c.version, c.size, c.root, m
	return v, nil
}

// Open opens an existing vault. A wrong passphrase fails with ErrWrongPassphrase; a
// corrupted header or manifest with ErrIntegrity; a missing vault with ErrNotFound;
// KDF parameters out of range with ErrKDFParams. Open writes nothing.
func Open(ctx context.Context, cfg Config, passphrase []byte) (*Vault, error) {
	v, err := newVault(cfg)
	if err != nil {
		return nil, err
	}
	obj, ver, err := v.store.GetVersioned(ctx, v.headerID)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, fmt.Errorf("aegis: open: no vault in this store: %w", domain.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("aegis: open: %w", err)
	}
	h, err := decodeHeader(obj)
	if err != nil {
		return nil, fmt.Errorf("aegis: open: %w", err)
	}
	if err := v.crypto.CheckKDF(h.kdf); err != nil {
		return nil, fmt.Errorf("aegis: open: vault header: %w", err)
	}
	kek, err := v.crypto.DeriveKEK(passphrase, h.kdf)
	if err != nil {
		return nil, fmt.Errorf("aegis: open: %w", err)
	}
	if subtle.ConstantTimeCompare(kek.KeyCheck(), h.kcv) != 1 {
		kek.Destroy()
		return nil, fmt.Errorf("aegis: open: %w", domain.ErrWrongPassphrase)
	}
	v.kek, v.spec = kek, h.kdf
	v.fields = h.fields
	err = v.load(ctx, h, ver, len(obj))
	if errors.Is(err, errMissing) {
		// A writer committed while we read the manifest: read its header instead.
		err = v.refresh(ctx)
	}
	if err != nil {
		v.destroyKeys()
		return nil, fmt.Errorf("aegis: open: %w", err)
	}
	return v, nil
}

// load opens the root of a decoded header with the current KEK and reads the manifest.
func (v *Vault) load(ctx context.Context, h *header, ver domain.Version, size int) error {
	rootPT, err := v.kek.Open(nil, h.root, rootAD(v.headerID, h.fields))
	if err != nil {
		return fmt.Errorf("vault root: %w", err)
	}
	r, err := decodeRoot(rootPT)
	if err != nil {
		return err
	}
	if v.root != nil {
		if r.vaultID != v.root.vaultID {
			return fmt.Errorf("vault root belongs to another vault: %w", domain.ErrIntegrity)
		}
		if r.epoch <= v.root.epoch {
			// Every commit increments the epoch: a different header with the same or an
			// older epoch is a rollback or a fork.
			return fmt.Errorf("vault header changed from epoch %d to %d (rollback or fork): %w", v.root.epoch, r.epoch, domain.ErrIntegrity)
		}
	}
	if r.size > uint64(len(r.manifest))*domain.MaxObjectSize {
		return fmt.Errorf("vault root: manifest size %d exceeds its chunks: %w", r.size, domain.ErrIntegrity)
	}
	var buf bytes.Buffer
	buf.Grow(int(r.size))
	if err := v.openStream(ctx, v.kek, manifestAD(r.vaultID, r.manifestEpoch), r.manifest, r.size, "manifest", &buf); err != nil {
		return err
	}
	m, err := decodeManifest(buf.Bytes())
	if err != nil {
		return err
	}
	if m.epoch != r.manifestEpoch {
		return fmt.Errorf("manifest epoch %d does not match the root's %d: %w", m.epoch, r.manifestEpoch, domain.ErrIntegrity)
	}
	v.version, v.hdrSize, v.root, v.man = ver, size, r, m
	v.pruneDEKs()
	return nil
}

// committed is the outcome of a successful commit.
type committed struct {
	version domain.Version
	root    *root
	size    int
	dropped []intent // stale intents the new root no longer lists: collect them
	// descendant: the header was read back holding a later writer's header built
	// on this commit; the Vault's state is already that header's (refresh).
	descendant bool
}

// commit seals m as the new manifest under kek (its ids from w), then swaps the
// header from the expected version to one pointing at it. The new root lists the
// current root's intents except w's own and the stale ones. Nothing is visible to
// readers until the swap succeeds. commit deletes nothing: on errMoved the new
// objects are unreferenced and the caller may rebase or discard them; on
// ErrOutcomeUnknown they must stay.
func (v *Vault) commit(ctx context.Context, kek domain.KEK, fields []byte, vaultID [32]byte, m *manifest, w *write, expected domain.Version) (committed, error) {
	r := &root{vaultID: vaultID, epoch: 1}
	var dropped []intent
	if v.root != nil {
		r.epoch = v.root.epoch + 1
		if v.root.vaultID == vaultID {
			r.pending, dropped = v.prunePending(v.root.pending, w, true)
		} else {
			// A new vault id (Rekey): every intent is of the old vault, and no writer
			// of the old vault can commit into the new one.
			dropped = v.root.pending
		}
	}
	m.epoch = r.epoch
	r.manifestEpoch = r.epoch
	if w.registered && len(w.deferred) > 0 {
		// The data first, one after another with the manifest objects below, so
		// that whoever collects an abandoned intent finds them all by probing.
		if err := v.putAll(ctx, w.deferred); err != nil {
			v.closeCover(w)
			return committed{}, err
		}
		w.deferred = nil
	}
	// Cover writes end here: every cover id handed out is garbage of this manifest.
	m.garbage = append(m.garbage, v.closeCover(w)...)
	plain := m.encode()
	var objs []pending
	w.manifest = 0
	_, err := v.sealStream(ctx, kek, manifestAD(vaultID, m.epoch), w.nextManifest, bytes.NewReader(plain), func(ref chunkRef, obj []byte) error {
		r.manifest = append(r.manifest, ref)
		objs = append(objs, pending{ref.id, obj})
		return nil
	})
	if err != nil {
		return committed{}, err
	}
	r.size = uint64(len(plain))
	hdr, err := v.sealHeader(kek, fields, r)
	if err != nil {
		return committed{}, err
	}
	var ver domain.Version
	swapped := false
	if w.registered {
		for _, p := range objs {
			if err != nil {
				break
			}
			err = v.store.Put(ctx, p.id, p.obj)
		}
	} else {
		// The op's data objects (if it left them to the commit) and the manifest's
		// in one batch, the data first: one round of syncs instead of two.
		if len(w.deferred) > 0 {
			objs = append(w.deferred, objs...)
		}
		// With the header swap too, where the store can (swap.go).
		if ver, swapped, err = v.putMaybeSwap(ctx, objs, expected, hdr); err == nil {
			w.deferred = nil
		}
	}
	if err != nil {
		if !errors.Is(err, domain.ErrOutcomeUnknown) {
			// The header was not sent: nothing references the manifest objects.
			v.discard(ctx, idsOf(r.manifest))
		}
		return committed{}, err
	}
	if !swapped {
		ver, err = v.writeHeader(ctx, expected, hdr)
	}
	if err == nil {
		return committed{version: ver, root: r, size: len(hdr), dropped: dropped}, nil
	}
	if !errors.Is(err, errMoved) || v.root == nil || v.kek == nil {
		return committed{}, err
	}
	// Another header is current. Read it: if it references what this commit wrote,
	// this commit took effect and a later write built on it.
	if rerr := v.refresh(ctx); rerr != nil {
		return committed{}, fmt.Errorf("%w: %w (reading the new header: %v)", domain.ErrOutcomeUnknown, err, rerr)
	}
	if v.references(idsOf(r.manifest)) || v.references(w.written()) {
		return committed{descendant: true}, nil
	}
	return committed{}, err
}

func idsOf(refs []chunkRef) []domain.ObjectID {
	ids := make([]domain.ObjectID, len(refs))
	for i, r := range refs {
		ids[i] = r.id
	}
	return ids
}

// lockProbe is how long lock asks for the writer lock before it calls
// Config.OnLockWait: a free lock is granted well within it.
const lockProbe = 50 * time.Millisecond

// lock takes the store's writer lock when it has one.
func (v *Vault) lock(ctx context.Context) (func(), error) {
	l, ok := v.store.(domain.Locker)
	if !ok {
		return func() {}, nil
	}
	lctx, cancel := context.WithTimeout(ctx, v.lockTimeout)
	defer cancel()
	if v.onLockWait != nil {
		// Ask briefly first: a lock still held after lockProbe is another
		// writer's, and the caller is told before the long wait.
		pctx, pcancel := context.WithTimeout(lctx, lockProbe)
		unlock, err := l.Lock(pctx)
		pcancel()
		if err == nil {
			return func() { _ = unlock() }, nil
		}
		if lctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) {
			if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
				return nil, fmt.Errorf("%w (waited %s)", domain.ErrBusy, v.lockTimeout)
			}
			return nil, err
		}
		v.onLockWait(v.lockTimeout)
	}
	unlock, err := l.Lock(lctx)
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("%w (waited %s)", domain.ErrBusy, v.lockTimeout)
		}
		return nil, err
	}
	return func() { _ = unlock() }, nil
}

// refresh rereads the header and, if another writer changed it, the manifest. If
// a manifest object vanished while it was being read because a writer committed
// and collected it, refresh reads the newer header and tries again.
func (v *Vault) refresh(ctx context.Context) error {
	if v.closed {
		return domain.ErrClosed
	}
	for attempt := 0; ; attempt++ {
		ver, err := v.refreshOnce(ctx)
		if err == nil || !errors.Is(err, errMissing) || attempt >= 8 {
			return err
		}
		if _, now, gerr := v.store.GetVersioned(ctx, v.headerID); gerr != nil || now == ver {
			return err // the header did not move: the object is really gone
		}
	}
}

func (v *Vault) refreshOnce(ctx context.Context) (domain.Version, error) {
	obj, ver, err := v.store.GetVersioned(ctx, v.headerID)
	if errors.Is(err, domain.ErrNotFound) {
		return "", fmt.Errorf("aegis: the vault header has disappeared from the store: %w", domain.ErrIntegrity)
	}
	if err != nil {
		return "", err
	}
	if ver == v.version {
		return ver, nil
	}
	h, err := decodeHeader(obj)
	if err != nil {
		return ver, err
	}
	if !bytes.Equal(h.fields, v.fields) {
		return ver, fmt.Errorf("aegis: the passphrase was changed by another writer; open the vault again: %w", domain.ErrWrongPassphrase)
	}
	return ver, v.load(ctx, h, ver, len(obj))
}

// retryMissing runs read, and runs it again after a refresh when it failed on an
// object that a concurrent writer collected. read must be safe to repeat.
func (v *Vault) retryMissing(ctx context.Context, read func() error) error {
	for attempt := 0; ; attempt++ {
		before := v.version
		err := read()
		if err == nil || !errors.Is(err, errMissing) || attempt >= 8 {
			return err
		}
		if rerr := v.refresh(ctx); rerr != nil {
			return rerr
		}
		if v.version == before {
			return err
		}
	}
}

// change is one category edit, computed against base.
type change struct {
	name string
	base *entry // nil: the category did not exist
	next *entry // nil: delete it
}

func sameEntry(a, b *entry) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.slot == b.slot && a.generation == b.generation && a.version == b.version
}

// mutate runs op under the writer lock against the current manifest and commits
// its changes in one header swap. op gets the write its object ids come from; on a
// store without a writer lock it must call v.register before it puts its first
// object (mutate registers before calling op when early is set, for ops that
// stream). op returns the objects it wrote. A swap lost to another writer is
// retried when the categories op touched are unchanged; otherwise it fails with
// ErrConflict. The objects a failed operation wrote are deleted once they are
// proven unreferenced, and kept when the outcome is unknown.
func (v *Vault) mutate(ctx context.Context, early bool, op func(m *manifest, w *write) ([]change, []domain.ObjectID, error)) error {
	unlock, err := v.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if err := v.refresh(ctx); err != nil {
		return err
	}
	w, err := v.newWrite(v.root.vaultID)
	if err != nil {
		return err
	}
	if early {
		if err := v.register(ctx, w, probeCount); err != nil {
			return err
		}
	}
	v.openCover(w)
	changes, written, err := op(v.man, w)
	if err != nil {
		v.discard(ctx, append(written, v.closeCover(w)...))
		return err
	}
	if err := v.register(ctx, w, probeCount); err != nil {
		v.discard(ctx, append(written, v.closeCover(w)...))
		return err
	}
	v.openCover(w)
	defer v.closeCover(w)
	// drop deletes what the write put: its data and cover objects.
	drop := func() { v.discard(ctx, append(written, v.closeCover(w)...)) }
	for attempt := 0; ; attempt++ {
		next := v.man.clone()
		var obsolete []domain.ObjectID
		for _, c := range changes {
			if !sameEntry(next.categories[c.name], c.base) {
				drop()
				return fmt.Errorf("aegis: category %q was changed by another writer: %w", c.name, domain.ErrConflict)
			}
			if c.base != nil {
				obsolete = append(obsolete, idsOf(c.base.chunks)...)
			}
			if c.next == nil {
				delete(next.categories, c.name)
			} else {
				next.categories[c.name] = c.next
			}
		}
		obsolete = append(obsolete, idsOf(v.root.manifest)...)
		next.garbage = obsolete
		// What the previous commit made obsolete: its writer deleted it, unless it
		// could not.
		leftover := v.leftover()
		res, err := v.commit(ctx, v.kek, v.fields, v.root.vaultID, next, w, v.version)
		if err == nil {
			if !res.descendant {
				v.version, v.hdrSize, v.root, v.man = res.version, res.size, res.root, next
				v.pruneDEKs()
			}
			// The cover objects of the write are garbage of the new manifest too.
			obsolete = append(slices.Clone(obsolete), v.closeCover(w)...)
			// Delete in a random order: grouped by category, the deletions would tell
			// an observer which replaced objects belonged together.
			if err := domain.Shuffle(v.random, len(obsolete), func(i, j int) { obsolete[i], obsolete[j] = obsolete[j], obsolete[i] }); err != nil {
				obsolete = nil // keep them as debris for Sweep rather than leak the grouping
			}
			if v.discard(ctx, append(obsolete, leftover...)) && !res.descendant {
				v.cleared = v.root.manifestEpoch
			}
			v.collect(ctx, res.dropped)
			return nil
		}
		if errors.Is(err, domain.ErrOutcomeUnknown) {
			// The objects may be referenced now (or by a request still on its way),
			// so they stay. The intent stays listed; a later write collects them
			// once it is stale.
			return err
		}
		if !errors.Is(err, errMoved) {
			// The header write was not sent.
			drop()
			return err
		}
		// The header moved past every version this write's requests expected, and
		// does not reference its objects: they can never become referenced.
		if attempt >= maxCommitAttempts {
			drop()
			return err
		}
		if err := v.backoff(ctx, attempt); err != nil {
			drop()
			return err
		}
		if err := v.refresh(ctx); err != nil {
			drop()
			return err
		}
		if w.registered && !v.listed(w) {
			// Collected by another writer as abandoned: its collection deletes them.
			return errIntentDropped
		}
	}
}

// maxCommitAttempts bounds how often a commit that lost a compare-and-swap to a
// writer without the shared lock is rebased and tried again.
const maxCommitAttempts = 32

// backoff waits before commit attempt attempt+1: a random time up to 1 ms doubled
// per attempt (at most 128 ms), so writers that keep colliding spread out.
func (v *Vault) backoff(ctx context.Context, attempt int) error {
	limit := uint64(time.Millisecond) << min(attempt, 7)
	n, err := domain.UniformInt(v.random, limit)
	if err != nil {
		return err
	}
	t := time.NewTimer(time.Duration(n))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// dek returns the unwrapped DEK of an entry, from the cache when possible.
func (v *Vault) dek(e *entry) (domain.DEK, error) {
	k := dekKey{e.slot, e.generation}
	if d, ok := v.deks[k]; ok {
		return d, nil
	}
	d, err := v.kek.Unwrap(e.wrappedDEK, dekAD(v.root.vaultID, e.slot, e.generation))
	if err != nil {
		return nil, fmt.Errorf("aegis: category %q: data key: %w", e.name, err)
	}
	v.deks[k] = d
	return d, nil
}

// pruneDEKs destroys cached DEKs that the manifest no longer references.
func (v *Vault) pruneDEKs() {
	live := map[dekKey]bool{}
	for _, e := range v.man.categories {
		live[dekKey{e.slot, e.generation}] = true
	}
	for k, d := range v.deks {
		if !live[k] {
			d.Destroy()
			delete(v.deks, k)
		}
	}
}

func (v *Vault) destroyKeys() {
	for k, d := range v.deks {
		d.Destroy()
		delete(v.deks, k)
	}
	if v.kek != nil {
		v.kek.Destroy()
		v.kek = nil
	}
}

// Close destroys the vault's keys. Further calls fail with ErrClosed.
func (v *Vault) Close() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.closed {
		v.closed = true
		v.destroyKeys()
	}
	return nil
}

// begin locks the vault for one operation and checks it is open.
func (v *Vault) begin() error {
	v.mu.Lock()
	if v.closed {
		v.mu.Unlock()
		return domain.ErrClosed
	}
	return nil
}

// KDF returns the vault's KDF spec (the salt included; it is public).
func (v *Vault) KDF() domain.KDFSpec {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.spec
	s.Salt = slices.Clone(s.Salt)
	return s
}
