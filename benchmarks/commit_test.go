package benchmarks

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/vault"
)

// durableCommitSize is the payload of BenchmarkDurableCommit.
const durableCommitSize = 1 * domain.KiB

// vaultsEvery bounds the manifest: path=vault starts a fresh vault (timer
// stopped) after this many categories, so every commit rewrites a manifest of at
// most this many entries (one 16 KiB object). The vaults share one store
// directory (named vaults), which first holds warmObjects objects of another
// vault, as a store in use does: most of its 256 shard directories exist, so a
// Store rarely creates one (which costs a sync of the objects directory too).
const (
	vaultsEvery = 32
	warmObjects = 1024
)

// sharedVault creates the vault called name in store, which may hold others.
func sharedVault(b *testing.B, store domain.BlobStore, c domain.Crypto, name string) *vault.Vault {
	b.Helper()
	v, err := vault.Create(context.Background(), vault.Config{Store: store, Crypto: c, Name: name, SharedStore: true}, passphrases[0])
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = v.Close() })
	return v
}

// newFile is the floor of a durable write of a new object: write data to a new
// temp file, fsync it, rename it to a new name, fsync the directory.
func newFile(dir string, i int, data []byte) error {
	name := filepath.Join(dir, fmt.Sprintf("object-%d", i))
	if err := writeDurably(name+".tmp", data); err != nil {
		return err
	}
	if err := os.Rename(name+".tmp", name); err != nil {
		return err
	}
	return syncDir(dir)
}

// BenchmarkDurableCommit times one durable Store of one new 1 KiB category on
// fsblob (path=vault: seal, write the data object, the new manifest and the
// header compare-and-swap, every step fsynced, then delete the replaced
// manifest) against the floor of any durable write of a new object
// (path=newfile: write 1 KiB to a new temp file, fsync it, rename it to a new
// name, fsync the directory; see newFile).
//
// path=vault also runs one newfile write after every Store, with the timer
// stopped, and reports x-newfile: the time of its Stores divided by the time of
// those interleaved newfile writes, a ratio that the drift of a shared machine
// affects far less than one of two separate runs. Run both, e.g.
//
//	go test -run '^$' -bench DurableCommit -count 5 .
func BenchmarkDurableCommit(b *testing.B) {
	data := pattern(durableCommitSize)
	b.Run("path=newfile", func(b *testing.B) {
		dir := b.TempDir()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if err := newFile(dir, i, data); err != nil {
				b.Fatal(err)
			}
			i++
		}
		reportOpsPerSec(b)
		checkFiles(b, data, filepath.Join(dir, fmt.Sprintf("object-%d", i-1)))
	})
	b.Run("path=vault", func(b *testing.B) {
		ctx := context.Background()
		c := fastCrypto()
		store := openFS(b)
		warm := make(map[string][]byte, warmObjects)
		for k := range warmObjects {
			warm[fmt.Sprintf("warm-%d", k)] = data
		}
		if err := sharedVault(b, store, c, "warm").StoreAll(ctx, warm); err != nil {
			b.Fatal(err)
		}
		vaults := 0
		v := sharedVault(b, store, c, "bench-0")
		floorDir := b.TempDir()
		var vaultTime, floorTime time.Duration
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if i > 0 && i%vaultsEvery == 0 {
				b.StopTimer()
				_ = v.Close()
				vaults++
				v = sharedVault(b, store, c, fmt.Sprintf("bench-%d", vaults))
				b.StartTimer()
			}
			data[0] = byte(i)
			t0 := time.Now()
			if err := v.Store(ctx, fmt.Sprintf("category-%d", i), data); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			b.StopTimer()
			if err := newFile(floorDir, i, data); err != nil {
				b.Fatal(err)
			}
			floorTime += time.Since(t1)
			vaultTime += t1.Sub(t0)
			b.StartTimer()
			i++
		}
		reportOpsPerSec(b)
		if floorTime > 0 {
			b.ReportMetric(float64(vaultTime)/float64(floorTime), "x-newfile")
		}
		checkLoad(b, v, fmt.Sprintf("category-%d", i-1), data)
		checkNoClearText(b, store, data)
	})
}
