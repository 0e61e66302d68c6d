package httpwire

import (
	"encoding/base64"

	"github.com/ai-pantheon/aegis/domain"
)

// WriteEnablerHeader carries the write-enabler of every PUT and DELETE of an
// object: the unpadded base64url encoding of its 32 bytes (43 characters).
const WriteEnablerHeader = "Aegis-Write-Enabler"

// Error codes of aegisd's JSON error body that mean the server did nothing
// with the request (it was refused before its token was looked at, or before
// the handler ran). They are the only answers after which a client may resend
// a request that is not idempotent (a compare-and-swap, a delete).
const (
	CodeBusy        = "busy"
	CodeUnavailable = "unavailable"
)

// CodeGatewayUnreachable is aegis-relay's error code (502) when aegisd's
// gateway could not be reached or did not answer in time; a client names the
// relay's side of the path in its message.
const CodeGatewayUnreachable = "gateway_unreachable"

var enablerEncoding = base64.RawURLEncoding.Strict()

// FormatWriteEnabler returns the header value of e.
func FormatWriteEnabler(e domain.WriteEnabler) string {
	return enablerEncoding.EncodeToString(e[:])
}

// ParseWriteEnabler decodes a header value: exactly 43 characters of unpadded
// base64url, in canonical form (no padding, no white space, unused bits zero).
func ParseWriteEnabler(s string) (domain.WriteEnabler, bool) {
	var e domain.WriteEnabler
	if len(s) != enablerEncoding.EncodedLen(len(e)) {
		return e, false
	}
	n, err := enablerEncoding.Decode(e[:], []byte(s))
	if err != nil || n != len(e) {
		return domain.WriteEnabler{}, false
	}
	return e, true
}
