package vault

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/ai-pantheon/aegis/domain"
)

const (
	oldPass = "old passphrase"
	newPass = "new passphrase"
)

// testPolicy keeps objects small, so that a few KiB make a multi-chunk category.
func testPolicy(t testing.TB) domain.PaddingPolicy {
	t.Helper()
	p, err := domain.NewBuckets([]int{512, 1024, 2048})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

type rekeyFixture struct {
	store   *mapStore
	cfg     Config
	v       *Vault
	content map[string][]byte
}

// newRekeyFixture creates a vault under oldPass holding four categories: one
// empty, two of one object, one of three chunks.
func newRekeyFixture(t *testing.T, batched bool) *rekeyFixture {
	t.Helper()
	s := newMapStore()
	var bs domain.BlobStore = s
	if !batched {
		bs = plainStore{s, s}
	}
	f := &rekeyFixture{store: s, cfg: Config{Store: bs, Crypto: keyedCrypto{}, Padding: testPolicy(t)}}
	ctx := context.Background()
	v, err := Create(ctx, f.cfg, []byte(oldPass))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	f.v = v
	f.content = map[string][]byte{"alpha": randomBytes(40), "beta": randomBytes(5000), "gamma": randomBytes(900), "empty": {}}
	if err := v.StoreAll(ctx, f.content); err != nil {
		t.Fatal(err)
	}
	if len(v.man.categories["beta"].chunks) < 3 {
		t.Fatalf("beta has %d chunks, want at least 3", len(v.man.categories["beta"].chunks))
	}
	return f
}

// open opens the vault of store (a fresh handle, same config otherwise).
func (f *rekeyFixture) open(t *testing.T, store domain.BlobStore, pass string) (*Vault, error) {
	t.Helper()
	cfg := f.cfg
	cfg.Store = store
	v, err := Open(context.Background(), cfg, []byte(pass))
	if err == nil {
		t.Cleanup(func() { _ = v.Close() })
	}
	return v, err
}

func loadAllOf(t *testing.T, v *Vault) map[string][]byte {
	t.Helper()
	got, err := v.LoadAll(context.Background())
	if err != nil {
		t.Fatalf("LoadAll: %v", err)
	}
	return got
}

func sameContent(a, b map[string][]byte) bool { return maps.EqualFunc(a, b, bytes.Equal) }

// referenced is every object id the handle's state references, the header included.
func liveIDs(v *Vault) map[domain.ObjectID]bool {
	ids := map[domain.ObjectID]bool{v.headerID: true}
	for _, c := range v.root.manifest {
		ids[c.id] = true
	}
	for _, e := range v.man.categories {
		for _, c := range e.chunks {
			ids[c.id] = true
		}
	}
	return ids
}

func keyOf(k any) [32]byte { return k.(*testKey).Key() }

func TestRekeyKeepsContentAndReplacesEveryKey(t *testing.T) {
	for _, batched := range []bool{true, false} {
		t.Run(fmt.Sprintf("batched=%v", batched), func(t *testing.T) {
			ctx := context.Background()
			f := newRekeyFixture(t, batched)
			v := f.v
			before := f.store.snapshot()
			oldID, oldEpoch, oldKEK := v.root.vaultID, v.root.epoch, keyOf(v.kek)
			oldKeys := map[[32]byte]bool{oldKEK: true}
			oldSlots := map[[16]byte]bool{}
			for _, e := range v.man.categories {
				d, err := v.dek(e)
				if err != nil {
					t.Fatal(err)
				}
				oldKeys[keyOf(d)] = true
				oldSlots[e.slot] = true
			}

			if err := v.Rekey(ctx, []byte(newPass), ""); err != nil {
				t.Fatal(err)
			}

			if got := loadAllOf(t, v); !sameContent(got, f.content) {
				t.Fatal("the handle reads other content after Rekey")
			}
			if v.root.vaultID == oldID {
				t.Fatal("the vault id did not change")
			}
			if v.root.epoch != oldEpoch+2 {
				t.Fatalf("epoch %d after %d, want two more (the intent, the swap)", v.root.epoch, oldEpoch)
			}
			if oldKeys[keyOf(v.kek)] {
				t.Fatal("the KEK is an old key")
			}
			for name, e := range v.man.categories {
				d, err := v.dek(e)
				if err != nil {
					t.Fatal(err)
				}
				if oldKeys[keyOf(d)] || oldSlots[e.slot] {
					t.Fatalf("category %q kept an old key or slot", name)
				}
				for _, c := range e.chunks {
					if _, ok := before[c.id]; ok {
						t.Fatalf("category %q references an object of before the rekey", name)
					}
				}
			}
			// The store holds the new state and nothing else: every old object is gone.
			now := f.store.snapshot()
			live := liveIDs(v)
			if len(now) != len(live) {
				t.Fatalf("the store holds %d objects, the vault references %d", len(now), len(live))
			}
			for id := range now {
				if !live[id] {
					t.Fatalf("object %s is not referenced", id)
				}
				if _, old := before[id]; old && id != v.headerID {
					t.Fatalf("old object %s survived", id)
				}
			}

			nv, err := f.open(t, f.cfg.Store, newPass)
			if err != nil {
				t.Fatalf("open with the new passphrase: %v", err)
			}
			if got := loadAllOf(t, nv); !sameContent(got, f.content) {
				t.Fatal("a fresh open reads other content")
			}
			if _, err := f.open(t, f.cfg.Store, oldPass); !errors.Is(err, domain.ErrWrongPassphrase) {
				t.Fatalf("open with the old passphrase: %v, want ErrWrongPassphrase", err)
			}

			// Writes go on under the new keys; a second Rekey switches the KDF.
			if err := v.Store(ctx, "alpha", []byte("after")); err != nil {
				t.Fatal(err)
			}
			if err := v.Rekey(ctx, []byte("third"), domain.KDFArgon2id); err != nil {
				t.Fatal(err)
			}
			if v.KDF().Name != domain.KDFArgon2id {
				t.Fatalf("KDF %q after Rekey to argon2id", v.KDF().Name)
			}
			tv, err := f.open(t, f.cfg.Store, "third")
			if err != nil {
				t.Fatal(err)
			}
			want := maps.Clone(f.content)
			want["alpha"] = []byte("after")
			if got := loadAllOf(t, tv); !sameContent(got, want) {
				t.Fatal("content changed across the second Rekey")
			}
		})
	}
}

func TestRekeyOnEmptyVaultAndBadInput(t *testing.T) {
	ctx := context.Background()
	s := newMapStore()
	cfg := Config{Store: s, Crypto: keyedCrypto{}, Padding: testPolicy(t)}
	v, err := Create(ctx, cfg, []byte(oldPass))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.Rekey(ctx, nil, ""); !errors.Is(err, domain.ErrInvalidInput) {
		t.Fatalf("empty passphrase: %v", err)
	}
	if err := v.Rekey(ctx, []byte(newPass), "scrypt"); err == nil {
		t.Fatal("an unknown KDF was accepted")
	}
	if err := v.Rekey(ctx, []byte(newPass), ""); err != nil {
		t.Fatal(err)
	}
	if names, err := v.Categories(ctx); err != nil || len(names) != 0 {
		t.Fatalf("categories %q, %v", names, err)
	}
	if _, err := Open(ctx, cfg, []byte(newPass)); err != nil {
		t.Fatal(err)
	}
	_ = v.Close()
	if err := v.Rekey(ctx, []byte("x"), ""); !errors.Is(err, domain.ErrClosed) {
		t.Fatalf("Rekey after Close: %v", err)
	}
}

// A handle opened before the rekey refuses to go on: the passphrase changed.
func TestRekeyOtherHandleMustReopen(t *testing.T) {
	f := newRekeyFixture(t, true)
	other, err := f.open(t, f.cfg.Store, oldPass)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.v.Rekey(context.Background(), []byte(newPass), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Load(context.Background(), "alpha"); !errors.Is(err, domain.ErrWrongPassphrase) {
		t.Fatalf("the other handle: %v, want ErrWrongPassphrase", err)
	}
}

// sealing says how one stored object was sealed: under which key, with which
// associated data. adFor rebuilds that associated data for another vault id, the
// one part of it an old copy would compute differently.
type sealing struct {
	what  string
	key   *testKey
	ad    []byte
	adFor func(vaultID [32]byte) []byte
}

func copyKey(k any) *testKey { key := keyOf(k); return newTestKey(key[:]) }

// recordSealings adds how every object the handle's state references was sealed
// (manifest chunks under the KEK, data chunks under their DEK), and how the
// header's root was sealed, keyed by a pseudo id for each header version.
func recordSealings(t *testing.T, v *Vault, into map[domain.ObjectID]sealing, roots map[string]sealing) {
	t.Helper()
	kek := copyKey(v.kek)
	for i, c := range v.root.manifest {
		epoch, id, final := v.root.epoch, c.id, i == len(v.root.manifest)-1
		into[c.id] = sealing{"manifest chunk", kek, manifestAD(v.root.vaultID, epoch)(id, uint32(i), final),
			func(vid [32]byte) []byte { return manifestAD(vid, epoch)(id, uint32(i), final) }}
	}
	for name, e := range v.man.categories {
		d, err := v.dek(e)
		if err != nil {
			t.Fatal(err)
		}
		dk := copyKey(d)
		for i, c := range e.chunks {
			e, id, final := e, c.id, i == len(e.chunks)-1
			into[c.id] = sealing{fmt.Sprintf("%s chunk %d", name, i), dk, dataAD(v.root.vaultID, e)(id, uint32(i), final),
				func(vid [32]byte) []byte { return dataAD(vid, e)(id, uint32(i), final) }}
		}
	}
	obj, _, err := v.store.GetVersioned(context.Background(), v.headerID)
	if err != nil {
		t.Fatal(err)
	}
	h, err := decodeHeader(obj)
	if err != nil {
		t.Fatal(err)
	}
	roots[string(h.root)] = sealing{"header root", kek, rootAD(v.headerID, h.fields), func([32]byte) []byte { return rootAD(v.headerID, h.fields) }}
}

// tryOpen reports whether sealed (not modified) opens under key with ad.
func tryOpen(key domain.AEAD, sealed, ad []byte) bool {
	_, err := key.Open(nil, sealed, ad)
	return err == nil
}

// oldCopyReport is what a copy of the store taken before a passphrase change,
// opened with the old passphrase, can do with the objects written after it.
type oldCopyReport struct {
	written   int // objects written after the copy was taken (header versions included)
	opened    int // of them, how many open under a key the old copy yields
	rewritten int // categories of the old copy whose content is in new objects now
	forged    int // of them, how many the old copy reads when pointed at the new objects
}

// oldCopyAgainstLaterWrites takes a copy of the store, runs change (Rekey or
// ChangePassphrase to newPass), then writes more: an existing category is
// rewritten (Store), another streamed (Put), a new one created. It then builds
// the store an attacker holds who kept the old copy and later sees the new
// objects: old copy ∪ every object written since (deleted or not; the header
// stays the old copy's), opens it with the old passphrase and tries every key it
// yields (the old KEK, every old DEK) on every new object, with the associated
// data the object was really sealed with and with that data rebuilt for the old
// vault id. Each object is first checked to open under its real key (so a
// failure means the key, not the associated data, is wrong).
func oldCopyAgainstLaterWrites(t *testing.T, change func(v *Vault) error) oldCopyReport {
	t.Helper()
	ctx := context.Background()
	f := newRekeyFixture(t, true)
	v := f.v
	snap := f.store.snapshot()
	f.store.mu.Lock()
	seen := maps.Clone(f.store.history) // written before the copy, deleted or not
	f.store.mu.Unlock()
	sealings := map[domain.ObjectID]sealing{}
	roots := map[string]sealing{}

	if err := change(v); err != nil {
		t.Fatal(err)
	}
	recordSealings(t, v, sealings, roots)
	later := map[string][]byte{"alpha": randomBytes(300), "beta": randomBytes(4000), "delta": randomBytes(100)}
	if err := v.Store(ctx, "alpha", later["alpha"]); err != nil {
		t.Fatal(err)
	}
	recordSealings(t, v, sealings, roots)
	if err := v.Put(ctx, "beta", bytes.NewReader(later["beta"])); err != nil {
		t.Fatal(err)
	}
	recordSealings(t, v, sealings, roots)
	if err := v.Store(ctx, "delta", later["delta"]); err != nil {
		t.Fatal(err)
	}
	recordSealings(t, v, sealings, roots)

	// The attacker's store: the old copy plus every object written since.
	attacker := newMapStore()
	attacker.restore(snap)
	f.store.mu.Lock()
	var newIDs []domain.ObjectID
	for id, obj := range f.store.history {
		if _, ok := seen[id]; !ok {
			newIDs = append(newIDs, id)
			attacker.objs[id] = bytes.Clone(obj)
		}
	}
	f.store.mu.Unlock()
	if len(newIDs) < 8 {
		t.Fatalf("only %d objects written after the copy", len(newIDs))
	}

	ov, err := f.open(t, attacker, oldPass)
	if err != nil {
		t.Fatalf("the old copy does not open with the old passphrase: %v", err)
	}
	if got := loadAllOf(t, ov); !sameContent(got, f.content) {
		t.Fatal("the old copy reads other content than before the change")
	}
	oldVaultID := ov.root.vaultID
	oldKeys := []domain.AEAD{ov.kek}
	for _, e := range ov.man.categories {
		d, err := ov.dek(e)
		if err != nil {
			t.Fatal(err)
		}
		oldKeys = append(oldKeys, d)
	}

	var rep oldCopyReport
	try := func(s sealing, sealed []byte) {
		t.Helper()
		rep.written++
		if !tryOpen(s.key, sealed, s.ad) {
			t.Fatalf("%s does not open under the key it was sealed with: the test is broken", s.what)
		}
		for _, k := range oldKeys {
			if tryOpen(k, sealed, s.ad) || tryOpen(k, sealed, s.adFor(oldVaultID)) {
				rep.opened++
				return
			}
		}
	}
	for _, id := range newIDs {
		s, ok := sealings[id]
		if !ok {
			t.Fatalf("object %s was written after the copy, but the test does not know how it was sealed", id)
		}
		try(s, attacker.objs[id][:])
	}
	for root, s := range roots {
		try(s, []byte(root))
	}

	// Through the old copy's own read path: point each of its categories at the
	// objects that hold the category's later content, keep everything else of the
	// old entry (its slot, generation and wrapped key), and read.
	for name, e := range ov.man.categories {
		cur, ok := v.man.categories[name]
		if !ok {
			continue
		}
		if _, old := seen[cur.chunks[0].id]; old {
			continue // not rewritten since the copy: nothing new to read
		}
		rep.rewritten++
		forged := *e
		forged.chunks, forged.size, forged.version = cur.chunks, cur.size, cur.version
		ov.man.categories[name] = &forged
		var buf bytes.Buffer
		err := ov.get(ctx, name, &buf)
		switch {
		case err == nil:
			if want, ok := later[name]; ok && !bytes.Equal(buf.Bytes(), want) {
				t.Fatalf("category %q read back as other bytes", name)
			}
			rep.forged++
		case !errors.Is(err, domain.ErrIntegrity):
			t.Fatalf("category %q: %v, want ErrIntegrity", name, err)
		}
	}
	return rep
}

// The point of Rekey: a copy of the store taken before it, with the old
// passphrase, opens nothing written after it.
func TestRekeyOldCopyCannotReadLaterWrites(t *testing.T) {
	rep := oldCopyAgainstLaterWrites(t, func(v *Vault) error {
		return v.Rekey(context.Background(), []byte(newPass), "")
	})
	t.Logf("Rekey: %+v", rep)
	if rep.opened != 0 || rep.forged != 0 || rep.rewritten != 4 {
		t.Fatalf("%+v: the old copy must open none of the later objects and read none of its 4 categories", rep)
	}
}

// What ChangePassphrase does not protect against, and the test above is able to
// see: the same old copy opens every data object written afterwards.
func TestChangePassphraseOldCopyReadsLaterWrites(t *testing.T) {
	rep := oldCopyAgainstLaterWrites(t, func(v *Vault) error {
		return v.ChangePassphrase(context.Background(), []byte(newPass))
	})
	t.Logf("ChangePassphrase: %+v", rep)
	// The data objects of the two categories rewritten afterwards (alpha: one
	// object, beta: two chunks) open under their old DEKs, and the old copy reads
	// both categories' later content. Only what is sealed under the new KEK (the
	// manifests, the roots) and the new category (its DEK is wrapped by the new
	// KEK) stay closed to it.
	if rep.opened != 3 || rep.rewritten != 2 || rep.forged != 2 {
		t.Fatalf("%+v: want the 3 later data objects of alpha and beta open and both categories read", rep)
	}
}

// rekeyWrites counts the store writes of a clean Rekey of a fresh fixture.
func rekeyWrites(t *testing.T, batched bool) int {
	t.Helper()
	f := newRekeyFixture(t, batched)
	f.store.mu.Lock()
	start := f.store.writes
	f.store.mu.Unlock()
	if err := f.v.Rekey(context.Background(), []byte(newPass), ""); err != nil {
		t.Fatal(err)
	}
	f.store.mu.Lock()
	defer f.store.mu.Unlock()
	return f.store.writes - start
}

// A store that fails the Nth write (a put of a data or manifest object, or the
// header swap; for every N) leaves the vault exactly as it was: the same objects
// byte for byte, the old passphrase opens it, the new one does not, and the handle
// reads on and can rekey again.
func TestRekeyFailedWriteLeavesVaultUnchanged(t *testing.T) {
	ctx := context.Background()
	for _, batched := range []bool{true, false} {
		t.Run(fmt.Sprintf("batched=%v", batched), func(t *testing.T) {
			total := rekeyWrites(t, batched)
			tally := map[string]int{}
			for n := 1; n <= total; n++ {
				f := newRekeyFixture(t, batched)
				before := f.store.snapshot()
				f.store.mu.Lock()
				var failedOp string
				base, inner := f.store.writes, failNth(n)
				f.store.fault = func(k int, op string) (bool, error) {
					apply, err := inner(k-base, op)
					if err != nil {
						failedOp = op
					}
					return apply, err
				}
				f.store.mu.Unlock()
				err := f.v.Rekey(ctx, []byte(newPass), "")
				f.store.mu.Lock()
				f.store.fault = nil
				f.store.mu.Unlock()
				if failedOp == "" {
					continue // write n was a deletion of an old object: not failed
				}
				if err == nil {
					// A refused header write is read back and sent again.
					tally[failedOp+", sent again, succeeded"]++
					nv, err := f.open(t, f.cfg.Store, newPass)
					if err != nil {
						t.Fatalf("write %d (%s) failed, Rekey succeeded: the new passphrase: %v", n, failedOp, err)
					}
					if got := loadAllOf(t, nv); !sameContent(got, f.content) {
						t.Fatalf("write %d (%s) failed, Rekey succeeded: other content", n, failedOp)
					}
					if _, err := f.open(t, f.cfg.Store, oldPass); !errors.Is(err, domain.ErrWrongPassphrase) {
						t.Fatalf("write %d (%s) failed, Rekey succeeded: the old passphrase: %v", n, failedOp, err)
					}
					continue
				}
				tally[failedOp+", failed"]++
				if !errors.Is(err, errInjected) {
					t.Fatalf("write %d (%s) failed: Rekey returned %v", n, failedOp, err)
				}
				// Every object as it was; the header only lists the Rekey's intent
				// (the next write drops it).
				after := f.store.snapshot()
				delete(after, f.v.headerID)
				delete(before, f.v.headerID)
				if !sameObjects(after, before) {
					t.Fatalf("write %d (%s) failed: the store changed", n, failedOp)
				}
				if got := loadAllOf(t, f.v); !sameContent(got, f.content) {
					t.Fatalf("write %d (%s) failed: the handle reads other content", n, failedOp)
				}
				ov, err := f.open(t, f.cfg.Store, oldPass)
				if err != nil {
					t.Fatalf("write %d (%s) failed: the old passphrase: %v", n, failedOp, err)
				}
				if got := loadAllOf(t, ov); !sameContent(got, f.content) {
					t.Fatalf("write %d (%s) failed: a fresh open reads other content", n, failedOp)
				}
				if _, err := f.open(t, f.cfg.Store, newPass); !errors.Is(err, domain.ErrWrongPassphrase) {
					t.Fatalf("write %d (%s) failed: the new passphrase: %v", n, failedOp, err)
				}
				if err := f.v.Rekey(ctx, []byte(newPass), ""); err != nil {
					t.Fatalf("write %d (%s) failed: the next Rekey: %v", n, failedOp, err)
				}
				if got, live := len(f.store.snapshot()), len(liveIDs(f.v)); got != live {
					t.Fatalf("write %d (%s) failed: after the next Rekey the store holds %d objects, the vault references %d", n, failedOp, got, live)
				}
			}
			t.Logf("%d writes in a clean Rekey; outcomes: %v", total, tally)
			if tally[opCAS+", sent again, succeeded"] != 2 || tally[opPut+", failed"] != 7 {
				t.Fatalf("tally %v: want the 7 puts failed once each, and both header writes (intent, swap) sent again", tally)
			}
		})
	}
}

// A header swap that takes effect but reports an error: Rekey reads the header
// back, sees its own, and succeeds.
func TestRekeySwapAppliedButReportedFailed(t *testing.T) {
	f := newRekeyFixture(t, true)
	f.store.mu.Lock()
	f.store.fault = func(_ int, op string) (bool, error) {
		if op == opCAS {
			return true, errInjected
		}
		return true, nil
	}
	f.store.mu.Unlock()
	if err := f.v.Rekey(context.Background(), []byte(newPass), ""); err != nil {
		t.Fatalf("Rekey: %v", err)
	}
	nv, err := f.open(t, f.cfg.Store, newPass)
	if err != nil {
		t.Fatal(err)
	}
	if got := loadAllOf(t, nv); !sameContent(got, f.content) {
		t.Fatal("other content")
	}
}

// A crash (nothing reaches the store from write N on; for every N, deletions
// included) leaves a vault that exactly one of the passphrases opens, with the
// content intact; Sweep then removes what the crash left unreferenced.
func TestRekeyCrashAtEveryWrite(t *testing.T) {
	ctx := context.Background()
	total := rekeyWrites(t, true)
	outcome := map[string]int{}
	for n := 1; n <= total+1; n++ {
		f := newRekeyFixture(t, true)
		f.store.mu.Lock()
		base, inner := f.store.writes, crashAt(n)
		f.store.fault = func(k int, op string) (bool, error) { return inner(k-base, op) }
		f.store.mu.Unlock()
		err := f.v.Rekey(ctx, []byte(newPass), "")
		// The crash: the process is gone, the store keeps what reached it.
		crashed := newMapStore()
		crashed.restore(f.store.snapshot())

		ov, oerr := f.open(t, crashed, oldPass)
		nv, nerr := f.open(t, crashed, newPass)
		var v *Vault
		switch {
		case oerr == nil && errors.Is(nerr, domain.ErrWrongPassphrase):
			v = ov
			outcome["old passphrase"]++
		case nerr == nil && errors.Is(oerr, domain.ErrWrongPassphrase):
			v = nv
			outcome["new passphrase"]++
		default:
			t.Fatalf("crash at write %d of %d (Rekey: %v): old passphrase %v, new %v: want exactly one to open", n, total, err, oerr, nerr)
		}
		if err == nil && v != nv {
			t.Fatalf("crash at write %d: Rekey succeeded, yet the old passphrase opens the vault", n)
		}
		if got := loadAllOf(t, v); !sameContent(got, f.content) {
			t.Fatalf("crash at write %d: other content", n)
		}
		// Sweep removes what a crash before the swap left (objects tagged for the
		// vault the listed Rekey was creating); the next write deletes what a crash
		// after it left (the old objects, in the new manifest's garbage list).
		swept, err := v.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Store(ctx, "later", []byte("after the crash")); err != nil {
			t.Fatal(err)
		}
		if len(crashed.snapshot()) != len(liveIDs(v)) {
			t.Fatalf("crash at write %d: after Sweep (%d removed) and a write the store holds %d objects, the vault references %d", n, swept, len(crashed.snapshot()), len(liveIDs(v)))
		}
		want := maps.Clone(f.content)
		want["later"] = []byte("after the crash")
		if got := loadAllOf(t, v); !sameContent(got, want) {
			t.Fatalf("crash at write %d: other content after Sweep and a write", n)
		}
	}
	t.Logf("%d writes in a clean Rekey; after a crash before each: %v", total, outcome)
	if outcome["old passphrase"] == 0 || outcome["new passphrase"] == 0 {
		t.Fatalf("outcomes %v: want crashes on both sides of the swap", outcome)
	}
}

// The objects of small categories reach the store in batches of at most one
// largest object's worth of bytes; the chunks of large ones one Put each.
func TestRekeyBatchesAreBounded(t *testing.T) {
	f := newRekeyFixture(t, true)
	ctx := context.Background()
	for i := range 6 {
		if err := f.v.Store(ctx, fmt.Sprintf("small-%d", i), randomBytes(900)); err != nil {
			t.Fatal(err)
		}
	}
	rec := &batchRecorder{mapStore: f.store}
	f.v.store = rec
	if err := f.v.Rekey(ctx, []byte(newPass), ""); err != nil {
		t.Fatal(err)
	}
	max := f.v.policy.Max()
	var sizes []string
	for _, b := range rec.batches {
		sizes = append(sizes, fmt.Sprint(b))
		if b > max {
			t.Fatalf("a batch of %d bytes, over the largest object (%d)", b, max)
		}
	}
	t.Logf("batches (bytes): %s; single puts: %d", strings.Join(sizes, " "), rec.puts)
	// 9 small objects (two of 512 bytes, seven of 1,024: 8,192 bytes) in batches
	// of at most 2,048 bytes, sorted by size: 4 batches, plus the manifest's.
	// beta's 3 chunks are single puts.
	if len(rec.batches) != 5 || rec.puts != 3 {
		t.Fatalf("%d batches and %d puts, want 4 batches of data, the manifest's, and beta's 3 chunks alone", len(rec.batches), rec.puts)
	}
}

type batchRecorder struct {
	*mapStore
	batches []int
	ids     [][]domain.ObjectID
	puts    int
}

func (r *batchRecorder) Put(ctx context.Context, id domain.ObjectID, data []byte) error {
	r.puts++
	return r.mapStore.Put(ctx, id, data)
}

func (r *batchRecorder) PutBatch(ctx context.Context, objs []domain.Object) error {
	n := 0
	for _, o := range objs {
		n += len(o.Data)
	}
	r.batches = append(r.batches, n)
	var ids []domain.ObjectID
	for _, o := range objs {
		ids = append(ids, o.ID)
	}
	r.ids = append(r.ids, ids)
	return r.mapStore.PutBatch(ctx, objs)
}
