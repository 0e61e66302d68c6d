// Package httpwire holds what the aegisd HTTP API and its client (httpblob)
// must agree on byte for byte: the encoding of store versions as entity tags,
// the write-enabler header and the error codes that mean "nothing was done".
package httpwire

import (
	"strings"

	"github.com/ai-pantheon/aegis/domain"
)

// FormatETag returns the strong entity tag of a store version, or false when the
// version is empty or has characters an entity tag cannot hold.
func FormatETag(v domain.Version) (string, bool) {
	if v == "" {
		return "", false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x21 || c == '"' || c > 0x7e {
			return "", false
		}
	}
	return `"` + string(v) + `"`, true
}

// ParseETag returns the version in a strong entity tag ("…"); weak tags, lists
// and "*" are refused.
func ParseETag(s string) (domain.Version, bool) {
	s = strings.TrimSpace(s)
	if len(s) < 3 || s[0] != '"' || s[len(s)-1] != '"' {
		return "", false
	}
	v := domain.Version(s[1 : len(s)-1])
	if _, ok := FormatETag(v); !ok {
		return "", false
	}
	return v, true
}
