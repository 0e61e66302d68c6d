package fuzz

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ai-pantheon/aegis/domain/vault"
)

// TestSeedsAreMeaningful checks that the hand-built seeds are what they claim:
// the well-formed ones decode, so fuzzing starts from inputs that reach past
// the first checks.
func TestSeedsAreMeaningful(t *testing.T) {
	m := manifestSeeds()
	for i := range 3 {
		if _, err := vault.DecodeManifest(m[i][0].([]byte)); err != nil {
			t.Errorf("manifest seed %d: %v", i, err)
		}
	}
	for i := 3; i < len(m); i++ {
		if _, err := vault.DecodeManifest(m[i][0].([]byte)); err == nil {
			t.Errorf("malformed manifest seed %d decodes", i)
		}
	}
	ok := 0
	for _, s := range headerSeeds(t) {
		if hdr := s[0].([]byte); len(hdr) == 1024 {
			if _, err := vault.DecodeHeader(hdr); err == nil {
				ok++
			}
		}
	}
	// The two real headers (PBKDF2 and Argon2id).
	if ok != 2 {
		t.Errorf("%d full-size header seeds decode, want 2", ok)
	}
	a := fixedAEAD(t)
	for _, k := range knownSealed {
		if pt, err := a.Open(nil, k.sealed, k.ad); err != nil || string(pt) != string(k.plaintext) {
			t.Errorf("known sealed message: %q, %v", pt, err)
		}
	}
}

// TestWriteSeedCorpus writes every target's seeds to testdata/fuzz/<target>/ in
// the "go test fuzz v1" format. It runs only with AEGIS_WRITE_CORPUS=1. Header
// seeds come from a freshly created vault (random salt), so each run writes new
// header files; the others are deterministic.
func TestWriteSeedCorpus(t *testing.T) {
	if os.Getenv("AEGIS_WRITE_CORPUS") != "1" {
		t.Skip("set AEGIS_WRITE_CORPUS=1 to rewrite testdata/fuzz")
	}
	targets := map[string][][]any{
		"FuzzDecodeFrame":    frameSeeds(),
		"FuzzDecodeHeader":   headerSeeds(t),
		"FuzzDecodeManifest": manifestSeeds(),
		"FuzzAEADOpen":       aeadSeeds(t),
		"FuzzOpenChunk":      chunkSeeds(t),
		"FuzzVaultRoundTrip": roundTripSeeds(),
	}
	for name, seeds := range targets {
		dir := filepath.Join("testdata", "fuzz", name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, seed := range seeds {
			var b strings.Builder
			b.WriteString("go test fuzz v1\n")
			for _, arg := range seed {
				switch v := arg.(type) {
				case []byte:
					fmt.Fprintf(&b, "[]byte(%q)\n", v)
				case string:
					fmt.Fprintf(&b, "string(%q)\n", v)
				default:
					t.Fatalf("%s seed %d: unsupported type %T", name, i, arg)
				}
			}
			file := filepath.Join(dir, fmt.Sprintf("seed-%02d", i))
			if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
