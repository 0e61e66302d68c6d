package legacy_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/ai-pantheon/aegis/adapters/legacy"
)

// fixtureBytes is the size of the committed fixture's key and vault files.
func fixtureBytes(b *testing.B, fixtureDir string) int64 {
	entries, err := os.ReadDir(fixtureDir)
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	for _, e := range entries {
		info, err := os.Stat(filepath.Join(fixtureDir, e.Name()))
		if err != nil {
			b.Fatal(err)
		}
		n += info.Size()
	}
	return n
}

// expectedFixture is what the committed fixture holds: category name to JSON value.
func expectedFixture(b *testing.B) map[string]json.RawMessage {
	b.Helper()
	raw, err := os.ReadFile("testdata/py-vault.expected.json")
	if err != nil {
		b.Fatal(err)
	}
	var want map[string]json.RawMessage
	if err := json.Unmarshal(raw, &want); err != nil {
		b.Fatal(err)
	}
	return want
}

// sameJSON reports whether a and b are JSON texts of the same value.
func sameJSON(a, b []byte) bool {
	decode := func(t []byte) (any, error) {
		dec := json.NewDecoder(bytes.NewReader(t))
		dec.UseNumber()
		var v any
		err := dec.Decode(&v)
		return v, err
	}
	va, errA := decode(a)
	vb, errB := decode(b)
	return errA == nil && errB == nil && reflect.DeepEqual(va, vb)
}

// BenchmarkOpen reads and parses the committed fixture (12 categories, about
// 170 KB of files): no cryptography. It checks the categories found, once.
func BenchmarkOpen(b *testing.B) {
	fixtureDir := fixture(b)
	b.SetBytes(fixtureBytes(b, fixtureDir))
	var v *legacy.Vault
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if v, err = legacy.Open(fixtureDir); err != nil {
			b.Fatal(err)
		}
	}
	if got, want := v.Categories(), slices.Sorted(maps.Keys(expectedFixture(b))); !slices.Equal(got, want) {
		b.Fatalf("categories %q, want %q", got, want)
	}
}

// BenchmarkDecrypt decrypts and checks the opened fixture: one PBKDF2 with
// 600,000 iterations, 12 data keys, 12 values. It reports the time per import,
// and checks the values of the last import, once.
func BenchmarkDecrypt(b *testing.B) {
	pass, err := os.ReadFile("testdata/py-vault.pass")
	if err != nil {
		b.Fatal(err)
	}
	v, err := legacy.Open(fixture(b))
	if err != nil {
		b.Fatal(err)
	}
	var c *legacy.Contents
	b.ReportAllocs()
	for b.Loop() {
		c.Destroy() // the previous import's: each iteration destroys one (nil is a no-op)
		if c, err = v.Decrypt(pass); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/import")
	defer c.Destroy()
	want := expectedFixture(b)
	if len(c.Categories) != len(want) {
		b.Fatalf("%d categories, want %d", len(c.Categories), len(want))
	}
	for _, cat := range c.Categories {
		if !sameJSON(cat.Value, want[cat.Name]) {
			b.Fatalf("category %q: got %.200s, want %.200s", cat.Name, cat.Value, want[cat.Name])
		}
	}
}
