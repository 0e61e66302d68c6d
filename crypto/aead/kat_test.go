package aead

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/ai-pantheon/aegis/crypto/secret"
)

// hexBytes is a byte string stored as hex in the test vector files.
type hexBytes []byte

func (h *hexBytes) UnmarshalText(text []byte) error {
	b, err := hex.DecodeString(string(text))
	*h = b
	return err
}

func loadJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestGCMSpecVectors checks the GCM primitive, built by the same newGCM that
// New uses, against the AES-256 test cases of the GCM specification.
func TestGCMSpecVectors(t *testing.T) {
	var file struct {
		Vectors []struct {
			Name                                    string
			Key, IV, Plaintext, AD, Ciphertext, Tag hexBytes
		}
	}
	loadJSON(t, "testdata/gcm_spec_aes256.json", &file)
	if len(file.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	for _, v := range file.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			gcm, err := newGCM(v.Key)
			if err != nil {
				t.Fatal(err)
			}
			want := append(bytes.Clone(v.Ciphertext), v.Tag...)
			got := gcm.Seal(nil, v.IV, v.Plaintext, v.AD)
			if !bytes.Equal(got, want) {
				t.Fatalf("Seal = %x, want %x", got, want)
			}
			pt, err := gcm.Open(nil, v.IV, want, v.AD)
			if err != nil || !bytes.Equal(pt, v.Plaintext) {
				t.Fatalf("Open = %x, %v; want %x", pt, err, v.Plaintext)
			}
		})
	}
}

type katVector struct {
	Name                              string
	Key, Nonce, Plaintext, AD, Sealed hexBytes
}

func loadKAT(t *testing.T) []katVector {
	t.Helper()
	var file struct{ Vectors []katVector }
	loadJSON(t, "testdata/aegis_v1_kat.json", &file)
	if len(file.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	return file.Vectors
}

// TestKnownAnswers is the regression test of the on-store format: the vectors
// were generated once and must never change.
func TestKnownAnswers(t *testing.T) {
	for _, v := range loadKAT(t) {
		t.Run(v.Name, func(t *testing.T) {
			a, err := New(secret.New(v.Key))
			if err != nil {
				t.Fatal(err)
			}
			got := a.sealWithNonce(nil, v.Nonce, v.Plaintext, v.AD)
			if !bytes.Equal(got, v.Sealed) {
				t.Fatalf("sealWithNonce = %x\nwant            %x", got, v.Sealed)
			}
			pt, err := a.Open(nil, v.Sealed, v.AD)
			if err != nil || !bytes.Equal(pt, v.Plaintext) {
				t.Fatalf("Open = %x, %v; want %x", pt, err, v.Plaintext)
			}
		})
	}
}

// TestConstructionAsDocumented rebuilds sealed messages from the formulas in
// the package documentation with the standard library alone, independently of
// New, and compares.
func TestConstructionAsDocumented(t *testing.T) {
	for _, v := range loadKAT(t) {
		t.Run(v.Name, func(t *testing.T) {
			encKey, err := hkdf.Key(sha256.New, v.Key, nil, "aegis/v1 aead enc", 32)
			if err != nil {
				t.Fatal(err)
			}
			commitKey, err := hkdf.Key(sha256.New, v.Key, nil, "aegis/v1 aead commit", 32)
			if err != nil {
				t.Fatal(err)
			}
			mac := hmac.New(sha256.New, commitKey)
			mac.Write([]byte("aegis/v1 commit"))
			mac.Write(v.Nonce)
			block, err := aes.NewCipher(encKey)
			if err != nil {
				t.Fatal(err)
			}
			gcm, err := cipher.NewGCM(block)
			if err != nil {
				t.Fatal(err)
			}
			want := append(bytes.Clone(v.Nonce), mac.Sum(nil)...)
			want = gcm.Seal(want, v.Nonce, v.Plaintext, v.AD)
			if !bytes.Equal(want, v.Sealed) {
				t.Fatalf("documented construction gives %x\nwant %x", want, v.Sealed)
			}
			if len(want) != len(v.Plaintext)+Overhead {
				t.Fatalf("len = %d, want %d", len(want), len(v.Plaintext)+Overhead)
			}
		})
	}
}
