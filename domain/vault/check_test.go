package vault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/ai-pantheon/aegis/domain"
)

var testPass = []byte("correct horse battery staple")

// smallBuckets makes multi-chunk categories out of a few KiB.
func smallBuckets(t testing.TB, sizes ...int) domain.PaddingPolicy {
	t.Helper()
	b, err := domain.NewBuckets(sizes)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkFixture is a vault of three categories over a fakeStore with buckets of 1 and
// 4 KiB: "notes" and "settings" of one 1 KiB chunk each, and "photos", binary, of
// six 4 KiB chunks.
type checkFixture struct {
	store *fakeStore
	cfg   Config
	v     *Vault
}

func newCheckFixture(t *testing.T) *checkFixture {
	t.Helper()
	ctx := context.Background()
	f := &checkFixture{store: newFakeStore()}
	f.cfg = Config{Store: f.store, Crypto: keyedCrypto{}, Padding: smallBuckets(t, 1024, 4096)}
	v, err := Create(ctx, f.cfg, testPass)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	photos := make([]byte, 22_000)
	r := rand.NewChaCha8([32]byte{1})
	_, _ = r.Read(photos)
	if err := v.StoreAll(ctx, map[string][]byte{"notes": []byte("dear diary"), "settings": []byte(`{"theme":"dark"}`)}); err != nil {
		t.Fatal(err)
	}
	if err := v.Put(ctx, "photos", bytes.NewReader(photos)); err != nil {
		t.Fatal(err)
	}
	f.v = v
	if n := len(f.chunks("photos")); n != 6 {
		t.Fatalf("photos has %d chunks, want 6", n)
	}
	return f
}

// chunks returns the chunk ids of a category.
func (f *checkFixture) chunks(category string) []domain.ObjectID {
	return idsOf(f.v.man.categories[category].chunks)
}

// check opens the vault afresh, as the CLI does, and checks it.
func (f *checkFixture) check(t *testing.T, opts CheckOptions) CheckReport {
	t.Helper()
	v, err := Open(context.Background(), f.cfg, testPass)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer v.Close()
	rep, err := v.Check(context.Background(), opts)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	return rep
}

func flip(off int) func([]byte) []byte {
	return func(b []byte) []byte { b[off] ^= 0x01; return b }
}

type finding struct{ category, kind string }

func findings(ps []CheckProblem) []finding {
	out := []finding{}
	for _, p := range ps {
		out = append(out, finding{p.Category, p.Kind})
	}
	return out
}

func TestCheck(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, f *checkFixture)
		// want: the problems of a check without and with ReadData.
		sizesOnly, readData []finding
		unreferenced, own   int
	}{
		{name: "clean vault", damage: func(*testing.T, *checkFixture) {}},
		{
			name: "truncated chunk",
			damage: func(t *testing.T, f *checkFixture) {
				f.store.edit(t, f.chunks("photos")[3], func(b []byte) []byte { return b[:len(b)-100] })
			},
			sizesOnly: []finding{{"photos", ProblemTruncated}},
			readData:  []finding{{"photos", ProblemTruncated}},
		},
		{
			name: "chunk grown by one byte",
			damage: func(t *testing.T, f *checkFixture) {
				f.store.edit(t, f.chunks("notes")[0], func(b []byte) []byte { return append(b, 0) })
			},
			sizesOnly: []finding{{"notes", ProblemSize}},
			readData:  []finding{{"notes", ProblemSize}},
		},
		{
			name: "flipped byte in a chunk of a binary category: the size is right, only ReadData sees it",
			damage: func(t *testing.T, f *checkFixture) {
				f.store.edit(t, f.chunks("photos")[2], flip(2000))
			},
			readData: []finding{{"photos", ProblemAuth}},
		},
		{
			name: "missing chunk",
			damage: func(t *testing.T, f *checkFixture) {
				if err := f.store.Delete(context.Background(), f.chunks("photos")[5]); err != nil {
					t.Fatal(err)
				}
			},
			sizesOnly: []finding{{"photos", ProblemMissing}},
			readData:  []finding{{"photos", ProblemMissing}},
		},
		{
			name: "chunk replaced by another chunk of the same category and size (reordered)",
			damage: func(t *testing.T, f *checkFixture) {
				ids := f.chunks("photos")
				other, _ := f.store.Get(context.Background(), ids[1])
				f.store.edit(t, ids[0], func([]byte) []byte { return other })
			},
			readData: []finding{{"photos", ProblemAuth}},
		},
		{
			name: "chunk replaced by another category's chunk of the same size",
			damage: func(t *testing.T, f *checkFixture) {
				other, _ := f.store.Get(context.Background(), f.chunks("settings")[0])
				f.store.edit(t, f.chunks("notes")[0], func([]byte) []byte { return other })
			},
			readData: []finding{{"notes", ProblemAuth}},
		},
		{
			name: "foreign object: unreferenced, not damage",
			damage: func(t *testing.T, f *checkFixture) {
				id, _ := domain.NewObjectID(nil)
				_ = f.store.Put(context.Background(), id, make([]byte, 1024))
			},
			unreferenced: 1,
		},
		{
			name: "debris of an interrupted write: unreferenced, this vault's own, not damage",
			damage: func(t *testing.T, f *checkFixture) {
				w, err := f.v.newWrite(f.v.root.vaultID)
				if err != nil {
					t.Fatal(err)
				}
				for range 2 {
					id, _ := w.nextData()
					_ = f.store.Put(context.Background(), id, make([]byte, 4096))
				}
			},
			unreferenced: 2, own: 2,
		},
		{
			name: "every damaged category is named, each with every problem",
			damage: func(t *testing.T, f *checkFixture) {
				ids := f.chunks("photos")
				f.store.edit(t, ids[1], flip(10))
				f.store.edit(t, ids[4], flip(4000))
				_ = f.store.Delete(context.Background(), f.chunks("settings")[0])
				f.store.edit(t, f.chunks("notes")[0], flip(500))
			},
			sizesOnly: []finding{{"settings", ProblemMissing}},
			readData:  []finding{{"notes", ProblemAuth}, {"photos", ProblemAuth}, {"photos", ProblemAuth}, {"settings", ProblemMissing}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newCheckFixture(t)
			tc.damage(t, f)
			for _, readData := range []bool{false, true} {
				want := tc.sizesOnly
				if readData {
					want = tc.readData
				}
				if want == nil {
					want = []finding{}
				}
				rep := f.check(t, CheckOptions{ReadData: readData})
				if got := findings(rep.Problems); !slices.Equal(got, want) {
					t.Errorf("ReadData %v: problems %v, want %v\n%+v", readData, got, want, rep.Problems)
				}
				if rep.Damaged() != (len(want) > 0) {
					t.Errorf("ReadData %v: Damaged() = %v with problems %v", readData, rep.Damaged(), want)
				}
				if rep.ReadData != readData || rep.Categories != 3 || rep.Objects != 1+len(f.v.root.manifest)+8 {
					t.Errorf("ReadData %v: report %+v, want 3 categories and %d objects", readData, rep, 1+len(f.v.root.manifest)+8)
				}
				if rep.Unreferenced == nil || *rep.Unreferenced != tc.unreferenced || *rep.UnreferencedOwn != tc.own {
					t.Errorf("ReadData %v: unreferenced %v (own %v), want %d (own %d)", readData, rep.Unreferenced, rep.UnreferencedOwn, tc.unreferenced, tc.own)
				}
				if len(rep.Warnings) != 0 {
					t.Errorf("warnings %+v", rep.Warnings)
				}
				for _, p := range rep.Problems {
					if p.Category == "" || len(p.Object) != 64 || p.Message == "" {
						t.Errorf("problem %+v does not name its category, object and reason", p)
					}
				}
			}
		})
	}
}

func TestCheckNamesTheObject(t *testing.T) {
	f := newCheckFixture(t)
	id := f.chunks("photos")[4]
	f.store.edit(t, id, flip(7))
	rep := f.check(t, CheckOptions{ReadData: true})
	if len(rep.Problems) != 1 {
		t.Fatalf("problems %+v", rep.Problems)
	}
	p := rep.Problems[0]
	if p.Object != id.String() || p.Category != "photos" || p.Kind != ProblemAuth {
		t.Fatalf("problem %+v, want auth of photos object %s", p, id)
	}
	if want := `category "photos" chunk 4 of 6`; !bytes.Contains([]byte(p.Message), []byte(want)) {
		t.Fatalf("message %q does not say %q", p.Message, want)
	}
	if got := rep.DamagedCategories(); !slices.Equal(got, []string{"photos"}) {
		t.Fatalf("DamagedCategories() = %v", got)
	}
	if rep.BytesRead == 0 || rep.Epoch != f.v.root.epoch {
		t.Fatalf("report %+v", rep)
	}
}

func TestCheckReportJSON(t *testing.T) {
	f := newCheckFixture(t)
	f.store.noList = true
	rep := f.check(t, CheckOptions{})
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"read_data", "epoch", "categories", "objects", "bytes_read", "problems", "warnings", "unreferenced"} {
		if _, ok := got[k]; !ok {
			t.Errorf("JSON report %s has no %q", b, k)
		}
	}
	if got["unreferenced"] != nil || got["problems"] == nil {
		t.Errorf("JSON report %s: want unreferenced null (the store cannot list) and problems []", b)
	}

	f.store.edit(t, f.chunks("notes")[0], func(b []byte) []byte { return b[:600] })
	f.store.noList = false
	b, _ = json.Marshal(f.check(t, CheckOptions{}))
	var back CheckReport
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Damaged() || back.Problems[0].Category != "notes" || back.Problems[0].Kind != ProblemTruncated || *back.Unreferenced != 0 {
		t.Fatalf("JSON round trip: %s", b)
	}
}

// A write under way on a store without a writer lock has listed its intent in
// the root (a header write: the root's epoch moved past the manifest's) and put
// objects the manifest does not reference yet. Neither is damage.
func TestCheckWriteUnderWay(t *testing.T) {
	f := newCheckFixture(t)
	w, err := f.v.newWrite(f.v.root.vaultID)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.v.register(context.Background(), w, 1); err != nil {
		t.Fatal(err)
	}
	if f.v.root.epoch == f.v.root.manifestEpoch || len(f.v.root.pending) != 1 {
		t.Fatalf("root epoch %d, manifest epoch %d, %d intents: want an intent listed after the manifest", f.v.root.epoch, f.v.root.manifestEpoch, len(f.v.root.pending))
	}
	id, _ := w.nextData()
	_ = f.store.Put(context.Background(), id, make([]byte, 4096))
	rep := f.check(t, CheckOptions{ReadData: true})
	if rep.Damaged() || *rep.Unreferenced != 1 || *rep.UnreferencedOwn != 1 || rep.Epoch != f.v.root.epoch {
		t.Fatalf("report %+v, want no damage, one unreferenced object of this vault, epoch %d", rep, f.v.root.epoch)
	}
}

// A store that cannot list (aegisd's client) still checks; the unreferenced count
// is unknown.
func TestCheckStoreCannotList(t *testing.T) {
	f := newCheckFixture(t)
	f.store.noList = true
	rep := f.check(t, CheckOptions{ReadData: true})
	if rep.Damaged() || rep.Unreferenced != nil {
		t.Fatalf("report %+v", rep)
	}
}

func TestCheckHeaderAndManifest(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, f *checkFixture)
		want   []finding
		// read: the categories were still checked (the manifest read at Open is
		// the state the header names).
		read bool
	}{
		{
			name: "manifest chunk flipped",
			damage: func(t *testing.T, f *checkFixture) {
				f.store.edit(t, f.v.root.manifest[0].id, flip(100))
			},
			want: []finding{{"", ProblemAuth}},
			read: true,
		},
		{
			name: "manifest chunk missing",
			damage: func(t *testing.T, f *checkFixture) {
				_ = f.store.Delete(context.Background(), f.v.root.manifest[0].id)
			},
			want: []finding{{"", ProblemMissing}},
			read: true,
		},
		{
			name: "header flipped",
			damage: func(t *testing.T, f *checkFixture) {
				f.store.edit(t, f.v.headerID, flip(200))
			},
			want: []finding{{"", ProblemUnreadable}},
		},
		{
			name: "header missing",
			damage: func(t *testing.T, f *checkFixture) {
				_ = f.store.Delete(context.Background(), f.v.headerID)
			},
			want: []finding{{"", ProblemMissing}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newCheckFixture(t)
			tc.damage(t, f)
			// A fresh Open refuses the vault: the CLI reports that as damage.
			if _, err := Open(context.Background(), f.cfg, testPass); err == nil {
				t.Fatal("Open of a damaged vault succeeded")
			}
			// A vault opened before the damage reports it.
			rep, err := f.v.Check(context.Background(), CheckOptions{ReadData: true})
			if err != nil {
				t.Fatal(err)
			}
			if got := findings(rep.Problems); !slices.Equal(got, tc.want) {
				t.Fatalf("problems %v, want %v\n%+v", got, tc.want, rep.Problems)
			}
			if !rep.Damaged() || len(rep.DamagedCategories()) != 0 {
				t.Fatalf("Damaged %v, categories %v", rep.Damaged(), rep.DamagedCategories())
			}
			if read := rep.Epoch != 0; read != tc.read || read != (rep.Categories == 3) || read != (rep.Unreferenced != nil) {
				t.Fatalf("epoch %d, %d categories, unreferenced %v: want the categories checked: %v", rep.Epoch, rep.Categories, rep.Unreferenced, tc.read)
			}
		})
	}
}

// A header whose bytes change while the store reports the same version (a store
// whose versions are not content hashes) is read again all the same: a root that
// does not authenticate, or an older root replayed, is damage.
func TestCheckHeaderChangedUnderTheSameVersion(t *testing.T) {
	for _, tc := range []struct {
		name string
		root func(t *testing.T, f *checkFixture, old []byte) []byte // the sealed root to store
		want string
	}{
		{"root altered", func(t *testing.T, f *checkFixture, _ []byte) []byte {
			h := f.header(t)
			h.root[len(h.root)/2] ^= 1
			return h.root
		}, ProblemAuth},
		{"older root replayed", func(t *testing.T, f *checkFixture, old []byte) []byte { return old }, ProblemUnreadable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newCheckFixture(t)
			old := f.header(t).root
			if err := f.v.Delete(context.Background(), "settings"); err != nil {
				t.Fatal(err)
			}
			_, ver, _ := f.store.GetVersioned(context.Background(), f.v.headerID)
			f.store.pinned = map[domain.ObjectID]domain.Version{f.v.headerID: ver}
			h := f.header(t)
			obj, err := encodeHeader(h.fields, tc.root(t, f, old), f.cfg.Padding)
			if err != nil {
				t.Fatal(err)
			}
			f.store.edit(t, f.v.headerID, func([]byte) []byte { return obj })
			rep, err := f.v.Check(context.Background(), CheckOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := findings(rep.Problems); !slices.Equal(got, []finding{{"", tc.want}}) {
				t.Fatalf("problems %+v, want %s", rep.Problems, tc.want)
			}
		})
	}
}

func (f *checkFixture) header(t *testing.T) *header {
	t.Helper()
	obj, _ := f.store.Get(context.Background(), f.v.headerID)
	h, err := decodeHeader(obj)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestCheckManifestDamageOnOpenIsIntegrity(t *testing.T) {
	f := newCheckFixture(t)
	f.store.edit(t, f.v.root.manifest[0].id, flip(100))
	if _, err := Open(context.Background(), f.cfg, testPass); !errors.Is(err, domain.ErrIntegrity) {
		t.Fatalf("Open: %v, want ErrIntegrity", err)
	}
}

// A vault read under another padding policy than it was written with is sound:
// its sizes are warnings, not damage.
func TestCheckOtherPaddingPolicy(t *testing.T) {
	f := newCheckFixture(t)
	cfg := f.cfg
	cfg.Padding = smallBuckets(t, 1024, 16384)
	v, err := Open(context.Background(), cfg, testPass)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	rep, err := v.Check(context.Background(), CheckOptions{ReadData: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Damaged() || len(rep.Warnings) != 1 || rep.Warnings[0].Category != "photos" || rep.Warnings[0].Kind != ProblemPadding {
		t.Fatalf("report %+v", rep)
	}
}

// A writer that commits while Check runs collects objects of the state being
// checked: that is not damage, and Check checks the committed state instead.
func TestCheckConcurrentCommit(t *testing.T) {
	f := newCheckFixture(t)
	f.cfg.Parallelism = 1
	v, err := Open(context.Background(), f.cfg, testPass)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	var once sync.Once
	f.store.onGet = func(id domain.ObjectID) {
		if id == f.v.headerID {
			return
		}
		once.Do(func() {
			// Replace every category: every data object and manifest chunk the
			// checker is about to read is deleted.
			err := f.v.StoreAll(context.Background(), map[string][]byte{"notes": []byte("new"), "settings": []byte("{}"), "photos": []byte("x")})
			if err != nil {
				t.Error(err)
			}
		})
	}
	rep, err := v.Check(context.Background(), CheckOptions{ReadData: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Damaged() || rep.Epoch != f.v.root.epoch {
		t.Fatalf("report %+v, want no damage at epoch %d", rep, f.v.root.epoch)
	}
}

func TestCheckErrors(t *testing.T) {
	f := newCheckFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.v.Check(ctx, CheckOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	v, _ := Open(context.Background(), f.cfg, testPass)
	_ = v.Close()
	if _, err := v.Check(context.Background(), CheckOptions{}); !errors.Is(err, domain.ErrClosed) {
		t.Fatalf("closed: %v", err)
	}
}

// Check holds at most a few objects at a time, whatever the size of a category:
// the live heap, measured after a full collection at every object the store
// hands out, stays far below the category's size.
func TestCheckMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("forces a garbage collection per object")
	}
	const payload = 6 << 20
	store := newFakeStore()
	cfg := Config{Store: store, Crypto: keyedCrypto{}, Padding: smallBuckets(t, 1024, 64<<10), Parallelism: 2}
	ctx := context.Background()
	v, err := Create(ctx, cfg, testPass)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.Put(ctx, "big", io.LimitReader(rand.NewChaCha8([32]byte{2}), payload)); err != nil {
		t.Fatal(err)
	}
	if n := len(v.man.categories["big"].chunks); n < 90 {
		t.Fatalf("big has %d chunks", n)
	}
	for _, readData := range []bool{false, true} {
		var (
			mu   sync.Mutex
			peak uint64
			ms   runtime.MemStats
		)
		measure := func() uint64 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			return ms.HeapAlloc
		}
		base := measure()
		store.onGet = func(domain.ObjectID) {
			mu.Lock()
			defer mu.Unlock()
			peak = max(peak, measure())
		}
		rep, err := v.Check(ctx, CheckOptions{ReadData: readData})
		store.onGet = nil
		if err != nil || rep.Damaged() {
			t.Fatalf("Check: %v %+v", err, rep)
		}
		if rep.BytesRead < payload {
			t.Fatalf("read %d bytes of a %d-byte category", rep.BytesRead, payload)
		}
		growth := int64(peak) - int64(base)
		t.Logf("ReadData %v: live heap grew by at most %d KiB while checking %d KiB", readData, growth>>10, rep.BytesRead>>10)
		if growth > 1<<20 {
			t.Fatalf("ReadData %v: live heap grew by %d bytes checking a %d-byte category", readData, growth, payload)
		}
	}
}

func BenchmarkCheckReadData(b *testing.B) {
	store := newFakeStore()
	cfg := Config{Store: store, Crypto: keyedCrypto{}, Padding: smallBuckets(b, 1024, 64<<10)}
	ctx := context.Background()
	v, err := Create(ctx, cfg, testPass)
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	if err := v.Put(ctx, "big", io.LimitReader(rand.NewChaCha8([32]byte{3}), 4<<20)); err != nil {
		b.Fatal(err)
	}
	var rep CheckReport
	b.ReportAllocs()
	b.SetBytes(4 << 20)
	for b.Loop() {
		if rep, err = v.Check(ctx, CheckOptions{ReadData: true}); err != nil {
			b.Fatal(err)
		}
	}
	// The last report: the one category's data read and found sound.
	if rep.Damaged() || !rep.ReadData || rep.Categories != 1 || rep.BytesRead < 4<<20 {
		b.Fatalf("Check: %+v, want the data of 1 category (4 MiB) read and no damage", rep)
	}
}
