package vault

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	mathrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ai-pantheon/aegis/domain"
)

// The format vectors (issue #19): vaults committed under testdata/, one directory
// per version of the format, each written once by the code of its time and read
// by every later build. The code round-trips with itself in every other test, so
// only these catch a change that keeps writing and reading consistent but no
// longer opens the vaults already out there.
//
// A directory testdata/vault-v<header>-root<root>-manifest<manifest> holds
//
//	objects/<64 hex>   every object of the store, named by its id
//	vault.json         what the vault holds: passphrase, KDF, padding, categories
//	                   with their sizes, SHA-256 and (short text) content, and the
//	                   counts the test checks
//
// It is written with suiteCrypto (vectorcrypto_test.go), a standard-library copy of
// crypto/suite, and fixed randomness, so writing it again with an unchanged writer
// gives the same bytes. crypto/suite's TestFormatVectorOpensWithTheSuite opens the
// same directories with the real suite.
//
// To write the vector of a new format version, after the change made on purpose
// and the version constant it needs (formatVersion, rootVersion or
// manifestVersion) raised:
//
//	cd domain && go test ./vault/ -run TestFormatVectorVault -update
//
// It writes the directory of the current versions only if it is absent. The
// directories of earlier versions stay, as the vaults they stand for do. When the
// directory exists, -update writes the vault again elsewhere and fails if the
// bytes differ: the writer changed under an unchanged version number. If that was
// not a format change (the writer only draws its randomness in another order),
// delete the directory and run -update again, on purpose.
var updateVectors = flag.Bool("update", false, "write testdata/vault-* for the current format (TestFormatVectorVault)")

const vectorPassphrase = "aegis format vector passphrase"

// currentVectorDir is the directory of the vector of the format this build writes.
func currentVectorDir() string {
	return fmt.Sprintf("vault-v%d-root%d-manifest%d", formatVersion, rootVersion, manifestVersion)
}

// vectorSpec is vault.json.
type vectorSpec struct {
	Comment  string `json:"comment"`
	Versions struct {
		Header   int `json:"header"`
		Root     int `json:"root"`
		Manifest int `json:"manifest"`
	} `json:"versions"`
	VaultName  string `json:"vault_name"`
	HeaderID   string `json:"header_id"`
	Passphrase string `json:"passphrase"`
	KDF        struct {
		Name       string `json:"name"`
		Iterations uint32 `json:"iterations"`
		Salt       string `json:"salt"` // hex
	} `json:"kdf"`
	Padding        []int            `json:"padding"` // bucket sizes the vault was written with
	Epoch          uint64           `json:"epoch"`
	ManifestChunks int              `json:"manifest_chunks"`
	Garbage        int              `json:"garbage"` // ids in the manifest's garbage list
	Objects        int              `json:"objects"` // in objects/, the header included
	Categories     []vectorCategory `json:"categories"`
}

type vectorCategory struct {
	Name       string `json:"name"`
	Size       uint64 `json:"size"`
	SHA256     string `json:"sha256"`
	Text       string `json:"text,omitempty"` // the content, when it is short UTF-8 text
	Generation uint32 `json:"generation"`
	Version    uint64 `json:"version"`
	Chunks     []int  `json:"chunks"` // the size of each data object
}

func TestFormatVectorVault(t *testing.T) {
	if *updateVectors {
		updateVectorVault(t, filepath.Join("testdata", currentVectorDir()))
	}
	dirs, err := filepath.Glob(filepath.Join("testdata", "vault-*"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(dirs, filepath.Join("testdata", currentVectorDir())) {
		t.Errorf("no vector of the format this build writes (testdata/%s): a format change needs a vector of its own, "+
			"made on purpose (see the comment of updateVectors); keep the older ones", currentVectorDir())
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) { checkVectorVault(t, dir) })
	}
}

// updateVectorVault writes the vector of the current format into dir if it is
// absent, and otherwise checks that the writer still writes the same bytes.
func updateVectorVault(t *testing.T, dir string) {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		writeVectorVault(t, dir)
		return
	} else if err != nil {
		t.Fatal(err)
	}
	again := filepath.Join(t.TempDir(), filepath.Base(dir))
	writeVectorVault(t, again)
	if a, b := readTree(t, dir), readTree(t, again); !maps.EqualFunc(a, b, bytes.Equal) {
		t.Fatalf("the writer no longer writes %s as committed, under the same format versions: "+
			"raise the version of what changed, or, if the format did not change, delete %s and run -update again", dir, dir)
	}
	t.Logf("%s: the writer writes the same bytes", dir)
}

// readTree returns the files under dir by relative path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		files[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// checkVectorVault opens the vault in dir and checks it against its vault.json.
func checkVectorVault(t *testing.T, dir string) {
	ctx := context.Background()
	spec := readVectorSpec(t, dir)
	store := loadVectorStore(t, dir)
	if n := len(store.objs); n != spec.Objects {
		t.Fatalf("%d objects, vault.json says %d", n, spec.Objects)
	}
	if filepath.Base(dir) == currentVectorDir() {
		if spec.Versions.Header != formatVersion || spec.Versions.Root != rootVersion || spec.Versions.Manifest != manifestVersion {
			t.Fatalf("vault.json versions %+v, the writer writes %d, %d, %d", spec.Versions, formatVersion, rootVersion, manifestVersion)
		}
	}

	// The header, in clear: its id, version and KDF parameters.
	headerID := HeaderID(spec.VaultName)
	if headerID.String() != spec.HeaderID {
		t.Fatalf("HeaderID(%q) = %s, vault.json says %s", spec.VaultName, headerID, spec.HeaderID)
	}
	hdr, ok := store.objs[headerID]
	if !ok {
		t.Fatal("no header object")
	}
	h, err := decodeHeader(hdr)
	if err != nil {
		t.Fatal(err)
	}
	if int(h.fields[0]) != spec.Versions.Header {
		t.Fatalf("header version %d, vault.json says %d", h.fields[0], spec.Versions.Header)
	}
	salt, err := hex.DecodeString(spec.KDF.Salt)
	if err != nil {
		t.Fatal(err)
	}
	wantKDF := domain.KDFSpec{Name: spec.KDF.Name, Iterations: spec.KDF.Iterations, Salt: salt}
	if got, err := DecodeHeader(hdr); err != nil || !sameKDF(got, wantKDF) {
		t.Fatalf("DecodeHeader = %+v, %v; want %+v", got, err, wantKDF)
	}

	policy, err := domain.NewBuckets(spec.Padding)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Store: store, Crypto: suiteCrypto{random: rand.Reader}, Padding: policy, Name: spec.VaultName}
	if _, err := Open(ctx, cfg, []byte("not the passphrase")); !errors.Is(err, domain.ErrWrongPassphrase) {
		t.Fatalf("Open with another passphrase: %v, want ErrWrongPassphrase", err)
	}
	v, err := Open(ctx, cfg, []byte(spec.Passphrase))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer func() { _ = v.Close() }()
	if got := v.KDF(); !sameKDF(got, wantKDF) {
		t.Fatalf("KDF() = %+v, want %+v", got, wantKDF)
	}

	// The categories and their exact content.
	var names []string
	for _, c := range spec.Categories {
		names = append(names, c.Name)
	}
	if got, err := v.Categories(ctx); err != nil || !slices.Equal(got, names) {
		t.Fatalf("Categories = %q, %v; want %q", got, err, names)
	}
	for _, c := range spec.Categories {
		data, err := v.Load(ctx, c.Name)
		if err != nil {
			t.Fatalf("Load(%q): %v", c.Name, err)
		}
		sum := sha256.Sum256(data)
		if uint64(len(data)) != c.Size || hex.EncodeToString(sum[:]) != c.SHA256 {
			t.Fatalf("%q: %d bytes, SHA-256 %x; want %d bytes, %s", c.Name, len(data), sum, c.Size, c.SHA256)
		}
		if c.Text != "" && string(data) != c.Text {
			t.Fatalf("%q = %q, want %q", c.Name, data, c.Text)
		}
	}

	// What the root and manifest record, and the versions they were written at.
	rootPT, err := v.kek.Open(nil, h.root, rootAD(headerID, h.fields))
	if err != nil {
		t.Fatal(err)
	}
	if int(rootPT[0]) != spec.Versions.Root {
		t.Fatalf("root version %d, vault.json says %d", rootPT[0], spec.Versions.Root)
	}
	var manPT bytes.Buffer
	if err := v.openStream(ctx, v.kek, manifestAD(v.root.vaultID, v.root.manifestEpoch), v.root.manifest, v.root.size, "manifest", &manPT); err != nil {
		t.Fatal(err)
	}
	if int(manPT.Bytes()[4]) != spec.Versions.Manifest {
		t.Fatalf("manifest version %d, vault.json says %d", manPT.Bytes()[4], spec.Versions.Manifest)
	}
	if v.root.epoch != spec.Epoch || len(v.root.manifest) != spec.ManifestChunks || len(v.man.garbage) != spec.Garbage {
		t.Fatalf("epoch %d, %d manifest chunks, %d garbage ids; vault.json says %d, %d, %d",
			v.root.epoch, len(v.root.manifest), len(v.man.garbage), spec.Epoch, spec.ManifestChunks, spec.Garbage)
	}
	own := ownershipKey(v.root.vaultID)
	for _, ref := range v.root.manifest {
		if !owns(&own, ref.id) {
			t.Fatalf("manifest object %s does not carry the vault's ownership tag", ref.id)
		}
	}
	for _, c := range spec.Categories {
		e := v.man.categories[c.Name]
		var sizes []int
		for _, ref := range e.chunks {
			sizes = append(sizes, int(ref.size))
			if !owns(&own, ref.id) {
				t.Fatalf("%q: object %s does not carry the vault's ownership tag", c.Name, ref.id)
			}
		}
		if e.generation != c.Generation || e.version != c.Version || !slices.Equal(sizes, c.Chunks) {
			t.Fatalf("%q: generation %d, version %d, chunks %v; vault.json says %d, %d, %v",
				c.Name, e.generation, e.version, sizes, c.Generation, c.Version, c.Chunks)
		}
	}

	// Check authenticates every object and finds nothing wrong or left over.
	rep, err := v.Check(ctx, CheckOptions{ReadData: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 0 || len(rep.Warnings) != 0 {
		t.Fatalf("Check: problems %+v, warnings %+v", rep.Problems, rep.Warnings)
	}
	if rep.Epoch != spec.Epoch || rep.Categories != len(spec.Categories) || rep.Objects != spec.Objects ||
		rep.Unreferenced == nil || *rep.Unreferenced != 0 {
		t.Fatalf("Check: %+v", rep)
	}
}

func sameKDF(a, b domain.KDFSpec) bool {
	return a.Name == b.Name && a.Iterations == b.Iterations && a.Time == b.Time && a.MemoryKiB == b.MemoryKiB &&
		a.Threads == b.Threads && bytes.Equal(a.Salt, b.Salt)
}

func readVectorSpec(t *testing.T, dir string) *vectorSpec {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "vault.json"))
	if err != nil {
		t.Fatal(err)
	}
	spec := &vectorSpec{}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(spec); err != nil {
		t.Fatalf("%s/vault.json: %v", dir, err)
	}
	return spec
}

// loadVectorStore reads dir/objects into a store.
func loadVectorStore(t *testing.T, dir string) *mapStore {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "objects"))
	if err != nil {
		t.Fatal(err)
	}
	s := newMapStore()
	for _, e := range entries {
		id, err := domain.ParseObjectID(e.Name())
		if err != nil {
			t.Fatalf("objects/%s: %v", e.Name(), err)
		}
		b, err := os.ReadFile(filepath.Join(dir, "objects", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		s.objs[id] = b
	}
	return s
}

// writeVectorVault writes the vector of the current format into dir, replacing
// what is there. The vault is small but has every kind of object and field: a
// header, a manifest of two chunks with a garbage list, and five categories
// (vectorPayloads) over buckets of 512 B and 1 KiB:
//
//	"empty"     no bytes
//	"notes"     text, one chunk
//	"photos"    8500 bytes: 9 chunks of payload padded (Padmé) to 10, the last empty
//	"settings"  written twice: version 2
//	"日記/2024"  rotated once: DEK generation 2
//
// and a category written and deleted, so the epoch is not the number of categories.
func writeVectorVault(t *testing.T, dir string) {
	t.Helper()
	ctx := context.Background()
	policy, err := domain.NewBuckets([]int{512, 1024})
	if err != nil {
		t.Fatal(err)
	}
	store := newMapStore()
	cfg := Config{
		Store:       store,
		Crypto:      suiteCrypto{random: newSeededRandom("aegis format vector: crypto")},
		Padding:     policy,
		Random:      newSeededRandom("aegis format vector: vault"),
		Parallelism: 1,
	}
	v, err := Create(ctx, cfg, []byte(vectorPassphrase))
	if err != nil {
		t.Fatal(err)
	}
	p := vectorPayloads()
	steps := []struct {
		what string
		do   func() error
	}{
		{"store notes", func() error { return v.Store(ctx, "notes", p["notes"]) }},
		{"store settings", func() error { return v.Store(ctx, "settings", []byte(`{"theme":"light"}`)) }},
		// Put streams: a reader without Len takes sealStream's chunk-by-chunk path.
		{"put photos", func() error { return v.Put(ctx, "photos", io.MultiReader(bytes.NewReader(p["photos"]))) }},
		{"store empty", func() error { return v.Store(ctx, "empty", p["empty"]) }},
		{"store diary", func() error { return v.Store(ctx, "日記/2024", p["日記/2024"]) }},
		{"rotate diary", func() error { return v.RotateKey(ctx, "日記/2024") }},
		{"store scratch", func() error { return v.Store(ctx, "scratch", []byte("gone")) }},
		{"delete scratch", func() error { return v.Delete(ctx, "scratch") }},
		{"store settings again", func() error { return v.Store(ctx, "settings", p["settings"]) }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.what, err)
		}
	}

	spec := &vectorSpec{
		Comment: "A vault of the Aegis on-store format, the known-answer vector of docs/format.md (\"Test vectors\"). " +
			"Written by TestFormatVectorVault -update (domain/vault/vector_test.go); never edit it by hand, never rewrite it.",
		VaultName:      "",
		HeaderID:       HeaderID("").String(),
		Passphrase:     vectorPassphrase,
		Padding:        policy.Sizes(),
		Epoch:          v.root.epoch,
		ManifestChunks: len(v.root.manifest),
		Garbage:        len(v.man.garbage),
	}
	spec.Versions.Header, spec.Versions.Root, spec.Versions.Manifest = formatVersion, rootVersion, manifestVersion
	kdf := v.KDF()
	spec.KDF.Name, spec.KDF.Iterations, spec.KDF.Salt = kdf.Name, kdf.Iterations, hex.EncodeToString(kdf.Salt)
	for _, name := range v.man.sortedNames() {
		e := v.man.categories[name]
		data := p[name]
		if data == nil || !bytes.Equal(must(t)(v.Load(ctx, name)), data) {
			t.Fatalf("%q does not hold its payload", name)
		}
		sum := sha256.Sum256(data)
		c := vectorCategory{Name: name, Size: e.size, SHA256: hex.EncodeToString(sum[:]), Generation: e.generation, Version: e.version}
		if len(data) <= 200 && utf8.Valid(data) {
			c.Text = string(data)
		}
		for _, ref := range e.chunks {
			c.Chunks = append(c.Chunks, int(ref.size))
		}
		spec.Categories = append(spec.Categories, c)
	}
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	// The counts the vector is meant to have: if the writer changed them, say so
	// rather than commit a vector that covers less.
	photos := spec.Categories[slices.IndexFunc(spec.Categories, func(c vectorCategory) bool { return c.Name == "photos" })]
	if spec.ManifestChunks < 2 || spec.Garbage == 0 || len(photos.Chunks) != 10 || len(spec.Categories) != 5 {
		t.Fatalf("the vector lost a feature: %d manifest chunks, %d garbage ids, %d photos chunks, %d categories",
			spec.ManifestChunks, spec.Garbage, len(photos.Chunks), len(spec.Categories))
	}

	snap := store.snapshot()
	spec.Objects = len(snap)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "objects"), 0o755); err != nil {
		t.Fatal(err)
	}
	for id, b := range snap {
		if err := os.WriteFile(filepath.Join(dir, "objects", id.String()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	js, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "vault.json"), append(js, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s: %d objects", dir, spec.Objects)
}

// vectorPayloads returns the final content of each category of the vector.
func vectorPayloads() map[string][]byte {
	photos := make([]byte, 8500)
	seed := sha256.Sum256([]byte("aegis format vector: photos"))
	_, _ = mathrand.NewChaCha8(seed).Read(photos)
	// Mark each 960-byte chunk's payload with its index, so that chunks read back in
	// the wrong order show in the content too.
	for i := 0; i*960 < len(photos); i++ {
		binary.BigEndian.PutUint32(photos[i*960:], uint32(i))
	}
	return map[string][]byte{
		"notes":    []byte("Dear diary,\nthis vault is a known-answer vector of the Aegis on-store format.\n"),
		"settings": []byte(`{"theme":"dark","lang":"en"}`),
		"photos":   photos,
		"empty":    {},
		"日記/2024":  []byte(strings.Repeat("雨のち晴れ。", 3)),
	}
}

// must returns a function that fails t on an error and returns the value.
func must(t *testing.T) func([]byte, error) []byte {
	return func(b []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}
