package legacy

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

// FuzzParseFiles runs the three file parsers on the same bytes. They must
// never panic, and whatever they accept must have the shape the format says.
func FuzzParseFiles(f *testing.F) {
	entries, err := os.ReadDir("testdata/py-vault")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("testdata/py-vault", e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		if len(b) < 4096 {
			f.Add(b)
		}
	}
	for _, s := range []string{
		``, `{}`, `[]`, `null`, `{"nonce": "", "ciphertext": ""}`,
		`{"nonce": "AAAAAAAAAAAAAAAA", "ciphertext": "AAAAAAAAAAAAAAAAAAAAAA=="}`,
		`{"category": "a", "encrypted": {"nonce": "AAAAAAAAAAAAAAAA", "ciphertext": "AAAAAAAAAAAAAAAAAAAAAA=="}, "plaintext_size": 0}`,
		`{"category": "a", "encrypted": {"nonce": "AAAAAAAAAAAAAAAA", "ciphertext": "AAAAAAAAAAAAAAAAAAAAAA=="}, "plaintext_size": 0, "category": "a"}`,
		`{"category": "a", "encrypted": {"nonce": "AAAAAAAAAAAAAAAA", "ciphertext": "AAAAAAAAAAAAAAAAAAAAAA=="}, "plaintext_size": 1e0}`,
		"AAAAAAAAAAAAAAAAAAAAAA==", "AAAAAAAAAAAAAAAAAAAAAA=\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if salt, err := parseSalt(b); err == nil {
			if len(salt) != SaltSize || base64.StdEncoding.EncodeToString(salt) != string(b) {
				t.Fatalf("salt %q accepted as %x", b, salt)
			}
		}
		if s, err := parseDEKFile(b); err == nil {
			if len(s.nonce) != NonceSize || len(s.ciphertext) != DEKSize+TagSize || !json.Valid(b) {
				t.Fatalf("key file %q accepted with a %d-byte nonce and a %d-byte key", b, len(s.nonce), len(s.ciphertext))
			}
		}
		if v, err := parseVaultFile(b); err == nil {
			if len(v.encrypted.nonce) != NonceSize || int64(len(v.encrypted.ciphertext)-TagSize) != v.plaintextSize || !json.Valid(b) {
				t.Fatalf("vault file %q accepted as %+v", b, v)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil || len(m) != 3 || m["category"] != v.category {
				t.Fatalf("vault file %q accepted with category %q (%v)", b, v.category, err)
			}
		}
	})
}

// FuzzValue runs the check of a decrypted value: what it accepts is valid,
// compact JSON that means what the input meant.
func FuzzValue(f *testing.F) {
	for _, s := range []string{
		"{\n  \"a\": [\n    1,\n    2.5\n  ],\n  \"b\": {}\n}", "NaN", "[\n  -Infinity\n]", "\"\\ud83d\\udd10\"",
		"\"\xff\"", "", " ", "1 2", "{\"a\": 1,}", "12345678901234567890",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := compactJSON(b)
		if err != nil {
			return
		}
		if !json.Valid(v) || !utf8.Valid(v) {
			t.Fatalf("%q accepted as %q, which is not JSON", b, v)
		}
		var again bytes.Buffer
		if err := json.Compact(&again, v); err != nil || !bytes.Equal(again.Bytes(), v) {
			t.Fatalf("%q accepted as %q, which is not compact", b, v)
		}
		// Numbers are compared as their text (json.Number): Python writes
		// integers of any size, which float64 cannot hold.
		x, errx := decodeNumbers(b)
		y, erry := decodeNumbers(v)
		if errx != nil || erry != nil || !jsonEqual(x, y) {
			t.Fatalf("%q accepted as %q, another value", b, v)
		}
	})
}

func decodeNumbers(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var x any
	if err := d.Decode(&x); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, errors.New("trailing data")
	}
	return x, nil
}

func jsonEqual(x, y any) bool {
	a, err1 := json.Marshal(x)
	b, err2 := json.Marshal(y)
	return err1 == nil && err2 == nil && bytes.Equal(a, b)
}
