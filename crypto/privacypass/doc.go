// Package privacypass implements Privacy Pass token issuance and redemption:
// the HTTP authentication scheme of RFC 9577 and the issuance protocols of
// RFC 9578, on github.com/cloudflare/circl.
//
//   - Type 0x0002, blind RSA (2048-bit), RSABSSA-SHA384-PSS-Deterministic
//     (RFC 9474): publicly verifiable, anyone with the issuer's public key can
//     verify a token.
//   - Type 0x0001, VOPRF(P-384, SHA-384) (RFC 9497): privately verifiable, only
//     the holder of the issuer's private key can verify a token.
//
// The roles of RFC 9576: a Client blinds token inputs (Client.Request,
// Client.BatchRequest) and finalizes the Issuer's answer (Issuer.Issue,
// Issuer.IssueBatch) into Tokens; an Origin verifies a Token and spends its
// nonce in a domain.SpentLedger (Origin.Redeem). Challenges and tokens travel
// in WWW-Authenticate and Authorization headers (FormatWWWAuthenticate,
// ParseWWWAuthenticate, FormatAuthorization, ParseAuthorization); issuer keys
// are published in the issuer directory (Directory) and kept by a KeyStore. A
// Pool is the client's domain.TokenSource: it fetches blinded batches and hands
// out one token per request.
//
// Batched issuance uses this package's own framing, the single-token
// structures concatenated behind a count (BatchTokenRequest; see
// docs/tokens.md). For type 0x0001 the response carries one batched DLEQ proof
// for all elements.
//
// Every decoder checks exact lengths and rejects trailing bytes; errors wrap
// ErrMalformed, ErrUnsupportedType, ErrUnknownKey or ErrVerify, and tokens
// refused by an Origin also wrap domain.ErrTokenInvalid.
package privacypass
