package vault

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/domain"
)

// fakeStore is an in-memory BlobStore whose header writes and reads tests can
// fail before or after they apply, that can refuse to list, report pinned
// versions and have its objects edited behind the vault's back. Versions are
// content hashes. (mapStore, fakes_test.go, adds a Batcher, a Locker, a write
// history and faults by write number.)
type fakeStore struct {
	mu     sync.Mutex
	objs   map[domain.ObjectID][]byte
	noList bool                  // List fails with errors.ErrUnsupported
	onGet  func(domain.ObjectID) // called by Get and GetVersioned before reading, without the lock
	// pinned versions are reported whatever the bytes: a store whose versions are
	// not content hashes, edited behind its back.
	pinned map[domain.ObjectID]domain.Version
	// cas, when set, runs every CompareAndSwap: apply performs it.
	cas func(call int, apply func() (domain.Version, error)) (domain.Version, error)
	// getv, when set, runs every GetVersioned.
	getv    func(id domain.ObjectID) error
	casN    int
	deletes int // Delete calls, absent objects included
	deleted []domain.ObjectID
	// delAnswer, when set, answers every Delete of an object that was there,
	// after deleting it, numbered from 1 (delN).
	delAnswer func(call int) error
	delN      int
}

func newFakeStore() *fakeStore { return &fakeStore{objs: map[domain.ObjectID][]byte{}} }

func version(b []byte) domain.Version {
	s := sha256.Sum256(b)
	return domain.Version(hex.EncodeToString(s[:]))
}

func (s *fakeStore) Put(ctx context.Context, id domain.ObjectID, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objs[id] = slices.Clone(data)
	return nil
}

func (s *fakeStore) Get(ctx context.Context, id domain.ObjectID) ([]byte, error) {
	b, _, err := s.read(ctx, id)
	return b, err
}

func (s *fakeStore) GetVersioned(ctx context.Context, id domain.ObjectID) ([]byte, domain.Version, error) {
	if s.getv != nil {
		if err := s.getv(id); err != nil {
			return nil, "", err
		}
	}
	return s.read(ctx, id)
}

func (s *fakeStore) read(ctx context.Context, id domain.ObjectID) ([]byte, domain.Version, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	if s.onGet != nil {
		s.onGet(id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.objs[id]
	if !ok {
		return nil, "", fmt.Errorf("fakestore: get %s: %w", id, domain.ErrNotFound)
	}
	if v, ok := s.pinned[id]; ok {
		return slices.Clone(b), v, nil
	}
	return slices.Clone(b), version(b), nil
}

func (s *fakeStore) Delete(_ context.Context, id domain.ObjectID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deletes++
	if _, ok := s.objs[id]; !ok {
		return domain.ErrNotFound
	}
	delete(s.objs, id)
	s.deleted = append(s.deleted, id)
	if s.delAnswer != nil {
		s.delN++
		return s.delAnswer(s.delN)
	}
	return nil
}

func (s *fakeStore) List(_ context.Context, fn func(domain.ObjectID) error) error {
	if s.noList {
		return fmt.Errorf("fakestore: list: %w", errors.ErrUnsupported)
	}
	s.mu.Lock()
	ids := slices.Collect(maps.Keys(s.objs))
	s.mu.Unlock()
	for _, id := range ids {
		if err := fn(id); err != nil {
			return err
		}
	}
	return nil
}

func (s *fakeStore) apply(id domain.ObjectID, expected domain.Version, data []byte) (domain.Version, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.objs[id]
	switch {
	case expected == "" && ok, expected != "" && (!ok || version(cur) != expected):
		return "", domain.ErrConflict
	}
	s.objs[id] = slices.Clone(data)
	return version(data), nil
}

func (s *fakeStore) CompareAndSwap(_ context.Context, id domain.ObjectID, expected domain.Version, data []byte) (domain.Version, error) {
	s.mu.Lock()
	s.casN++
	n, hook := s.casN, s.cas
	s.mu.Unlock()
	apply := func() (domain.Version, error) { return s.apply(id, expected, data) }
	if hook != nil {
		return hook(n, apply)
	}
	return apply()
}

// hook installs fn for every CompareAndSwap from now on, numbered from 1.
func (s *fakeStore) hook(fn func(call int, apply func() (domain.Version, error)) (domain.Version, error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cas, s.casN = fn, 0
}

func (s *fakeStore) snapshot() map[domain.ObjectID][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.objs)
}

// edit changes the stored bytes of id in place (no new version semantics: it is
// damage, not a write).
func (s *fakeStore) edit(t *testing.T, id domain.ObjectID, f func([]byte) []byte) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.objs[id]
	if !ok {
		t.Fatalf("edit: no object %s", id)
	}
	s.objs[id] = f(slices.Clone(b))
}

// lockedStore adds a writer lock (one writer at a time, in this process).
type lockedStore struct {
	*fakeStore
	l sync.Mutex
}

func (s *lockedStore) Lock(ctx context.Context) (func() error, error) {
	s.l.Lock()
	return func() error { s.l.Unlock(); return nil }, nil
}

// errAmbiguous is what a proxy answers after forwarding a request.
var errAmbiguous = errors.New("proxy: 503 after forwarding")

var pass = []byte("correct horse")

func newCfg(store domain.BlobStore) Config {
	return Config{Store: store, Crypto: keyedCrypto{}, Padding: domain.DefaultBuckets()}
}

func mustCreate(t *testing.T, cfg Config) *Vault {
	t.Helper()
	v, err := Create(context.Background(), cfg, pass)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	return v
}

func mustOpen(t *testing.T, cfg Config) *Vault {
	t.Helper()
	v, err := Open(context.Background(), cfg, pass)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	return v
}

// referenced returns the ids the vault in cfg references, the header included.
func referenced(t *testing.T, cfg Config) map[domain.ObjectID]bool {
	t.Helper()
	v := mustOpen(t, cfg)
	live := map[domain.ObjectID]bool{v.headerID: true}
	for _, c := range v.root.manifest {
		live[c.id] = true
	}
	for _, e := range v.man.categories {
		for _, c := range e.chunks {
			live[c.id] = true
		}
	}
	return live
}

// exactlyReferenced fails unless the store holds exactly the objects the vault
// references.
func exactlyReferenced(t *testing.T, cfg Config, s *fakeStore) {
	t.Helper()
	live := referenced(t, cfg)
	for id := range s.snapshot() {
		if !live[id] {
			t.Errorf("unreferenced object %s left in the store", id)
		}
	}
	for id := range live {
		if _, ok := s.snapshot()[id]; !ok {
			t.Errorf("referenced object %s missing", id)
		}
	}
}

func wantContent(t *testing.T, cfg Config, want map[string]string) {
	t.Helper()
	v := mustOpen(t, cfg)
	got, err := v.LoadAll(context.Background())
	if err != nil {
		t.Fatalf("LoadAll: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("vault holds %d categories, want %d", len(got), len(want))
	}
	for k, w := range want {
		if string(got[k]) != w {
			t.Fatalf("category %q = %q, want %q", k, got[k], w)
		}
	}
}

// A header write that a proxy forwarded and then answered with an error (or a
// refusal of its own resend) is settled by reading the header back: the write
// succeeds and nothing it wrote is deleted. Stores with and without a writer lock.
func TestCommitAppliedThenFailedIsSettledByReadBack(t *testing.T) {
	for _, locked := range []bool{false, true} {
		for _, answer := range []error{errAmbiguous, domain.ErrConflict} {
			t.Run(fmt.Sprintf("locked=%v/%v", locked, answer), func(t *testing.T) {
				ctx := context.Background()
				fs := newFakeStore()
				var store domain.BlobStore = fs
				if locked {
					store = &lockedStore{fakeStore: fs}
				}
				cfg := newCfg(store)
				v := mustCreate(t, cfg)
				if err := v.Store(ctx, "a", []byte("first")); err != nil {
					t.Fatal(err)
				}
				// Every header write from now on applies, then reports answer.
				fs.hook(func(_ int, apply func() (domain.Version, error)) (domain.Version, error) {
					if _, err := apply(); err != nil {
						return "", err
					}
					return "", answer
				})
				if err := v.Store(ctx, "a", []byte("second")); err != nil {
					t.Fatalf("Store after an applied header write: %v", err)
				}
				if err := v.Store(ctx, "b", []byte("other")); err != nil {
					t.Fatalf("Store after an applied header write: %v", err)
				}
				fs.cas = nil
				wantContent(t, cfg, map[string]string{"a": "second", "b": "other"})
				exactlyReferenced(t, cfg, fs)
			})
		}
	}
}

// A header write whose outcome cannot be read back keeps every object: the
// header may reference them. The next write settles it and removes what is
// unreferenced.
func TestCommitOutcomeUnknownKeepsObjectsAndTheNextWriteCollects(t *testing.T) {
	for _, applied := range []bool{false, true} {
		t.Run(fmt.Sprintf("applied=%v", applied), func(t *testing.T) {
			ctx := context.Background()
			fs := newFakeStore()
			cfg := newCfg(fs)
			v := mustCreate(t, cfg)
			if err := v.Store(ctx, "a", []byte("first")); err != nil {
				t.Fatal(err)
			}
			down := false
			// The intent's header write (call 1) goes through; the commit's (call 2)
			// is lost, applied or not, and the store stops answering.
			fs.hook(func(n int, apply func() (domain.Version, error)) (domain.Version, error) {
				if n == 1 {
					return apply()
				}
				if !down && applied {
					if _, err := apply(); err != nil {
						return "", err
					}
				}
				down = true
				return "", errAmbiguous
			})
			fs.getv = func(id domain.ObjectID) error {
				if down {
					return errors.New("connection refused")
				}
				return nil
			}
			before := len(fs.deleted)
			err := v.Store(ctx, "a", []byte("second"))
			if !errors.Is(err, domain.ErrOutcomeUnknown) {
				t.Fatalf("Store with a lost header write and no read-back: %v, want ErrOutcomeUnknown", err)
			}
			if len(fs.deleted) != before {
				t.Fatalf("%d objects deleted after an unknown outcome", len(fs.deleted)-before)
			}
			fs.cas, fs.getv = nil, nil
			want := "first"
			if applied {
				want = "second"
			}
			wantContent(t, cfg, map[string]string{"a": want})
			// The same handle writes again: its own intent is stale, so the write
			// collects what the lost one left.
			if err := v.Store(ctx, "b", []byte("x")); err != nil {
				t.Fatal(err)
			}
			wantContent(t, cfg, map[string]string{"a": want, "b": "x"})
			exactlyReferenced(t, cfg, fs)
		})
	}
}

// The collection of an abandoned intent goes on past a deletion whose answer was
// lost (the object deleted, an error returned): the objects written after it
// are deleted too. Before, the first failed deletion ended the probe, and
// nothing listed the rest any more.
func TestCollectionGoesOnAfterALostDeleteAnswer(t *testing.T) {
	ctx := context.Background()
	fs := newFakeStore()
	cfg := newCfg(fs)
	v := mustCreate(t, cfg)
	if err := v.Store(ctx, "a", []byte("first")); err != nil {
		t.Fatal(err)
	}
	// A streamed put of three chunks lists its intent (call 1), writes its
	// objects, and its commit is lost with the store gone: the intent stays.
	loseCommitThenGoDown(fs)
	if err := v.Put(ctx, "big", bytes.NewReader(make([]byte, 5<<19))); !errors.Is(err, domain.ErrOutcomeUnknown) {
		t.Fatalf("Put with a lost commit: %v, want ErrOutcomeUnknown", err)
	}
	fs.cas, fs.getv = nil, nil
	// The next write collects the intent; the answer to its first deletion (the
	// put's first chunk) is lost after the object was deleted.
	fs.delAnswer = func(call int) error {
		if call == 1 {
			return errAmbiguous
		}
		return nil
	}
	if err := v.Store(ctx, "b", []byte("x")); err != nil {
		t.Fatal(err)
	}
	fs.delAnswer = nil
	wantContent(t, cfg, map[string]string{"a": "first", "b": "x"})
	exactlyReferenced(t, cfg, fs)
}

// After a lost header write another writer commits; the read-back shows its
// header. If that header was built on ours, the write succeeded; if not, the
// write rebases. Either way no object the other writer references is deleted.
// The lost answer may say so itself (httpblob's ErrOutcomeUnknown): the read-back
// settles it all the same.
func TestCommitReadBackShowsAnotherWriter(t *testing.T) {
	unknown := fmt.Errorf("%w: server answered 503 (status 503)", domain.ErrOutcomeUnknown)
	for _, answer := range []error{errAmbiguous, unknown} {
		for _, ours := range []bool{true, false} {
			t.Run(fmt.Sprintf("oursApplied=%v/%v", ours, answer), func(t *testing.T) {
				readBackShowsAnotherWriter(t, ours, answer)
			})
		}
	}
}

func readBackShowsAnotherWriter(t *testing.T, ours bool, answer error) {
	ctx := context.Background()
	fs := newFakeStore()
	cfg := newCfg(fs)
	a := mustCreate(t, cfg)
	if err := a.Store(ctx, "a", []byte("a1")); err != nil {
		t.Fatal(err)
	}
	b := mustOpen(t, cfg)
	fired := false
	fs.hook(func(n int, apply func() (domain.Version, error)) (domain.Version, error) {
		if fired || n%2 == 1 {
			return apply()
		}
		// A's commit: apply it or not, then let B commit before A reads back.
		fired = true
		if ours {
			if _, err := apply(); err != nil {
				return "", err
			}
		}
		if err := b.Store(ctx, "b", []byte("b1")); err != nil {
			t.Errorf("B's Store: %v", err)
		}
		return "", answer
	})
	if err := a.Store(ctx, "c", []byte("c1")); err != nil {
		t.Fatalf("A's Store: %v", err)
	}
	fs.cas = nil
	wantContent(t, cfg, map[string]string{"a": "a1", "b": "b1", "c": "c1"})
	exactlyReferenced(t, cfg, fs)
}

// A refused header write (another writer's header is current and does not
// reference ours) deletes what the write put once it gives up, and nothing else.
func TestConflictOnTheSameCategoryDiscardsOnlyOwnObjects(t *testing.T) {
	ctx := context.Background()
	fs := newFakeStore()
	cfg := newCfg(fs)
	a := mustCreate(t, cfg)
	if err := a.Store(ctx, "x", []byte("0")); err != nil {
		t.Fatal(err)
	}
	b := mustOpen(t, cfg)
	fired := false
	fs.hook(func(n int, apply func() (domain.Version, error)) (domain.Version, error) {
		if !fired && n%2 == 0 {
			fired = true
			if err := b.Store(ctx, "x", []byte("from b")); err != nil {
				t.Errorf("B's Store: %v", err)
			}
		}
		return apply()
	})
	err := a.Store(ctx, "x", []byte("from a"))
	if !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("A's Store of a category B changed: %v, want ErrConflict", err)
	}
	fs.cas = nil
	wantContent(t, cfg, map[string]string{"x": "from b"})
	// A's intent is still listed (A's objects are gone); the next write collects it.
	if err := a.Store(ctx, "y", []byte("y")); err != nil {
		t.Fatal(err)
	}
	exactlyReferenced(t, cfg, fs)
}

// An intent whose writer is gone is collected by the next write of another
// writer, after that write commits; the abandoned writer can then never commit.
func TestAbandonedIntentIsCollectedAndCannotCommit(t *testing.T) {
	for _, rule := range []string{"holder gone", "expired"} {
		t.Run(rule, func(t *testing.T) {
			ctx := context.Background()
			fs := newFakeStore()
			cfgA := newCfg(fs)
			cfgA.Holder = "host-1:100"
			a := mustCreate(t, cfgA)
			if err := a.Store(ctx, "keep", []byte("k")); err != nil {
				t.Fatal(err)
			}
			cfgB := newCfg(fs)
			cfgB.Holder = "host-1:200"
			switch rule {
			case "holder gone":
				cfgB.HolderGone = func(h string) bool { return h == "host-1:100" }
			case "expired":
				cfgB.IntentExpiry = time.Nanosecond
			}
			b := mustOpen(t, cfgB)
			// A lists its intent and writes its objects; B commits in between A's
			// puts and A's commit.
			fs.hook(func(n int, apply func() (domain.Version, error)) (domain.Version, error) {
				if n == 2 { // A's commit
					fs.cas = nil
					if err := b.Store(ctx, "b", []byte("b")); err != nil {
						t.Errorf("B's Store: %v", err)
					}
				}
				return apply()
			})
			before := fs.snapshot()
			err := a.Put(ctx, "big", bytes.NewReader(make([]byte, 3<<20)))
			if !errors.Is(err, domain.ErrConflict) {
				t.Fatalf("A's commit after B collected its intent: %v, want ErrConflict", err)
			}
			wantContent(t, cfgA, map[string]string{"keep": "k", "b": "b"})
			exactlyReferenced(t, cfgA, fs)
			_ = before
		})
	}
}

// A live writer's intent is not collected: two writers interleave and both
// commit.
func TestLiveIntentSurvivesAnotherWrite(t *testing.T) {
	ctx := context.Background()
	fs := newFakeStore()
	cfg := newCfg(fs)
	a := mustCreate(t, cfg)
	b := mustOpen(t, cfg)
	fs.hook(func(n int, apply func() (domain.Version, error)) (domain.Version, error) {
		if n == 2 { // A's intent is listed; B writes before A's commit
			fs.cas = nil
			if err := b.Store(ctx, "b", []byte("b")); err != nil {
				t.Errorf("B's Store: %v", err)
			}
		}
		return apply()
	})
	if err := a.Put(ctx, "a", bytes.NewReader(make([]byte, 2<<20))); err != nil {
		t.Fatalf("A's Put: %v", err)
	}
	wantContent(t, cfg, map[string]string{"a": string(make([]byte, 2<<20)), "b": "b"})
	exactlyReferenced(t, cfg, fs)
}

// Sweep deletes only unreferenced objects that carry this vault's tag: the
// objects of another named vault in the same store, and foreign objects, survive.
func TestSweepDeletesOnlyItsOwnObjects(t *testing.T) {
	ctx := context.Background()
	fs := newFakeStore()
	store := &lockedStore{fakeStore: fs}
	cfgA, cfgB := newCfg(store), newCfg(store)
	cfgB.Name, cfgB.SharedStore = "other", true
	a := mustCreate(t, cfgA)
	b := mustCreate(t, cfgB)
	if err := a.Store(ctx, "a", []byte("a")); err != nil {
		t.Fatal(err)
	}
	if err := b.Store(ctx, "b", []byte("b")); err != nil {
		t.Fatal(err)
	}
	// Leftovers of A: a write whose header write is lost.
	lost := false
	fs.hook(func(int, func() (domain.Version, error)) (domain.Version, error) {
		lost = true
		return "", domain.ErrConflict
	})
	fs.getv = func(id domain.ObjectID) error {
		if lost {
			return errors.New("timeout")
		}
		return nil
	}
	if err := a.Store(ctx, "lost", []byte("lost")); !errors.Is(err, domain.ErrOutcomeUnknown) {
		t.Fatalf("lost write: %v", err)
	}
	fs.cas, fs.getv = nil, nil
	var foreign domain.ObjectID
	_, _ = rand.Read(foreign[:])
	_ = fs.Put(ctx, foreign, make([]byte, 1024))
	n, err := a.Sweep(ctx)
	if err != nil || n != 2 {
		t.Fatalf("Sweep: %d, %v; want the 2 objects of the lost write", n, err)
	}
	if _, ok := fs.snapshot()[foreign]; !ok {
		t.Fatal("Sweep deleted a foreign object")
	}
	wantContent(t, cfgB, map[string]string{"b": "b"})
	wantContent(t, cfgA, map[string]string{"a": "a"})
}

// Create refuses a store that holds objects, unless told it is shared.
func TestCreateRefusesANonEmptyStore(t *testing.T) {
	ctx := context.Background()
	fs := newFakeStore()
	var id domain.ObjectID
	_, _ = rand.Read(id[:])
	_ = fs.Put(ctx, id, make([]byte, 1024))
	before := fs.snapshot()
	if _, err := Create(ctx, newCfg(fs), pass); !errors.Is(err, domain.ErrNotEmpty) {
		t.Fatalf("Create on a non-empty store: %v, want ErrNotEmpty", err)
	}
	if !maps.EqualFunc(before, fs.snapshot(), bytes.Equal) {
		t.Fatal("a refused Create changed the store")
	}
	cfg := newCfg(fs)
	cfg.SharedStore = true
	mustCreate(t, cfg)
}

// On a store shared with other clients the header id derives from the locator,
// and every write carries the object's write-enabler.
func TestLocatorAndWriteEnablers(t *testing.T) {
	ctx := context.Background()
	g := &guardedStore{fakeStore: newFakeStore(), enablers: map[domain.ObjectID]domain.WriteEnabler{}}
	cfg := newCfg(g)
	if _, err := Create(ctx, cfg, pass); !errors.Is(err, domain.ErrInvalidInput) {
		t.Fatalf("Create on a guarded store without a locator: %v", err)
	}
	cfg.Locator = bytes.Repeat([]byte{7}, 32)
	v := mustCreate(t, cfg)
	if v.headerID == HeaderID("") {
		t.Fatal("the header id is the guessable one")
	}
	if err := v.Store(ctx, "a", []byte("a")); err != nil {
		t.Fatal(err)
	}
	if err := v.Store(ctx, "a", []byte("b")); err != nil {
		t.Fatal(err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.unguarded > 0 {
		t.Fatalf("%d writes without an enabler", g.unguarded)
	}
	seen := map[domain.WriteEnabler]domain.ObjectID{}
	for id, e := range g.enablers {
		if other, ok := seen[e]; ok {
			t.Fatalf("objects %s and %s share an enabler", id, other)
		}
		seen[e] = id
	}
}

// guardedStore records the enabler of every write and refuses a write of an
// existing object with another enabler.
type guardedStore struct {
	*fakeStore
	enablers  map[domain.ObjectID]domain.WriteEnabler
	unguarded int
}

func (g *guardedStore) Guarded(fn func(domain.ObjectID) domain.WriteEnabler) domain.BlobStore {
	return &guardedView{g: g, fn: fn}
}

func (g *guardedStore) Put(context.Context, domain.ObjectID, []byte) error {
	g.mu.Lock()
	g.unguarded++
	g.mu.Unlock()
	return errors.New("unguarded write")
}

type guardedView struct {
	g  *guardedStore
	fn func(domain.ObjectID) domain.WriteEnabler
}

func (v *guardedView) check(id domain.ObjectID) error {
	e := v.fn(id)
	v.g.mu.Lock()
	defer v.g.mu.Unlock()
	if old, ok := v.g.enablers[id]; ok && old != e {
		return domain.ErrConflict
	}
	v.g.enablers[id] = e
	return nil
}

func (v *guardedView) Put(ctx context.Context, id domain.ObjectID, data []byte) error {
	if err := v.check(id); err != nil {
		return err
	}
	return v.g.fakeStore.Put(ctx, id, data)
}

func (v *guardedView) Get(ctx context.Context, id domain.ObjectID) ([]byte, error) {
	return v.g.fakeStore.Get(ctx, id)
}

func (v *guardedView) GetVersioned(ctx context.Context, id domain.ObjectID) ([]byte, domain.Version, error) {
	return v.g.fakeStore.GetVersioned(ctx, id)
}

func (v *guardedView) Delete(ctx context.Context, id domain.ObjectID) error {
	if err := v.check(id); err != nil {
		return domain.ErrNotFound
	}
	return v.g.fakeStore.Delete(ctx, id)
}

func (v *guardedView) List(context.Context, func(domain.ObjectID) error) error {
	return fmt.Errorf("guarded: %w", errors.ErrUnsupported)
}

func (v *guardedView) CompareAndSwap(ctx context.Context, id domain.ObjectID, expected domain.Version, data []byte) (domain.Version, error) {
	if err := v.check(id); err != nil {
		return "", err
	}
	return v.g.fakeStore.CompareAndSwap(ctx, id, expected, data)
}

// The garbage list is deleted again by the next write of another handle (its
// writer may have died before deleting it), but not by the handle that made it
// and deleted all of it.
func TestGarbageIsDeletedAgainOnlyByOtherHandles(t *testing.T) {
	ctx := context.Background()
	fs := newFakeStore()
	cfg := newCfg(fs)
	v := mustCreate(t, cfg)
	for _, content := range []string{"1", "2"} {
		if err := v.Store(ctx, "a", []byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	deletesOf := func(v *Vault, category string) int {
		t.Helper()
		before := fs.deletes
		if err := v.Store(ctx, category, []byte("x")); err != nil {
			t.Fatal(err)
		}
		return fs.deletes - before
	}
	// A new category replaces only the manifest (one object).
	if n := deletesOf(v, "b"); n != 1 {
		t.Fatalf("the handle that deleted the last garbage sent %d deletions, want 1 (its own obsolete manifest)", n)
	}
	// Another handle also deletes the garbage of that commit again: the old manifest.
	if n := deletesOf(mustOpen(t, cfg), "c"); n != 2 {
		t.Fatalf("another handle sent %d deletions, want 2 (its obsolete manifest and the previous commit's garbage)", n)
	}
	exactlyReferenced(t, cfg, fs)
}

// loseCommitThenGoDown lets the next header write (the intent, call 1) through
// and loses the one after it (the commit) without an answer; from then on the
// header cannot be read back either, so the commit's outcome stays unknown.
func loseCommitThenGoDown(fs *fakeStore) {
	down := false
	fs.hook(func(n int, apply func() (domain.Version, error)) (domain.Version, error) {
		if n == 1 {
			return apply()
		}
		down = true
		return "", errAmbiguous
	})
	fs.getv = func(domain.ObjectID) error {
		if down {
			return errors.New("connection refused")
		}
		return nil
	}
}
