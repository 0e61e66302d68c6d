package domain

import (
	"context"
	"errors"
	"fmt"
)

// Sentinel errors of the privacy-token ports. Callers match them with errors.Is.
var (
	// ErrTokenSpent means the token was already redeemed once: a replay.
	ErrTokenSpent = errors.New("token already spent")
	// ErrTokenInvalid means the token is malformed, of an unsupported type, made
	// with an unknown or retired key, or fails authentication. Nothing was spent.
	ErrTokenInvalid = errors.New("invalid token")
)

// TokenType is the two-octet Privacy Pass token type (RFC 9577 section 5.2),
// or a private-use value for schemes outside the registry.
type TokenType uint16

// Token types Aegis knows.
const (
	// TokenTypeVOPRF is Privacy Pass type 0x0001: VOPRF(P-384, SHA-384),
	// privately verifiable (RFC 9578 section 5).
	TokenTypeVOPRF TokenType = 0x0001
	// TokenTypeBlindRSA is Privacy Pass type 0x0002: blind RSA (2048-bit),
	// publicly verifiable (RFC 9578 section 6).
	TokenTypeBlindRSA TokenType = 0x0002
	// TokenTypeVOPRFRistretto255 is Privacy Pass type 0x0005: VOPRF(ristretto255,
	// SHA-512), privately verifiable, issued in batches with one proof per batch
	// (draft-ietf-privacypass-batched-tokens).
	TokenTypeVOPRFRistretto255 TokenType = 0x0005
	// TokenTypeHMAC is the single-user HMAC-SHA256 token of crypto/hmactoken,
	// from the private-use range (never sent to a third party).
	TokenTypeHMAC TokenType = 0xFF01
)

// String returns the type's name and number.
func (t TokenType) String() string {
	switch t {
	case TokenTypeVOPRF:
		return "VOPRF(P-384, SHA-384) (0x0001)"
	case TokenTypeBlindRSA:
		return "Blind RSA (2048-bit) (0x0002)"
	case TokenTypeVOPRFRistretto255:
		return "VOPRF(ristretto255, SHA-512) (0x0005)"
	case TokenTypeHMAC:
		return "HMAC-SHA256 (0xff01)"
	}
	return fmt.Sprintf("token type 0x%04x", uint16(t))
}

// Token is one single-use authorization token as the client holds it: the
// encoded token and its type. Bytes are opaque to the domain.
type Token struct {
	Type  TokenType
	Bytes []byte
}

// TokenSource hands out tokens on the client side. The Cloak's layer (its
// authorize stage) asks it for one token per request. Each call returns a token never returned
// before; when none is left and none can be fetched it returns an error.
// Implementations must be safe for concurrent use.
type TokenSource interface {
	Token(ctx context.Context) ([]byte, error)
}

// Redeemer verifies a token presented to an origin and spends it, atomically:
// a token is accepted at most once. Redeem returns nil for a valid, unspent
// token; an error wrapping ErrTokenInvalid for a token that does not verify
// (nothing is spent); an error wrapping ErrTokenSpent for a replay; any other
// error (a failing ledger) means the token was not accepted.
type Redeemer interface {
	Redeem(ctx context.Context, token []byte) error
}

// SpentLedger remembers which token nonces were spent. It is partitioned by
// issuer key (the partition is the key id in lowercase hex) so that the state
// of a retired key can be dropped as a whole. Implementations must be safe for
// concurrent use, and durable ones across processes.
type SpentLedger interface {
	// MarkSpent records nonce as spent in partition and reports whether it already
	// was, atomically: of any number of concurrent calls with the same partition
	// and nonce, exactly one returns false. When it returns (false, nil) the mark
	// is as durable as the ledger promises. The ledger does not retain nonce.
	MarkSpent(ctx context.Context, partition string, nonce []byte) (alreadySpent bool, err error)
	// DropPartition forgets every nonce of partition. Dropping an absent partition
	// is not an error.
	DropPartition(ctx context.Context, partition string) error
}

// Limits of SpentLedger arguments.
const (
	// MaxPartitionLen is the longest partition name: the hex form of a 64-byte id.
	MaxPartitionLen = 128
	// MaxNonceLen is the longest nonce a SpentLedger accepts.
	MaxNonceLen = 255
)

// CheckLedgerArgs validates SpentLedger arguments: a partition of 1 to
// MaxPartitionLen lowercase hex digits and a nonce of 1 to MaxNonceLen bytes.
// It returns an error wrapping ErrInvalidInput otherwise. Ledgers call it first.
func CheckLedgerArgs(partition string, nonce []byte) error {
	if err := CheckPartition(partition); err != nil {
		return err
	}
	if len(nonce) == 0 || len(nonce) > MaxNonceLen {
		return fmt.Errorf("aegis: spent ledger: nonce of %d bytes, want 1 to %d: %w", len(nonce), MaxNonceLen, ErrInvalidInput)
	}
	return nil
}

// CheckPartition validates a SpentLedger partition name (see CheckLedgerArgs).
// Valid names are safe to use as file names.
func CheckPartition(partition string) error {
	if len(partition) == 0 || len(partition) > MaxPartitionLen {
		return fmt.Errorf("aegis: spent ledger: partition of %d characters, want 1 to %d: %w", len(partition), MaxPartitionLen, ErrInvalidInput)
	}
	for i := 0; i < len(partition); i++ {
		c := partition[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return fmt.Errorf("aegis: spent ledger: partition %q is not lowercase hex: %w", partition, ErrInvalidInput)
		}
	}
	return nil
}

type tokenKey struct{}

// WithToken returns a context that carries token for the one request made with
// it. The Cloak's layer (its authorize stage) attaches a token to every request so; a store
// whose requests carry tokens (httpblob) sends it with the first attempt of the
// request, and takes fresh tokens from its own source only to resend.
func WithToken(ctx context.Context, token []byte) context.Context {
	return context.WithValue(ctx, tokenKey{}, token)
}

// TokenFrom returns the token WithToken attached to ctx, if any.
func TokenFrom(ctx context.Context) ([]byte, bool) {
	t, ok := ctx.Value(tokenKey{}).([]byte)
	return t, ok && len(t) > 0
}
