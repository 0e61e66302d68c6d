package privacypass

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ai-pantheon/aegis/domain"
)

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }

// rsaPSSKeyFromSPKI decodes a SubjectPublicKeyInfo with encoding/asn1 and
// parses its subjectPublicKey as a PKCS#1 RSA key. It checks the algorithm OID
// is id-RSASSA-PSS (1.2.840.113549.1.1.10).
func rsaPSSKeyFromSPKI(t *testing.T, spki []byte) *rsa.PublicKey {
	t.Helper()
	var info struct {
		Algorithm struct {
			OID    asn1.ObjectIdentifier
			Params asn1.RawValue `asn1:"optional"`
		}
		PublicKey asn1.BitString
	}
	rest, err := asn1.Unmarshal(spki, &info)
	if err != nil || len(rest) != 0 {
		t.Fatalf("SPKI: %v", err)
	}
	if !info.Algorithm.OID.Equal(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}) {
		t.Fatalf("SPKI algorithm %v, want id-RSASSA-PSS", info.Algorithm.OID)
	}
	pk, err := x509.ParsePKCS1PublicKey(info.PublicKey.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return pk
}

// mapLedger is a minimal domain.SpentLedger for this package's tests (crypto
// does not import adapters; the adapters run the real conformance suite).
type mapLedger struct {
	mu   sync.Mutex
	seen map[string]bool
}

func newMapLedger() *mapLedger { return &mapLedger{seen: make(map[string]bool)} }

func (l *mapLedger) MarkSpent(ctx context.Context, partition string, nonce []byte) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if err := domain.CheckLedgerArgs(partition, nonce); err != nil {
		return false, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	k := partition + "/" + string(nonce)
	spent := l.seen[k]
	l.seen[k] = true
	return spent, nil
}

func (l *mapLedger) DropPartition(ctx context.Context, partition string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k := range l.seen {
		if strings.HasPrefix(k, partition+"/") {
			delete(l.seen, k)
		}
	}
	return nil
}

func (l *mapLedger) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.seen)
}

func sprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }

// mintToken issues one encoded token of key k for challenge, in process.
func mintToken(t testing.TB, k *IssuerKey, challenge []byte) []byte {
	t.Helper()
	c, err := NewClient(k.Type(), k.TokenKey())
	if err != nil {
		t.Fatal(err)
	}
	req, p, err := c.Request(challenge)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := NewIssuer(k).Issue(req)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.Finalize(p, resp)
	if err != nil {
		t.Fatal(err)
	}
	b, err := tok.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
