package suite_test

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/crypto/aead"
	"github.com/ai-pantheon/aegis/crypto/kdf"
	"github.com/ai-pantheon/aegis/crypto/suite"
	"github.com/ai-pantheon/aegis/domain"
)

// fast is a Suite with cheap KDF parameters, for tests only.
var fast = suite.New(kdf.InsecureTestPolicy())

func deriveKEK(t *testing.T, s *suite.Suite, pass string, spec domain.KDFSpec) domain.KEK {
	t.Helper()
	kek, err := s.DeriveKEK([]byte(pass), spec)
	if err != nil {
		t.Fatal(err)
	}
	return kek
}

func newSpec(t *testing.T, s *suite.Suite, name string) domain.KDFSpec {
	t.Helper()
	spec, err := s.NewKDFSpec(name)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func newDEK(t *testing.T) domain.DEK {
	t.Helper()
	dek, err := fast.NewDEK()
	if err != nil {
		t.Fatal(err)
	}
	return dek
}

func TestWrapUnwrapRoundTrip(t *testing.T) {
	for _, name := range []string{domain.KDFPBKDF2SHA256, domain.KDFArgon2id} {
		t.Run(name, func(t *testing.T) {
			spec := newSpec(t, fast, name)
			kek := deriveKEK(t, fast, "passphrase", spec)
			dek := newDEK(t)
			ad := []byte("aegis/v1 dek;vault=0123;slot=7;gen=1")
			data := dek.Seal(nil, []byte("category contents"), []byte("chunk 0"))

			wrapped, err := kek.Wrap(dek, ad)
			if err != nil {
				t.Fatal(err)
			}
			if len(wrapped) != suite.WrappedSize || suite.WrappedSize != 92 {
				t.Fatalf("wrapped DEK is %d bytes, want %d", len(wrapped), suite.WrappedSize)
			}
			// A KEK derived again from the same passphrase and spec unwraps it.
			again := deriveKEK(t, fast, "passphrase", spec)
			dek2, err := again.Unwrap(wrapped, ad)
			if err != nil {
				t.Fatal(err)
			}
			got, err := dek2.Open(nil, data, []byte("chunk 0"))
			if err != nil || string(got) != "category contents" {
				t.Fatalf("the unwrapped DEK does not open data sealed by the original: %q, %v", got, err)
			}
			// And the other way round.
			back, err := dek.Open(nil, dek2.Seal(nil, []byte("x"), nil), nil)
			if err != nil || string(back) != "x" {
				t.Fatalf("the original DEK does not open data sealed by the unwrapped one: %v", err)
			}
		})
	}
}

func TestUnwrapWithOtherAssociatedDataFails(t *testing.T) {
	kek := deriveKEK(t, fast, "passphrase", newSpec(t, fast, ""))
	ad := func(vault string, slot, gen int) []byte {
		return fmt.Appendf(nil, "aegis/v1 dek;vault=%s;slot=%d;gen=%d", vault, slot, gen)
	}
	wrapped, err := kek.Wrap(newDEK(t), ad("A", 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kek.Unwrap(wrapped, ad("A", 1, 1)); err != nil {
		t.Fatalf("same ad: %v", err)
	}
	for name, other := range map[string][]byte{
		"another vault":      ad("B", 1, 1),
		"another slot":       ad("A", 2, 1),
		"another generation": ad("A", 1, 2),
		"no ad":              nil,
	} {
		dek, err := kek.Unwrap(wrapped, other)
		if !errors.Is(err, domain.ErrIntegrity) || dek != nil {
			t.Errorf("%s: Unwrap = %v, %v; want ErrIntegrity", name, dek, err)
		}
	}
}

func TestUnwrapRejectsTamperingAndOtherKEKs(t *testing.T) {
	spec := newSpec(t, fast, "")
	kek := deriveKEK(t, fast, "passphrase", spec)
	wrapped, err := kek.Wrap(newDEK(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range wrapped {
		tampered := bytes.Clone(wrapped)
		tampered[i] ^= 0x80
		if _, err := kek.Unwrap(tampered, nil); !errors.Is(err, domain.ErrIntegrity) {
			t.Fatalf("byte %d flipped: %v", i, err)
		}
	}
	for _, n := range []int{0, 1, aead.Overhead, suite.WrappedSize - 1} {
		if _, err := kek.Unwrap(wrapped[:n], nil); !errors.Is(err, domain.ErrIntegrity) {
			t.Fatalf("truncated to %d: %v", n, err)
		}
	}
	if _, err := kek.Unwrap(append(bytes.Clone(wrapped), 0), nil); !errors.Is(err, domain.ErrIntegrity) {
		t.Fatalf("extended: %v", err)
	}
	// Another passphrase, and the same passphrase with another salt.
	other := deriveKEK(t, fast, "passphrase2", spec)
	if _, err := other.Unwrap(wrapped, nil); !errors.Is(err, domain.ErrIntegrity) {
		t.Fatalf("other passphrase: %v", err)
	}
	resalted := deriveKEK(t, fast, "passphrase", newSpec(t, fast, ""))
	if _, err := resalted.Unwrap(wrapped, nil); !errors.Is(err, domain.ErrIntegrity) {
		t.Fatalf("other salt: %v", err)
	}
	// A well-formed message of the wrong length sealed under the KEK is not a DEK.
	short := kek.Seal(nil, make([]byte, 16), nil)
	if _, err := kek.Unwrap(short, nil); !errors.Is(err, domain.ErrIntegrity) {
		t.Fatalf("16-byte key: %v", err)
	}
}

type foreignDEK struct{ domain.DEK }

func TestWrapRejectsForeignAndDestroyedDEKs(t *testing.T) {
	kek := deriveKEK(t, fast, "passphrase", newSpec(t, fast, ""))
	var nilDEK *suite.DEK
	destroyed := newDEK(t)
	destroyed.Destroy()
	for name, dek := range map[string]domain.DEK{
		"foreign":       foreignDEK{newDEK(t)},
		"nil interface": nil,
		"nil pointer":   nilDEK,
		"destroyed":     destroyed,
	} {
		wrapped, err := kek.Wrap(dek, nil)
		if !errors.Is(err, domain.ErrInvalidInput) || wrapped != nil {
			t.Errorf("%s: Wrap = %x, %v; want ErrInvalidInput", name, wrapped, err)
		}
	}
}

func TestKeyCheck(t *testing.T) {
	spec := newSpec(t, fast, "")
	a1 := deriveKEK(t, fast, "passphrase", spec)
	a2 := deriveKEK(t, fast, "passphrase", spec)
	b := deriveKEK(t, fast, "Passphrase", spec)
	c := deriveKEK(t, fast, "passphrase", newSpec(t, fast, ""))

	if len(a1.KeyCheck()) != suite.KeyCheckSize {
		t.Fatalf("KeyCheck is %d bytes", len(a1.KeyCheck()))
	}
	if !bytes.Equal(a1.KeyCheck(), a2.KeyCheck()) {
		t.Fatal("KeyCheck differs for the same passphrase and spec")
	}
	if bytes.Equal(a1.KeyCheck(), b.KeyCheck()) {
		t.Fatal("KeyCheck equal for different passphrases")
	}
	if bytes.Equal(a1.KeyCheck(), c.KeyCheck()) {
		t.Fatal("KeyCheck equal for different salts")
	}
	// The caller cannot change the KEK's value through the returned slice.
	kc := a1.KeyCheck()
	kc[0] ^= 1
	if bytes.Equal(kc, a1.KeyCheck()) {
		t.Fatal("KeyCheck returned the KEK's own storage")
	}
	k := a1.(*suite.KEK)
	if !k.KeyCheckEqual(a2.KeyCheck()) || k.KeyCheckEqual(b.KeyCheck()) || k.KeyCheckEqual(nil) {
		t.Fatal("KeyCheckEqual is wrong")
	}
}

// TestKeyCheckAsDocumented recomputes the key-check value from the package
// documentation: HKDF-SHA256(kek, salt=nil, info="aegis/v1 key check", 32).
func TestKeyCheckAsDocumented(t *testing.T) {
	p := kdf.InsecureTestPolicy()
	spec, err := p.NewSpec("")
	if err != nil {
		t.Fatal(err)
	}
	key, err := p.Derive([]byte("passphrase"), spec)
	if err != nil {
		t.Fatal(err)
	}
	want, err := hkdf.Key(sha256.New, key.Bytes(), nil, "aegis/v1 key check", 32)
	if err != nil {
		t.Fatal(err)
	}
	kek := deriveKEK(t, suite.New(p), "passphrase", spec)
	if !bytes.Equal(kek.KeyCheck(), want) {
		t.Fatal("KeyCheck does not follow the documented construction")
	}
	// The KEK's AEAD is aead.New over the same derived key.
	a, err := aead.New(key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Open(nil, kek.Seal(nil, []byte("m"), nil), nil); err != nil {
		t.Fatal("the KEK is not aead.New over the derived key")
	}
}

func TestDeriveKEKChecksFirst(t *testing.T) {
	s := suite.Default()
	start := time.Now()
	cases := map[string]struct {
		spec domain.KDFSpec
		want error
	}{
		"pbkdf2 far above ceiling": {domain.KDFSpec{Name: domain.KDFPBKDF2SHA256, Iterations: 1<<32 - 1, Salt: make([]byte, 16)}, domain.ErrKDFParams},
		"pbkdf2 below floor":       {domain.KDFSpec{Name: domain.KDFPBKDF2SHA256, Iterations: 1000, Salt: make([]byte, 16)}, domain.ErrKDFParams},
		"argon2id 4 TiB":           {domain.KDFSpec{Name: domain.KDFArgon2id, Time: 10, MemoryKiB: 1<<32 - 1, Threads: 4, Salt: make([]byte, 16)}, domain.ErrKDFParams},
		"argon2id short salt":      {domain.KDFSpec{Name: domain.KDFArgon2id, Time: 3, MemoryKiB: 65536, Threads: 4, Salt: make([]byte, 8)}, domain.ErrKDFParams},
		"unknown KDF":              {domain.KDFSpec{Name: "scrypt", Salt: make([]byte, 16)}, domain.ErrUnsupportedVersion},
	}
	for name, c := range cases {
		if err := s.CheckKDF(c.spec); !errors.Is(err, c.want) {
			t.Errorf("%s: CheckKDF = %v, want %v", name, err, c.want)
		}
		kek, err := s.DeriveKEK([]byte("pass"), c.spec)
		if !errors.Is(err, c.want) || kek != nil {
			t.Errorf("%s: DeriveKEK = %v, %v; want %v", name, kek, err, c.want)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("refusing specs took %v: a KDF ran before the check", d)
	}
}

func TestNewKDFSpec(t *testing.T) {
	s := suite.Default()
	spec, err := s.NewKDFSpec("")
	if err != nil {
		t.Fatal(err)
	}
	if spec.Name != domain.KDFPBKDF2SHA256 || spec.Iterations != 600_000 || len(spec.Salt) != 16 {
		t.Fatalf("NewKDFSpec(\"\") = %+v", spec)
	}
	spec, err = s.NewKDFSpec(domain.KDFArgon2id)
	if err != nil {
		t.Fatal(err)
	}
	if spec.Time != 3 || spec.MemoryKiB != 65536 || spec.Threads != 4 || len(spec.Salt) != 16 {
		t.Fatalf("NewKDFSpec(argon2id) = %+v", spec)
	}
	if err := s.CheckKDF(spec); err != nil {
		t.Fatalf("default spec fails its own check: %v", err)
	}
	if _, err := s.NewKDFSpec("rot13"); !errors.Is(err, domain.ErrUnsupportedVersion) {
		t.Fatalf("unknown KDF: %v", err)
	}
}

func TestNewDEK(t *testing.T) {
	a, b := newDEK(t), newDEK(t)
	sealed := a.Seal(nil, []byte("for a"), nil)
	if _, err := b.Open(nil, sealed, nil); !errors.Is(err, domain.ErrIntegrity) {
		t.Fatalf("two fresh DEKs share a key: %v", err)
	}
	if a.PrefixSize() != aead.PrefixSize || a.Overhead() != aead.Overhead {
		t.Fatal("DEK sizes differ from aead's")
	}
	obj := make([]byte, aead.Overhead+3)
	copy(obj[aead.PrefixSize:], "abc")
	a.SealInPlace(obj, nil)
	if got, err := a.Open(obj[aead.PrefixSize:aead.PrefixSize], obj, nil); err != nil || string(got) != "abc" {
		t.Fatalf("in place: %q, %v", got, err)
	}
}

func TestKEKAsAEAD(t *testing.T) {
	kek := deriveKEK(t, fast, "passphrase", newSpec(t, fast, ""))
	if kek.PrefixSize() != aead.PrefixSize || kek.Overhead() != aead.Overhead {
		t.Fatal("KEK sizes differ from aead's")
	}
	m := kek.Seal(nil, []byte("manifest"), []byte("aegis/v1 manifest"))
	if got, err := kek.Open(nil, m, []byte("aegis/v1 manifest")); err != nil || string(got) != "manifest" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	obj := make([]byte, aead.Overhead+1)
	kek.SealInPlace(obj, nil)
	if _, err := kek.Open(nil, obj, nil); err != nil {
		t.Fatal(err)
	}
}

func TestDestroy(t *testing.T) {
	kek := deriveKEK(t, fast, "passphrase", newSpec(t, fast, ""))
	dek := newDEK(t)
	wrapped, _ := kek.Wrap(dek, nil)
	kek.Destroy()
	kek.Destroy() // idempotent
	dek.Destroy()
	dek.Destroy()
	for name, f := range map[string]func(){
		"KEK.KeyCheck": func() { kek.KeyCheck() },
		"KEK.Unwrap":   func() { _, _ = kek.Unwrap(wrapped, nil) },
		"KEK.Seal":     func() { kek.Seal(nil, nil, nil) },
		"DEK.Seal":     func() { dek.Seal(nil, nil, nil) },
		"DEK.Open":     func() { _, _ = dek.Open(nil, make([]byte, 100), nil) },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "destroyed") {
					t.Errorf("%s after Destroy: panic %v", name, r)
				}
			}()
			f()
		}()
	}
}

func TestKeysNeverPrint(t *testing.T) {
	kek := deriveKEK(t, fast, "passphrase", newSpec(t, fast, ""))
	dek := newDEK(t)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%d", "%q"} {
		if got := fmt.Sprintf(verb, kek); got != "suite.KEK(redacted)" {
			t.Errorf("Sprintf(%q, kek) = %q", verb, got)
		}
		if got := fmt.Sprintf(verb, dek); got != "suite.DEK(redacted)" {
			t.Errorf("Sprintf(%q, dek) = %q", verb, got)
		}
	}
}

func TestPolicy(t *testing.T) {
	if suite.Default().Policy() != kdf.DefaultPolicy() {
		t.Fatal("Default() does not use kdf.DefaultPolicy()")
	}
}
