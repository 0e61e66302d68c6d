package hmactoken

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ai-pantheon/aegis/crypto/secret"
	"github.com/ai-pantheon/aegis/domain"
)

// ledger is a minimal domain.SpentLedger (crypto does not import adapters)
// that records the nonces it is given.
type ledger struct {
	mu    sync.Mutex
	seen  map[string]bool
	calls [][]byte
	fail  error
}

func (l *ledger) MarkSpent(ctx context.Context, partition string, nonce []byte) (bool, error) {
	if err := domain.CheckLedgerArgs(partition, nonce); err != nil {
		return false, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != nil {
		return false, l.fail
	}
	if l.seen == nil {
		l.seen = make(map[string]bool)
	}
	l.calls = append(l.calls, bytes.Clone(nonce))
	k := partition + "/" + string(nonce)
	spent := l.seen[k]
	l.seen[k] = true
	return spent, nil
}

func (l *ledger) DropPartition(context.Context, string) error { return nil }

func newIssuer(t testing.TB) (*Issuer, *ledger) {
	t.Helper()
	l := &ledger{}
	is, err := New(secret.Random(32), l)
	if err != nil {
		t.Fatal(err)
	}
	return is, l
}

func TestIssueVerify(t *testing.T) {
	is, l := newIssuer(t)
	ctx := context.Background()
	toks, err := is.IssueBatch(10)
	if err != nil {
		t.Fatal(err)
	}
	if is.Issued() != 10 {
		t.Fatalf("Issued = %d", is.Issued())
	}
	seen := map[string]bool{}
	for _, tok := range toks {
		if len(tok) != TokenSize || seen[string(tok[:NonceSize])] {
			t.Fatal("bad or repeated token")
		}
		seen[string(tok[:NonceSize])] = true
		if err := is.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if err := is.Verify(ctx, tok); !errors.Is(err, domain.ErrTokenSpent) {
			t.Fatalf("replay: %v", err)
		}
	}
	// The ledger is keyed on the nonce, never the tag.
	for _, n := range l.calls {
		if len(n) != NonceSize {
			t.Fatalf("ledger got %d bytes", len(n))
		}
	}
	// Appending to a token's buffer after issuing does not touch the next one.
	_ = append(toks[0], 1)
	if err := is.Check(toks[1]); err != nil {
		t.Fatal(err)
	}
}

func TestTagIsHMACOverNonce(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	is, err := New(secret.New(key), &ledger{})
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := is.Issue()
	m := hmac.New(sha256.New, key)
	m.Write(tok[:NonceSize])
	if !bytes.Equal(m.Sum(nil), tok[NonceSize:]) {
		t.Fatal("tag is not HMAC-SHA256(key, nonce)")
	}
}

func TestRefusals(t *testing.T) {
	is, l := newIssuer(t)
	other, _ := newIssuer(t)
	ctx := context.Background()
	good, _ := is.Issue()
	foreign, _ := other.Issue()
	flip := func(i int) []byte { b := bytes.Clone(good); b[i] ^= 1; return b }
	for _, tc := range []struct {
		name string
		tok  []byte
	}{
		{"Empty", nil},
		{"Short", good[:TokenSize-1]},
		{"Long", append(bytes.Clone(good), 0)},
		{"NonceFlipped", flip(0)},
		{"TagFlipped", flip(TokenSize - 1)},
		{"OtherKey", foreign},
		{"NonceOnly", good[:NonceSize]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := is.Verify(ctx, tc.tok)
			if !errors.Is(err, domain.ErrTokenInvalid) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Verify = %v", err)
			}
			if len(l.calls) != 0 {
				t.Fatal("a refused token reached the ledger")
			}
		})
	}
	// A failing ledger is reported and the token stays usable.
	l.fail = errors.New("disk full")
	if err := is.Verify(ctx, good); err == nil || errors.Is(err, domain.ErrTokenInvalid) {
		t.Fatalf("ledger failure: %v", err)
	}
	l.fail = nil
	if err := is.Verify(ctx, good); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := is.Verify(cancelled, good); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

func TestNewRefusesWeakKeys(t *testing.T) {
	if _, err := New(secret.Random(16), &ledger{}); !errors.Is(err, domain.ErrInvalidInput) {
		t.Fatal(err)
	}
	if _, err := New(secret.Random(32), nil); !errors.Is(err, domain.ErrInvalidInput) {
		t.Fatal(err)
	}
	is, _ := newIssuer(t)
	if _, err := is.IssueBatch(0); !errors.Is(err, domain.ErrInvalidInput) {
		t.Fatal(err)
	}
	if len(is.Partition()) != 32 || strings.Trim(is.Partition(), "0123456789abcdef") != "" {
		t.Fatalf("partition %q", is.Partition())
	}
}

func TestConcurrentRedeemOnce(t *testing.T) {
	is, _ := newIssuer(t)
	tok, _ := is.Issue()
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if is.Verify(context.Background(), tok) == nil {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d redemptions accepted", ok.Load())
	}
}

func BenchmarkIssue(b *testing.B) {
	is, _ := newIssuer(b)
	var tok []byte
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if tok, err = is.Issue(); err != nil {
			b.Fatal(err)
		}
	}
	checkChecks(b, is, tok)
}

func BenchmarkCheck(b *testing.B) {
	is, _ := newIssuer(b)
	tok, _ := is.Issue()
	b.ReportAllocs()
	for b.Loop() {
		if err := is.Check(tok); err != nil {
			b.Fatal(err)
		}
	}
	checkChecks(b, is, tok)
}

// checkChecks is the benchmarks' check of their result, once after the loop:
// Check accepts tok and refuses it with one bit flipped, anywhere.
func checkChecks(b *testing.B, is *Issuer, tok []byte) {
	b.Helper()
	if err := is.Check(tok); err != nil {
		b.Fatalf("Check of an issued token: %v", err)
	}
	for i := range tok {
		bad := bytes.Clone(tok)
		bad[i] ^= 1
		if err := is.Check(bad); err == nil {
			b.Fatalf("Check accepted the token with a bit of byte %d flipped", i)
		}
	}
}

func FuzzCheck(f *testing.F) {
	is, err := New(secret.New(bytes.Repeat([]byte{1}, 32)), &ledger{})
	if err != nil {
		f.Fatal(err)
	}
	tok, _ := is.Issue()
	f.Add(tok)
	f.Fuzz(func(t *testing.T, b []byte) {
		if is.Check(b) == nil && !bytes.Equal(b, tok) {
			// Only tokens we issued verify; any other passing input is a forgery
			// (with overwhelming probability).
			m := hmac.New(sha256.New, bytes.Repeat([]byte{1}, 32))
			m.Write(b[:NonceSize])
			if !bytes.Equal(m.Sum(nil), b[NonceSize:]) {
				t.Fatal("forged token accepted")
			}
		}
	})
}
