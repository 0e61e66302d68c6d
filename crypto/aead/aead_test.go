package aead

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ai-pantheon/aegis/crypto/secret"
	"github.com/ai-pantheon/aegis/domain"
)

func newTestAEAD(t testing.TB) *AEAD {
	t.Helper()
	k := secret.Random(KeySize)
	defer k.Destroy()
	a, err := New(k)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + 3)
	}
	return b
}

func TestSizes(t *testing.T) {
	a := newTestAEAD(t)
	if a.PrefixSize() != 44 || PrefixSize != 44 {
		t.Errorf("PrefixSize = %d", a.PrefixSize())
	}
	if a.Overhead() != 60 || Overhead != 60 {
		t.Errorf("Overhead = %d", a.Overhead())
	}
	if Overhead-PrefixSize != TagSize {
		t.Errorf("tag size %d", Overhead-PrefixSize)
	}
}

func TestNewRejectsBadKeys(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := New(secret.Random(n)); !errors.Is(err, domain.ErrInvalidInput) {
			t.Errorf("New(%d-byte key) error = %v, want ErrInvalidInput", n, err)
		}
	}
	if _, err := New(nil); !errors.Is(err, domain.ErrInvalidInput) {
		t.Errorf("New(nil) error = %v", err)
	}
	k := secret.Random(KeySize)
	k.Destroy()
	if _, err := New(k); !errors.Is(err, domain.ErrInvalidInput) {
		t.Errorf("New(destroyed key) error = %v", err)
	}
}

func TestErrAuthentication(t *testing.T) {
	if !errors.Is(ErrAuthentication, domain.ErrIntegrity) {
		t.Fatal("ErrAuthentication does not wrap domain.ErrIntegrity")
	}
	if got := ErrAuthentication.Error(); got != "aegis/crypto: message authentication failed" {
		t.Fatalf("Error() = %q", got)
	}
}

func TestRoundTrip(t *testing.T) {
	a := newTestAEAD(t)
	ad := []byte("vault=v1;role=chunk;index=0")
	for _, n := range []int{0, 1, 15, 16, 17, 1000, 1 << 20} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			pt := pattern(n)
			sealed := a.Seal(nil, pt, ad)
			if len(sealed) != n+Overhead {
				t.Fatalf("len(sealed) = %d, want %d", len(sealed), n+Overhead)
			}
			if n >= 16 && bytes.Contains(sealed, pt[:16]) {
				t.Fatal("sealed message contains plaintext")
			}
			got, err := a.Open(nil, sealed, ad)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, pt) {
				t.Fatal("round trip changed the plaintext")
			}
		})
	}
}

func TestSealAppends(t *testing.T) {
	a := newTestAEAD(t)
	prefix := []byte("header:")
	pt := []byte("payload")
	out := a.Seal(bytes.Clone(prefix), pt, nil)
	if !bytes.HasPrefix(out, prefix) {
		t.Fatal("Seal did not keep dst")
	}
	got, err := a.Open([]byte("x"), out[len(prefix):], nil)
	if err != nil || string(got) != "xpayload" {
		t.Fatalf("Open = %q, %v", got, err)
	}
}

func TestInPlaceRoundTrip(t *testing.T) {
	a := newTestAEAD(t)
	ad := []byte("ad")
	for _, n := range []int{0, 1, 17, 4096} {
		pt := pattern(n)
		obj := make([]byte, PrefixSize+n+TagSize)
		copy(obj[PrefixSize:], pt)
		a.SealInPlace(obj, ad)
		// A byte of ciphertext equals its plaintext byte with probability 1/256:
		// only a run of 16 or more bytes in clear is a failure, not chance.
		if n >= 16 && bytes.Equal(obj[PrefixSize:PrefixSize+n], pt) {
			t.Fatalf("n=%d: SealInPlace left the plaintext in clear", n)
		}
		// A sealed-in-place object opens with the ordinary Open...
		got, err := a.Open(nil, obj, ad)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("n=%d: Open = %v", n, err)
		}
		// ...and in place.
		got, err = a.Open(obj[PrefixSize:PrefixSize], obj, ad)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("n=%d: Open in place = %v", n, err)
		}
		if n > 0 && &got[0] != &obj[PrefixSize] {
			t.Fatalf("n=%d: Open in place did not decrypt in place", n)
		}
	}
}

func TestSealInPlaceMatchesSeal(t *testing.T) {
	a := newTestAEAD(t)
	pt := pattern(100)
	ad := []byte("ad")
	obj := make([]byte, len(pt)+Overhead)
	copy(obj[PrefixSize:], pt)
	a.SealInPlace(obj, ad)
	// Same nonce through the appending path gives the same bytes.
	want := a.sealWithNonce(nil, obj[:NonceSize], pt, ad)
	if !bytes.Equal(obj, want) {
		t.Fatal("SealInPlace and Seal disagree for the same nonce")
	}
}

func TestEveryBitFlipFails(t *testing.T) {
	a := newTestAEAD(t)
	ad := []byte("ad")
	sealed := a.Seal(nil, []byte("a message of some length"), ad)
	for i := range len(sealed) * 8 {
		tampered := bytes.Clone(sealed)
		tampered[i/8] ^= 1 << (i % 8)
		if _, err := a.Open(nil, tampered, ad); err != ErrAuthentication {
			t.Fatalf("flip of bit %d (byte %d): error = %v, want ErrAuthentication", i, i/8, err)
		}
	}
	if _, err := a.Open(nil, sealed, ad); err != nil {
		t.Fatalf("the untampered message fails: %v", err)
	}
}

func TestWrongAssociatedDataFails(t *testing.T) {
	a := newTestAEAD(t)
	sealed := a.Seal(nil, []byte("secret"), []byte("vault=A;slot=1;gen=1"))
	for _, ad := range []string{"", "vault=B;slot=1;gen=1", "vault=A;slot=2;gen=1", "vault=A;slot=1;gen=2", "vault=A;slot=1;gen=1 "} {
		_, err := a.Open(nil, sealed, []byte(ad))
		if err != ErrAuthentication || !errors.Is(err, domain.ErrIntegrity) {
			t.Errorf("ad %q: error = %v", ad, err)
		}
	}
}

func TestTruncationFails(t *testing.T) {
	a := newTestAEAD(t)
	sealed := a.Seal(nil, pattern(40), nil)
	for n := range len(sealed) {
		if _, err := a.Open(nil, sealed[:n], nil); err != ErrAuthentication {
			t.Fatalf("truncated to %d bytes: error = %v", n, err)
		}
	}
	// Extension fails too.
	if _, err := a.Open(nil, append(bytes.Clone(sealed), 0), nil); err != ErrAuthentication {
		t.Fatalf("extended: error = %v", err)
	}
}

func TestWrongKeyFails(t *testing.T) {
	a, b := newTestAEAD(t), newTestAEAD(t)
	sealed := a.Seal(nil, []byte("for A only"), nil)
	if _, err := b.Open(nil, sealed, nil); err != ErrAuthentication {
		t.Fatalf("Open under key B: error = %v", err)
	}
}

// TestCommitmentCheckedFirst swaps in a commitment computed under another key:
// the GCM part is still valid, the message must still be refused.
func TestCommitmentCheckedFirst(t *testing.T) {
	a, b := newTestAEAD(t), newTestAEAD(t)
	sealed := a.Seal(nil, []byte("msg"), nil)
	forged := bytes.Clone(sealed)
	b.commit(forged[NonceSize:NonceSize:PrefixSize], forged[:NonceSize])
	if bytes.Equal(forged, sealed) {
		t.Fatal("commitments of two keys are equal")
	}
	if _, err := a.Open(nil, forged, nil); err != ErrAuthentication {
		t.Fatalf("error = %v", err)
	}
}

func TestFreshNonces(t *testing.T) {
	a := newTestAEAD(t)
	pt := []byte("same plaintext")
	seen := map[string]bool{}
	for range 1000 {
		s := a.Seal(nil, pt, nil)
		if seen[string(s[:NonceSize])] {
			t.Fatal("nonce repeated")
		}
		seen[string(s[:NonceSize])] = true
	}
	x, y := a.Seal(nil, pt, nil), a.Seal(nil, pt, nil)
	if bytes.Equal(x, y) {
		t.Fatal("two seals of the same plaintext are equal")
	}
}

func TestMisusePanics(t *testing.T) {
	a := newTestAEAD(t)
	mustPanic(t, "SealInPlace short", func() { a.SealInPlace(make([]byte, Overhead-1), nil) })
	buf := make([]byte, 200)
	mustPanic(t, "Seal overlapping", func() { a.Seal(buf[:0], buf[:100], nil) })
	mustPanic(t, "Seal ad overlapping", func() { a.Seal(buf[:0], nil, buf[30:40]) })
	mustPanic(t, "SealInPlace ad overlapping", func() { a.SealInPlace(buf[:100], buf[50:60]) })
	a.SealInPlace(make([]byte, Overhead), nil) // exactly Overhead: empty plaintext is fine
}

func TestDestroy(t *testing.T) {
	a := newTestAEAD(t)
	sealed := a.Seal(nil, []byte("x"), nil)
	ck := a.commitKey.Bytes()
	a.Destroy()
	if !bytes.Equal(ck, make([]byte, len(ck))) {
		t.Fatal("Destroy did not zero the commitment key")
	}
	a.Destroy() // idempotent
	msg := mustPanic(t, "Seal after Destroy", func() { a.Seal(nil, []byte("x"), nil) })
	if !strings.Contains(msg, "destroyed") {
		t.Errorf("panic %q does not mention destruction", msg)
	}
	mustPanic(t, "Open after Destroy", func() { _, _ = a.Open(nil, sealed, nil) })
	mustPanic(t, "SealInPlace after Destroy", func() { a.SealInPlace(make([]byte, Overhead), nil) })
}

func TestFormattingNeverRevealsKeys(t *testing.T) {
	a := newTestAEAD(t)
	type holder struct {
		a *AEAD
		A *AEAD
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"} {
		if got := fmt.Sprintf(verb, a); got != "aead.AEAD(redacted)" {
			t.Errorf("Sprintf(%q, a) = %q", verb, got)
		}
		out := fmt.Sprintf(verb, holder{a, a})
		if strings.Contains(out, fmt.Sprint(a.commitKey.Bytes()[:4])[1:8]) ||
			strings.Contains(out, fmt.Sprintf("%x", a.commitKey.Bytes()[:4])) {
			t.Errorf("Sprintf(%q, holder) = %q shows the commitment key", verb, out)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	a := newTestAEAD(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			pt := pattern(100 + g)
			ad := []byte{byte(g)}
			buf := make([]byte, 0, len(pt)+Overhead)
			for range 200 {
				sealed := a.Seal(buf[:0], pt, ad)
				got, err := a.Open(sealed[PrefixSize:PrefixSize], sealed, ad)
				if err != nil || !bytes.Equal(got, pt) {
					t.Errorf("goroutine %d: %v", g, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestZeroAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	if testing.Short() {
		t.Skip("short")
	}
	a := newTestAEAD(t)
	pt := pattern(1024)
	ad := []byte("ad")
	dst := make([]byte, 0, len(pt)+Overhead)
	obj := make([]byte, len(pt)+Overhead)
	sealed := a.Seal(nil, pt, ad)
	work := make([]byte, len(sealed))
	out := make([]byte, 0, len(pt))

	checks := map[string]func(){
		"Seal with capacity": func() { a.Seal(dst, pt, ad) },
		"SealInPlace":        func() { a.SealInPlace(obj, ad) },
		"Open into capacity": func() {
			if _, err := a.Open(out, sealed, ad); err != nil {
				panic(err)
			}
		},
		"Open in place": func() {
			copy(work, sealed)
			if _, err := a.Open(work[PrefixSize:PrefixSize], work, ad); err != nil {
				panic(err)
			}
		},
		"Open failing": func() { _, _ = a.Open(out, sealed[:len(sealed)-1], ad) },
	}
	for name, f := range checks {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocs/op, want 0", name, n)
		}
	}
}

func mustPanic(t *testing.T, what string, f func()) (msg string) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			t.Errorf("%s did not panic", what)
		}
		msg = fmt.Sprint(r)
	}()
	f()
	return ""
}

func FuzzOpen(f *testing.F) {
	a, err := New(secret.New(make([]byte, KeySize)))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(a.Seal(nil, []byte("seed"), []byte("ad")), []byte("ad"))
	f.Add(a.Seal(nil, nil, nil), []byte{})
	f.Add(make([]byte, Overhead), []byte{})
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, sealed, ad []byte) {
		pt, err := a.Open(nil, sealed, ad)
		if err != nil {
			if err != ErrAuthentication {
				t.Fatalf("error %v is not ErrAuthentication", err)
			}
			return
		}
		// Whatever opens must re-open identically.
		again, err := a.Open(nil, bytes.Clone(sealed), ad)
		if err != nil || !bytes.Equal(again, pt) || len(sealed) != len(pt)+Overhead {
			t.Fatal("inconsistent Open")
		}
	})
}
