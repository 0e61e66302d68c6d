// Package privacypass implements Privacy Pass token issuance and redemption:
// the HTTP authentication scheme of RFC 9577, the issuance protocols of
// RFC 9578 and the batched issuance of draft-ietf-privacypass-batched-tokens,
// on github.com/cloudflare/circl.
//
//   - Type 0x0002, blind RSA (2048-bit), RSABSSA-SHA384-PSS-Deterministic
//     (RFC 9474): publicly verifiable, anyone with the issuer's public key can
//     verify a token.
//   - Type 0x0001, VOPRF(P-384, SHA-384) (RFC 9497): privately verifiable, only
//     the holder of the issuer's private key can verify a token.
//   - Type 0x0005, VOPRF(ristretto255, SHA-512)
//     (draft-ietf-privacypass-batched-tokens): privately verifiable like type
//     0x0001, with the RFC 9578 section 5 structures (Ne = Ns = 32, Nk = 64),
//     and much cheaper to issue and verify.
//
// The roles of RFC 9576: a Client blinds token inputs (Client.Request,
// Client.BatchRequest) and finalizes the Issuer's answer (Issuer.Respond,
// Issuer.Issue, Issuer.IssueBatch, Issuer.IssueArbitraryBatch) into Tokens; an
// Origin verifies a Token and spends its nonce in a domain.SpentLedger
// (Origin.Redeem). Challenges and tokens travel in WWW-Authenticate and
// Authorization headers (FormatWWWAuthenticate, ParseWWWAuthenticate,
// FormatAuthorization, ParseAuthorization); issuer keys are published in the
// issuer directory (Directory); an IssuerKey is stored in the form of
// IssuerKey.MarshalPrivate and read back by ParseIssuerKey (the directory of
// key files is kept by the adapter adapters/issuerkeys). A Pool is the client's
// domain.TokenSource: it fetches batches and hands out one token per request.
//
// Batched issuance uses the two formats of draft-ietf-privacypass-batched-tokens
// (see docs/tokens.md): the privately verifiable batch (BatchTokenRequest,
// BatchTokenResponse; types 0x0001 and 0x0005, one key, one DLEQ proof for the
// whole batch) and the arbitrary batch (ArbitraryBatchTokenRequest,
// ArbitraryBatchTokenResponse; any type, used here for type 0x0002).
// BatchMediaTypes names the format of a type. An issuer takes at most MaxBatch
// tokens per request and issues all of a batch or none.
//
// Issuers, origins and clients are safe for concurrent use and run in
// parallel: each VOPRF evaluation, proof verification and token verification
// works on a copy of the key of its own, since circl's VOPRF key and client
// state are not safe to share.
//
// Every decoder checks exact lengths and rejects trailing bytes; errors wrap
// ErrMalformed, ErrUnsupportedType, ErrUnknownKey, ErrVerify, ErrKeyExpired,
// ErrNotIssued or ErrUnsupportedMedia, and tokens refused by an Origin also
// wrap domain.ErrTokenInvalid.
package privacypass
