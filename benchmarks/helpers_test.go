package benchmarks

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"testing"

	"github.com/ai-pantheon/aegis/crypto/aead"
	"github.com/ai-pantheon/aegis/domain"
)

// objectSizes are the stored object sizes the chunk benchmarks run at: every
// default bucket size (1, 4, 16, 64, 256 KiB and 1 MiB). The payload of each
// is FrameCapacity(size, aead.Overhead): the largest payload that fills an
// object of that size exactly, so no padding is zeroed and every variant
// processes the same number of payload bytes.
var objectSizes = domain.DefaultBucketSizes

// sizeName renders a byte count as the sub-benchmark names use it: 1KiB, 1MiB.
func sizeName(n int) string {
	switch {
	case n >= domain.MiB && n%domain.MiB == 0:
		return fmt.Sprintf("%dMiB", n/domain.MiB)
	case n >= domain.KiB && n%domain.KiB == 0:
		return fmt.Sprintf("%dKiB", n/domain.KiB)
	default:
		return fmt.Sprintf("%dB", n)
	}
}

// payloadFor returns the payload length that fills an object of size bytes.
func payloadFor(size int) int { return domain.FrameCapacity(size, aead.Overhead) }

// pattern returns n bytes of a deterministic non-zero pattern.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + 1)
	}
	return b
}

// chunkAD is associated data of the length the Vault binds a data chunk to:
// label (13) + vault id (32) + slot (16) + generation (4) + version (8) +
// index (4) + final flag (1) = 78 bytes.
var chunkAD = func() []byte {
	b := []byte("aegis/v1 data")
	return append(b, make([]byte, 78-len(b))...)
}()

// reportOpsPerSec adds an ops/s metric. Call it after the b.Loop loop, when b.N
// holds the iteration count and the timer is stopped.
func reportOpsPerSec(b *testing.B) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "ops/s")
	}
}

// Every benchmark checks its result once, outside its timed loop (after it, when
// the timer is stopped), with b.Fatal on a mismatch, so that `make bench-smoke`
// fails when what it times is broken: sealing that does not seal, a store that
// does not store.

// checkSealed checks that obj, a chunk sealed under a and ad, opens to want and
// does not hold want in clear (want of 16 bytes or more).
func checkSealed(b *testing.B, a *aead.AEAD, obj, ad, want []byte) {
	b.Helper()
	if len(want) >= 16 && bytes.Contains(obj, want) {
		b.Fatalf("the sealed object of %d bytes holds its %d-byte payload in clear", len(obj), len(want))
	}
	got, err := domain.OpenChunk(a, bytes.Clone(obj), ad)
	if err != nil {
		b.Fatalf("OpenChunk of what was sealed: %v", err)
	}
	if !bytes.Equal(got, want) {
		b.Fatalf("OpenChunk of what was sealed: %d bytes that differ from the %d sealed", len(got), len(want))
	}
}

// checkFrame checks that frame decodes to want.
func checkFrame(b *testing.B, frame, want []byte) {
	b.Helper()
	got, err := domain.DecodeFrame(frame)
	if err != nil || !bytes.Equal(got, want) {
		b.Fatalf("DecodeFrame of what was encoded: %d bytes (%d encoded, equal: %v), %v", len(got), len(want), bytes.Equal(got, want), err)
	}
}

// loader is a vault or a Cloak.
type loader interface {
	LoadAll(ctx context.Context) (map[string][]byte, error)
}

// checkLoadAll checks that v loads exactly the categories of want, with their
// contents.
func checkLoadAll(b *testing.B, v loader, want map[string][]byte) {
	b.Helper()
	got, err := v.LoadAll(context.Background())
	if err != nil {
		b.Fatalf("LoadAll of what was stored: %v", err)
	}
	if !maps.EqualFunc(got, want, bytes.Equal) {
		b.Fatalf("LoadAll of what was stored: categories %q, want %q (or contents that differ)",
			slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
}

// checkLoad checks that category loads from v as want.
func checkLoad(b *testing.B, v interface {
	Load(ctx context.Context, category string) ([]byte, error)
}, category string, want []byte) {
	b.Helper()
	got, err := v.Load(context.Background(), category)
	if err != nil {
		b.Fatalf("Load(%q) of what was stored: %v", category, err)
	}
	if !bytes.Equal(got, want) {
		b.Fatalf("Load(%q) of what was stored: %d bytes that differ from the %d stored", category, len(got), len(want))
	}
}

// checkFiles checks that each of the files holds want.
func checkFiles(b *testing.B, want []byte, names ...string) {
	b.Helper()
	if len(names) == 0 {
		b.Fatal("no file to check")
	}
	for _, name := range names {
		got, err := os.ReadFile(name)
		if err != nil {
			b.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			b.Fatalf("%s: %d bytes that differ from the %d written", name, len(got), len(want))
		}
	}
}

// checkNoClearText checks that no object in store holds 64 bytes from the middle
// of any of the plaintexts in clear: what the vault stored is sealed, not only
// readable (a Seal and an Open that both skipped the cipher would pass
// checkLoad).
func checkNoClearText(b *testing.B, store domain.BlobStore, plaintexts ...[]byte) {
	b.Helper()
	ctx := context.Background()
	var windows [][]byte
	for _, p := range plaintexts {
		mid := len(p) / 2
		w := p[max(0, mid-32):min(len(p), mid+32)]
		if len(w) < 16 {
			b.Fatalf("checkNoClearText: a plaintext of %d bytes is too short to look for", len(p))
		}
		windows = append(windows, w)
	}
	objects := 0
	err := store.List(ctx, func(id domain.ObjectID) error {
		obj, err := store.Get(ctx, id)
		if err != nil {
			return err
		}
		objects++
		for _, w := range windows {
			if bytes.Contains(obj, w) {
				return fmt.Errorf("object %s holds stored data in clear", id)
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if objects == 0 {
		b.Fatal("checkNoClearText: the store holds no object")
	}
}
