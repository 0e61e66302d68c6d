package privacypass

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// DirectoryPath is the well-known location of the issuer directory (RFC 9578
// section 4); its media type is DirectoryMediaType. RequestMediaType and
// ResponseMediaType are those of one RFC 9578 TokenRequest and TokenResponse.
// The batched media types are those of draft-ietf-privacypass-batched-tokens:
// BatchRequestMediaType and BatchResponseMediaType for a privately verifiable
// batch (BatchTokenRequest, types 0x0001 and 0x0005),
// ArbitraryBatchRequestMediaType and ArbitraryBatchResponseMediaType for an
// arbitrary batch (ArbitraryBatchTokenRequest, any type; type 0x0002 here).
const (
	DirectoryPath                   = "/.well-known/private-token-issuer-directory"
	DirectoryMediaType              = "application/private-token-issuer-directory"
	RequestMediaType                = "application/private-token-request"
	ResponseMediaType               = "application/private-token-response"
	BatchRequestMediaType           = "application/private-token-privately-verifiable-batch-request"
	BatchResponseMediaType          = "application/private-token-privately-verifiable-batch-response"
	ArbitraryBatchRequestMediaType  = "application/private-token-arbitrary-batch-request"
	ArbitraryBatchResponseMediaType = "application/private-token-arbitrary-batch-response"
)

// Directory is the issuer directory of RFC 9578 section 4.
type Directory struct {
	IssuerRequestURI string         `json:"issuer-request-uri"`
	TokenKeys        []DirectoryKey `json:"token-keys"`
}

// DirectoryKey is one "token-keys" entry. Keys are listed in order of
// preference.
type DirectoryKey struct {
	TokenType TokenType
	TokenKey  []byte    // the token-key encoding (base64url with padding in JSON)
	NotBefore time.Time // zero when absent ("not-before", Unix seconds)
}

type directoryKeyJSON struct {
	TokenType *uint16 `json:"token-type"`
	TokenKey  *string `json:"token-key"`
	NotBefore *int64  `json:"not-before,omitempty"`
}

// MarshalJSON encodes the entry.
func (k DirectoryKey) MarshalJSON() ([]byte, error) {
	t := uint16(k.TokenType)
	key := base64.URLEncoding.EncodeToString(k.TokenKey)
	j := directoryKeyJSON{TokenType: &t, TokenKey: &key}
	if !k.NotBefore.IsZero() {
		nb := k.NotBefore.Unix()
		j.NotBefore = &nb
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes an entry: token-type and token-key are required,
// token-key must be base64url (padding optional), not-before a non-negative
// integer.
func (k *DirectoryKey) UnmarshalJSON(b []byte) error {
	var j directoryKeyJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return malformed("directory: token-keys entry: %v", err)
	}
	if j.TokenType == nil || j.TokenKey == nil {
		return malformed("directory: token-keys entry without token-type or token-key")
	}
	key, err := decodeBase64URL("directory token-key", *j.TokenKey)
	if err != nil {
		return err
	}
	*k = DirectoryKey{TokenType: TokenType(*j.TokenType), TokenKey: key}
	if j.NotBefore != nil {
		if *j.NotBefore < 0 {
			return malformed("directory: negative not-before")
		}
		k.NotBefore = time.Unix(*j.NotBefore, 0).UTC()
	}
	return nil
}

// maxDirectorySize bounds the directory a client reads.
const maxDirectorySize = 1 << 20

// ParseDirectory decodes an issuer directory: one JSON object with
// issuer-request-uri (a non-empty string) and token-keys (a list). Unknown
// members are ignored, as JSON extensibility expects; keys of unknown token
// types are kept (callers pick the types they support).
func ParseDirectory(b []byte) (*Directory, error) {
	if len(b) > maxDirectorySize {
		return nil, malformed("directory: %d bytes", len(b))
	}
	var d struct {
		IssuerRequestURI *string         `json:"issuer-request-uri"`
		TokenKeys        *[]DirectoryKey `json:"token-keys"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&d); err != nil {
		return nil, malformed("directory: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed("directory: trailing data")
	}
	if d.IssuerRequestURI == nil || *d.IssuerRequestURI == "" || d.TokenKeys == nil {
		return nil, malformed("directory: issuer-request-uri and token-keys are required")
	}
	return &Directory{IssuerRequestURI: *d.IssuerRequestURI, TokenKeys: *d.TokenKeys}, nil
}

// Key returns the most preferred key of type t that is in force at now (its
// not-before is not after now).
func (d *Directory) Key(t TokenType, now time.Time) (DirectoryKey, error) {
	for _, k := range d.TokenKeys {
		if k.TokenType == t && !k.NotBefore.After(now) {
			return k, nil
		}
	}
	return DirectoryKey{}, fmt.Errorf("%w: directory has no %v key in force", ErrUnknownKey, t)
}
