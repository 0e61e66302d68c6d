package vault

import (
	"bytes"
	"errors"
	"testing"

	"github.com/ai-pantheon/aegis/domain"
)

func testSpec() domain.KDFSpec {
	return domain.KDFSpec{Name: domain.KDFArgon2id, Time: 3, MemoryKiB: 65536, Threads: 4, Salt: bytes.Repeat([]byte{7}, 16)}
}

func TestHeaderRoundTrip(t *testing.T) {
	for _, spec := range []domain.KDFSpec{testSpec(), {Name: domain.KDFPBKDF2SHA256, Iterations: 600000, Salt: bytes.Repeat([]byte{9}, 32)}} {
		kcv := bytes.Repeat([]byte{1}, kcvSize)
		fields, err := encodeHeaderFields(spec, kcv)
		if err != nil {
			t.Fatal(err)
		}
		obj, err := encodeHeader(fields, []byte("sealed-root"), domain.DefaultBuckets())
		if err != nil {
			t.Fatal(err)
		}
		if len(obj) != 1024 {
			t.Fatalf("header is %d bytes, want the 1 KiB bucket", len(obj))
		}
		h, err := decodeHeader(obj)
		if err != nil {
			t.Fatal(err)
		}
		if h.kdf.Name != spec.Name || h.kdf.Iterations != spec.Iterations || h.kdf.Time != spec.Time || h.kdf.MemoryKiB != spec.MemoryKiB || h.kdf.Threads != spec.Threads || !bytes.Equal(h.kdf.Salt, spec.Salt) {
			t.Fatalf("kdf spec %+v, want %+v", h.kdf, spec)
		}
		if !bytes.Equal(h.kcv, kcv) || string(h.root) != "sealed-root" || !bytes.Equal(h.fields, fields) {
			t.Fatal("header fields do not round-trip")
		}
	}
}

// Every single-byte change of a header is reported as corruption, never as a
// wrong passphrase and never silently accepted.
func TestHeaderEveryByteFlipIsIntegrityError(t *testing.T) {
	fields, _ := encodeHeaderFields(testSpec(), make([]byte, kcvSize))
	obj, _ := encodeHeader(fields, []byte("root"), domain.DefaultBuckets())
	for i := range obj {
		bad := bytes.Clone(obj)
		bad[i] ^= 0x01
		if _, err := decodeHeader(bad); !errors.Is(err, domain.ErrIntegrity) {
			t.Fatalf("flip at %d: err = %v, want ErrIntegrity", i, err)
		}
	}
	for _, n := range []int{0, 1, 10, 41, 42, 100} {
		if _, err := decodeHeader(obj[:n]); !errors.Is(err, domain.ErrIntegrity) {
			t.Fatalf("truncated to %d: err = %v", n, err)
		}
	}
}

func TestHeaderUnknownVersion(t *testing.T) {
	fields, _ := encodeHeaderFields(testSpec(), make([]byte, kcvSize))
	fields[0] = 2
	obj, _ := encodeHeader(fields, []byte("root"), domain.DefaultBuckets())
	if _, err := decodeHeader(obj); !errors.Is(err, domain.ErrUnsupportedVersion) {
		t.Fatalf("err = %v, want ErrUnsupportedVersion", err)
	}
}

func testManifest() *manifest {
	m := &manifest{epoch: 7, categories: map[string]*entry{}}
	for i, name := range []string{"contacts", "journal", "a/../b", "日記"} {
		e := &entry{name: name, generation: uint32(i + 1), version: uint64(i * 3), size: uint64(i * 1000), wrappedDEK: bytes.Repeat([]byte{byte(i)}, 92)}
		e.slot[0] = byte(i)
		for j := 0; j <= i; j++ {
			var id domain.ObjectID
			id[0], id[1] = byte(i), byte(j)
			e.chunks = append(e.chunks, chunkRef{id, 1024})
		}
		m.categories[name] = e
	}
	return m
}

func TestManifestRoundTrip(t *testing.T) {
	m := testManifest()
	got, err := decodeManifest(m.encode())
	if err != nil {
		t.Fatal(err)
	}
	if got.epoch != m.epoch || len(got.categories) != len(m.categories) {
		t.Fatalf("got %+v", got)
	}
	for name, e := range m.categories {
		g := got.categories[name]
		if g == nil || g.slot != e.slot || g.generation != e.generation || g.version != e.version || g.size != e.size || !bytes.Equal(g.wrappedDEK, e.wrappedDEK) || len(g.chunks) != len(e.chunks) {
			t.Fatalf("category %q: got %+v want %+v", name, g, e)
		}
		for i := range e.chunks {
			if g.chunks[i] != e.chunks[i] {
				t.Fatalf("category %q chunk %d differs", name, i)
			}
		}
	}
}

func TestManifestRejectsMalformed(t *testing.T) {
	enc := testManifest().encode()
	for n := 0; n < len(enc); n++ {
		if _, err := decodeManifest(enc[:n]); err == nil {
			t.Fatalf("truncation to %d bytes accepted", n)
		}
	}
	if _, err := decodeManifest(append(bytes.Clone(enc), 0)); !errors.Is(err, domain.ErrIntegrity) {
		t.Fatalf("trailing byte: %v", err)
	}
	// A chunk size no policy produces.
	m := testManifest()
	m.categories["contacts"].chunks[0].size = 100
	if _, err := decodeManifest(m.encode()); !errors.Is(err, domain.ErrIntegrity) {
		t.Fatalf("odd chunk size: %v", err)
	}
}

func TestRootRoundTrip(t *testing.T) {
	r := &root{epoch: 9, size: 1234, manifest: []chunkRef{{size: 1024}, {size: 4096}}}
	r.vaultID[5] = 5
	got, err := decodeRoot(r.encode())
	if err != nil || got.vaultID != r.vaultID || got.epoch != 9 || got.size != 1234 || len(got.manifest) != 2 || got.manifest[1].size != 4096 {
		t.Fatalf("got %+v, %v", got, err)
	}
	enc := r.encode()
	for n := 0; n < len(enc); n++ {
		if _, err := decodeRoot(enc[:n]); err == nil {
			t.Fatalf("truncated root of %d bytes accepted", n)
		}
	}
}
