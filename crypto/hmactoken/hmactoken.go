// Package hmactoken is the original Aegis token scheme, done right: for a
// single user or a trusted setup where the issuer and the verifier are the
// same party and unlinkability is not needed (the issuer can recognise every
// token it made). Use Privacy Pass (crypto/privacypass) everywhere else.
//
// A token is nonce || tag: a 32-byte random nonce and its HMAC-SHA256 under
// the issuer key. Verify compares tags in constant time and then spends the
// nonce in a domain.SpentLedger, so a token is accepted at most once. The
// ledger is keyed on the nonce, never on the tag, and partitioned by a key id
// derived from the key.
package hmactoken

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/ai-pantheon/aegis/crypto/secret"
	"github.com/ai-pantheon/aegis/domain"
)

// Sizes.
const (
	NonceSize = 32
	TagSize   = sha256.Size
	TokenSize = NonceSize + TagSize
	// MinKeySize is the shortest key New accepts.
	MinKeySize = 32
	// MaxBatch is the most tokens IssueBatch makes at once.
	MaxBatch = 1 << 16
)

// ErrInvalid is wrapped (with domain.ErrTokenInvalid) by every refusal of a
// token that is not one of ours: wrong length or a tag that does not verify.
var ErrInvalid = errors.New("aegis/hmactoken: token authentication failed")

var (
	_          domain.Redeemer = (*Issuer)(nil)
	errInvalid                 = errors.Join(domain.ErrTokenInvalid, ErrInvalid)
)

// keyIDLabel separates the key id computation from token tags (which cover
// exactly NonceSize bytes).
const keyIDLabel = "aegis/hmactoken key id v1"

// Issuer issues and verifies HMAC tokens. It is safe for concurrent use.
type Issuer struct {
	key       *secret.Key
	partition string
	ledger    domain.SpentLedger
	issued    atomic.Uint64
	spent     atomic.Uint64
	rand      io.Reader
}

// New returns an issuer with key (at least MinKeySize bytes) that spends
// tokens in ledger.
func New(key *secret.Key, ledger domain.SpentLedger) (*Issuer, error) {
	if key == nil || len(key.Bytes()) < MinKeySize {
		return nil, fmt.Errorf("aegis/hmactoken: key shorter than %d bytes: %w", MinKeySize, domain.ErrInvalidInput)
	}
	if ledger == nil {
		return nil, fmt.Errorf("aegis/hmactoken: no spent-token ledger: %w", domain.ErrInvalidInput)
	}
	m := hmac.New(sha256.New, key.Bytes())
	m.Write([]byte(keyIDLabel))
	id := m.Sum(nil)
	return &Issuer{key: key, partition: hex.EncodeToString(id[:16]), ledger: ledger, rand: rand.Reader}, nil
}

// Partition returns the issuer's SpentLedger partition: a key id derived from
// the key (it reveals nothing about the key).
func (is *Issuer) Partition() string { return is.partition }

func (is *Issuer) tag(nonce []byte) []byte {
	m := hmac.New(sha256.New, is.key.Bytes())
	m.Write(nonce)
	return m.Sum(nil)
}

// Issue returns one new token.
func (is *Issuer) Issue() ([]byte, error) {
	toks, err := is.IssueBatch(1)
	if err != nil {
		return nil, err
	}
	return toks[0], nil
}

// IssueBatch returns n new tokens (1 to MaxBatch).
func (is *Issuer) IssueBatch(n int) ([][]byte, error) {
	if n < 1 || n > MaxBatch {
		return nil, fmt.Errorf("aegis/hmactoken: batch of %d tokens, want 1 to %d: %w", n, MaxBatch, domain.ErrInvalidInput)
	}
	buf := make([]byte, n*TokenSize)
	toks := make([][]byte, n)
	for i := range n {
		tok := buf[i*TokenSize : (i+1)*TokenSize : (i+1)*TokenSize]
		if _, err := io.ReadFull(is.rand, tok[:NonceSize]); err != nil {
			return nil, fmt.Errorf("aegis/hmactoken: nonce: %w", err)
		}
		copy(tok[NonceSize:], is.tag(tok[:NonceSize]))
		toks[i] = tok
	}
	is.issued.Add(uint64(n))
	return toks, nil
}

// Issued returns how many tokens this Issuer made.
func (is *Issuer) Issued() uint64 { return is.issued.Load() }

// Check reports whether token is authentic, without spending it.
func (is *Issuer) Check(token []byte) error {
	if len(token) != TokenSize {
		return fmt.Errorf("token of %d bytes, want %d: %w", len(token), TokenSize, errInvalid)
	}
	if !hmac.Equal(is.tag(token[:NonceSize]), token[NonceSize:]) {
		return errInvalid
	}
	return nil
}

// Verify checks token and spends it: nil for an authentic, unspent token; an
// error wrapping domain.ErrTokenInvalid (and ErrInvalid) for a forged or
// malformed token, which spends nothing; domain.ErrTokenSpent for a replay.
func (is *Issuer) Verify(ctx context.Context, token []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := is.Check(token); err != nil {
		return fmt.Errorf("aegis/hmactoken: verify: %w", err)
	}
	spent, err := is.ledger.MarkSpent(ctx, is.partition, token[:NonceSize])
	if err != nil {
		return fmt.Errorf("aegis/hmactoken: verify: %w", err)
	}
	if spent {
		return fmt.Errorf("aegis/hmactoken: verify: %w", domain.ErrTokenSpent)
	}
	is.spent.Add(1)
	return nil
}

// Redeem is Verify: it makes the Issuer a domain.Redeemer.
func (is *Issuer) Redeem(ctx context.Context, token []byte) error { return is.Verify(ctx, token) }

// Token issues one token: it makes the Issuer a domain.TokenSource, for a client
// that is its own issuer (the Cloak on a local store).
func (is *Issuer) Token(ctx context.Context) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return is.Issue()
}

// Tokens issues n tokens at once (the Cloak's Authorize stage asks for a batch).
func (is *Issuer) Tokens(ctx context.Context, n int) ([][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return is.IssueBatch(n)
}

// Spent returns how many tokens this Issuer accepted (redeemed once).
func (is *Issuer) Spent() uint64 { return is.spent.Load() }

var _ domain.TokenSource = (*Issuer)(nil)
