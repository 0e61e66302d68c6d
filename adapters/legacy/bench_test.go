package legacy_test

import (
	"os"
	"path/filepath"
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

// BenchmarkOpen reads and parses the committed fixture (12 categories, about
// 170 KB of files): no cryptography.
func BenchmarkOpen(b *testing.B) {
	fixtureDir := fixture(b)
	b.SetBytes(fixtureBytes(b, fixtureDir))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := legacy.Open(fixtureDir); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecrypt decrypts and checks the opened fixture: one PBKDF2 with
// 600,000 iterations, 12 data keys, 12 values. It reports the time per import.
func BenchmarkDecrypt(b *testing.B) {
	pass, err := os.ReadFile("testdata/py-vault.pass")
	if err != nil {
		b.Fatal(err)
	}
	v, err := legacy.Open(fixture(b))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		c, err := v.Decrypt(pass)
		if err != nil {
			b.Fatal(err)
		}
		c.Destroy()
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/import")
}
