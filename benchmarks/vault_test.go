package benchmarks

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ai-pantheon/aegis/adapters/fsblob"
	"github.com/ai-pantheon/aegis/adapters/memblob"
	"github.com/ai-pantheon/aegis/crypto/kdf"
	"github.com/ai-pantheon/aegis/crypto/suite"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/vault"
)

var passphrases = [2][]byte{[]byte("correct horse battery staple"), []byte("tr0ub4dor&3 but longer")}

// fastCrypto is the suite the vault benchmarks use: PBKDF2 with 1,000
// iterations, so that Create and Open do not dominate setup. No benchmarked
// operation except ChangePassphrase derives a key.
func fastCrypto() domain.Crypto { return suite.New(kdf.InsecureTestPolicy()) }

// stores are the stores the vault benchmarks run on.
var stores = []struct {
	name string
	open func(b *testing.B) domain.BlobStore
}{
	{"mem", func(*testing.B) domain.BlobStore { return memblob.Open() }},
	{"fs", func(b *testing.B) domain.BlobStore { return openFS(b) }},
}

// openFS opens a fresh directory store in the benchmark's temporary directory.
func openFS(b *testing.B) domain.BlobStore {
	b.Helper()
	s, err := fsblob.Open(filepath.Join(b.TempDir(), "store"), &fsblob.Options{Create: true})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func createVault(b *testing.B, store domain.BlobStore, c domain.Crypto) *vault.Vault {
	b.Helper()
	v, err := vault.Create(context.Background(), vault.Config{Store: store, Crypto: c}, passphrases[0])
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = v.Close() })
	return v
}

// vaultSizes are the stored sizes of the single data object in the Store and Load
// benchmarks; the payload is FrameCapacity(size) bytes, so every Store writes
// exactly one data object of that size (plus the manifest and the header).
var vaultSizes = []int{1 * domain.KiB, 64 * domain.KiB, 1 * domain.MiB}

// BenchmarkVaultStore rewrites one category per op: seal, Put of the data object,
// a new manifest object, the header compare-and-swap, and deletion of the previous
// data and manifest objects. On fs every Put and swap is durable (fsync).
func BenchmarkVaultStore(b *testing.B) {
	ctx := context.Background()
	for _, st := range stores {
		b.Run("store="+st.name, func(b *testing.B) {
			for _, size := range vaultSizes {
				b.Run("size="+sizeName(size), func(b *testing.B) {
					store := st.open(b)
					v := createVault(b, store, fastCrypto())
					data := pattern(payloadFor(size))
					b.ReportAllocs()
					b.SetBytes(int64(len(data)))
					i := 0
					for b.Loop() {
						data[0] = byte(i)
						i++
						if err := v.Store(ctx, "bench", data); err != nil {
							b.Fatal(err)
						}
					}
					reportOpsPerSec(b)
					checkLoad(b, v, "bench", data)
					checkNoClearText(b, store, data)
				})
			}
		})
	}
}

// BenchmarkVaultLoad reads one category per op: the header (to notice other
// writers), then the data object, authenticated and decrypted.
func BenchmarkVaultLoad(b *testing.B) {
	ctx := context.Background()
	for _, st := range stores {
		b.Run("store="+st.name, func(b *testing.B) {
			for _, size := range vaultSizes {
				b.Run("size="+sizeName(size), func(b *testing.B) {
					store := st.open(b)
					v := createVault(b, store, fastCrypto())
					data := pattern(payloadFor(size))
					if err := v.Store(ctx, "bench", data); err != nil {
						b.Fatal(err)
					}
					checkNoClearText(b, store, data)
					var got []byte
					b.ReportAllocs()
					b.SetBytes(int64(len(data)))
					for b.Loop() {
						var err error
						got, err = v.Load(ctx, "bench")
						if err != nil || len(got) != len(data) {
							b.Fatalf("Load: %d bytes, %v", len(got), err)
						}
					}
					reportOpsPerSec(b)
					if !bytes.Equal(got, data) {
						b.Fatal("Load returned other bytes than were stored")
					}
				})
			}
		})
	}
}

const (
	batchCount = 100
	batchSize  = 1 * domain.KiB
)

// BenchmarkStoreAll100x1KiB stores 100 categories of 1 KiB each with one StoreAll
// on the directory store: 100 data objects (4 KiB each: 1 KiB plus the sealing
// overhead does not fit the 1 KiB bucket) written durably in random order as one
// fsblob PutBatch, one manifest, one header swap, and the deletion of the
// previous batch. Each op rewrites the same 100 categories with new bytes.
// Compare with BenchmarkOneByOneFsync100x1KiB.
func BenchmarkStoreAll100x1KiB(b *testing.B) {
	b.Run("fs", func(b *testing.B) {
		ctx := context.Background()
		store := openFS(b)
		v := createVault(b, store, fastCrypto())
		batch := make(map[string][]byte, batchCount)
		for i := range batchCount {
			batch[fmt.Sprintf("category-%03d", i)] = pattern(batchSize)
		}
		b.ReportAllocs()
		b.SetBytes(batchCount * batchSize)
		i := 0
		for b.Loop() {
			for _, p := range batch {
				p[0] = byte(i)
			}
			i++
			if err := v.StoreAll(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/batch")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batchCount), "ns/object")
		checkLoadAll(b, v, batch)
		checkNoClearText(b, store, slices.Collect(maps.Values(batch))...)
	})
}

// BenchmarkOneByOneFsync100x1KiB is the baseline for BenchmarkStoreAll100x1KiB: a
// naive durable writer that writes 100 files of 1 KiB in plain text one after
// another, each with create (truncating), write, fsync and close, then fsyncs
// the directory once. No encryption, no padding, no atomicity across files.
func BenchmarkOneByOneFsync100x1KiB(b *testing.B) {
	dir := b.TempDir()
	names := make([]string, batchCount)
	for i := range names {
		names[i] = filepath.Join(dir, fmt.Sprintf("category-%03d", i))
	}
	data := pattern(batchSize)
	b.ReportAllocs()
	b.SetBytes(batchCount * batchSize)
	i := 0
	for b.Loop() {
		data[0] = byte(i)
		i++
		for _, name := range names {
			if err := writeDurably(name, data); err != nil {
				b.Fatal(err)
			}
		}
		if err := syncDir(dir); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/batch")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batchCount), "ns/object")
	checkFiles(b, data, names...)
}

// BenchmarkOneByOneAtomic100x1KiB is a second baseline: a crash-safe writer that
// stores 100 files of 1 KiB one after another the way a single fsblob.Put does
// (temp file, write, fsync, rename to a fresh name, fsync the directory) and
// removes the previous batch. It shows what StoreAll's batching saves over
// calling Put in a loop.
func BenchmarkOneByOneAtomic100x1KiB(b *testing.B) {
	dir := b.TempDir()
	data := pattern(batchSize)
	b.ReportAllocs()
	b.SetBytes(batchCount * batchSize)
	var prev []string
	i := 0
	for b.Loop() {
		data[0] = byte(i)
		next := make([]string, batchCount)
		for k := range next {
			next[k] = filepath.Join(dir, fmt.Sprintf("object-%d-%03d", i, k))
			tmp := next[k] + ".tmp"
			if err := writeDurably(tmp, data); err != nil {
				b.Fatal(err)
			}
			if err := os.Rename(tmp, next[k]); err != nil {
				b.Fatal(err)
			}
			if err := syncDir(dir); err != nil {
				b.Fatal(err)
			}
		}
		for _, p := range prev {
			if err := os.Remove(p); err != nil {
				b.Fatal(err)
			}
		}
		prev = next
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/batch")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batchCount), "ns/object")
	// The last batch is there, and nothing else.
	checkFiles(b, data, prev...)
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != batchCount {
		b.Fatalf("%d files in the directory, want the last batch's %d (%v)", len(entries), batchCount, err)
	}
}

func writeDurably(name string, data []byte) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}

// BenchmarkChangePassphrase times ChangePassphrase alone on a directory-store
// vault of 10 categories holding 1 MiB resp. 100 MiB in total (100 KiB resp. 10
// MiB each), alternating between two passphrases. Only the data size differs;
// ChangePassphrase re-wraps the 10 data keys and rewrites the manifest and the
// header, so both should cost the same. The KDF is the 1,000-iteration test
// policy, so that the figure is the vault's own work;
// BenchmarkChangePassphraseDefaultKDF gives the real-world figure.
func BenchmarkChangePassphrase(b *testing.B) {
	for _, total := range []int{1 * domain.MiB, 100 * domain.MiB} {
		b.Run("vault="+sizeName(total), func(b *testing.B) {
			benchChangePassphrase(b, fastCrypto(), total)
		})
	}
}

// BenchmarkChangePassphraseDefaultKDF is BenchmarkChangePassphrase under the
// product's KDF policy (PBKDF2-SHA256, 600,000 iterations), which dominates.
func BenchmarkChangePassphraseDefaultKDF(b *testing.B) {
	b.Run("vault=1MiB", func(b *testing.B) {
		benchChangePassphrase(b, suite.Default(), 1*domain.MiB)
	})
}

const passphraseCategories = 10

func benchChangePassphrase(b *testing.B, c domain.Crypto, total int) {
	ctx := context.Background()
	store := openFS(b)
	v := createVault(b, store, c)
	batch := make(map[string][]byte, passphraseCategories)
	for i := range passphraseCategories {
		batch[fmt.Sprintf("category-%02d", i)] = pattern(total / passphraseCategories)
	}
	if err := v.StoreAll(ctx, batch); err != nil {
		b.Fatal(err)
	}
	stats, err := v.Stats(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 1
	for b.Loop() {
		if err := v.ChangePassphrase(ctx, passphrases[i%2]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportOpsPerSec(b)
	b.ReportMetric(float64(stats.StoredBytes)/(1<<20), "stored-MiB")
	// The vault must open with the last passphrase and still hold its data.
	v2, err := vault.Open(ctx, vault.Config{Store: store, Crypto: c}, passphrases[(i-1)%2])
	if err != nil {
		b.Fatalf("open after ChangePassphrase: %v", err)
	}
	defer v2.Close()
	if ok, err := v2.Verify(ctx, "category-00", batch["category-00"]); err != nil || !ok {
		b.Fatalf("after ChangePassphrase: verify = %v, %v", ok, err)
	}
	checkNoClearText(b, store, slices.Collect(maps.Values(batch))...)
}
