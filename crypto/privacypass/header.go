package privacypass

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// Scheme is the HTTP authentication scheme of RFC 9577.
const Scheme = "PrivateToken"

// Challenge is one PrivateToken challenge of a WWW-Authenticate header.
type Challenge struct {
	// TokenChallenge is the encoded TokenChallenge ("challenge"; required).
	TokenChallenge []byte
	// TokenKey is the issuer key in its token-key encoding ("token-key";
	// optional, nil when absent).
	TokenKey []byte
	// MaxAge is the "max-age" attribute in seconds, or -1 when absent.
	MaxAge int
}

// FormatWWWAuthenticate returns the value of a WWW-Authenticate header holding
// the challenges, with base64url values (padded) in quoted strings:
//
//	PrivateToken challenge="…", token-key="…", max-age="10", PrivateToken …
func FormatWWWAuthenticate(challenges ...Challenge) string {
	var b strings.Builder
	for i, c := range challenges {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(Scheme + ` challenge="`)
		b.WriteString(base64.URLEncoding.EncodeToString(c.TokenChallenge))
		b.WriteByte('"')
		if c.TokenKey != nil {
			b.WriteString(`, token-key="`)
			b.WriteString(base64.URLEncoding.EncodeToString(c.TokenKey))
			b.WriteByte('"')
		}
		if c.MaxAge >= 0 {
			b.WriteString(`, max-age="`)
			b.WriteString(strconv.Itoa(c.MaxAge))
			b.WriteByte('"')
		}
	}
	return b.String()
}

// ParseWWWAuthenticate parses a WWW-Authenticate header value (RFC 9110
// section 11.6.1) and returns its PrivateToken challenges, in order. Challenges
// of other schemes and unknown attributes are skipped. The scheme and attribute
// names are case-insensitive; every value may be quoted or not, and the
// base64url ones ("challenge", "token-key") padded or not (see
// ParseAuthorization for the unquoted padded form). A PrivateToken challenge
// without "challenge", with a duplicated attribute, a value that is not
// base64url (the standard alphabet's '+' and '/' included), a TokenChallenge
// that does not decode, or a bad max-age is an error, as is any syntax error in
// the header.
func ParseWWWAuthenticate(header string) ([]Challenge, error) {
	items, err := parseAuthHeader(header)
	if err != nil {
		return nil, err
	}
	var out []Challenge
	for _, it := range items {
		if !strings.EqualFold(it.scheme, Scheme) {
			continue
		}
		if it.token68 != "" {
			return nil, malformed("WWW-Authenticate: PrivateToken takes attributes, not a token68")
		}
		c := Challenge{MaxAge: -1}
		raw, ok := it.params["challenge"]
		if !ok {
			return nil, malformed("WWW-Authenticate: PrivateToken challenge without a challenge attribute")
		}
		if c.TokenChallenge, err = decodeBase64URL("challenge", raw); err != nil {
			return nil, err
		}
		if _, err := ParseTokenChallenge(c.TokenChallenge); err != nil {
			return nil, fmt.Errorf("WWW-Authenticate: %w", err)
		}
		if raw, ok := it.params["token-key"]; ok {
			if c.TokenKey, err = decodeBase64URL("token-key", raw); err != nil {
				return nil, err
			}
		}
		if raw, ok := it.params["max-age"]; ok {
			n, err := strconv.ParseUint(raw, 10, 31)
			if err != nil || raw == "" || raw[0] == '+' {
				return nil, malformed("WWW-Authenticate: max-age %q is not a number of seconds", raw)
			}
			c.MaxAge = int(n)
		}
		out = append(out, c)
	}
	return out, nil
}

// FormatAuthorization returns the value of an Authorization header presenting
// an encoded token: PrivateToken token="…".
func FormatAuthorization(token []byte) string {
	return Scheme + ` token="` + base64.URLEncoding.EncodeToString(token) + `"`
}

// ParseAuthorization parses an Authorization header value with the
// PrivateToken scheme and returns the encoded token (not yet decoded or
// verified). Unknown attributes are ignored. The token may be quoted or not,
// base64url with or without padding:
//
//	PrivateToken token="AAIA…LQ=="    (FormatAuthorization)
//	PrivateToken token=AAIA…LQ==      (privacypass-ts and others)
//	PrivateToken token="AAIA…LQ"
//	PrivateToken token=AAIA…LQ
//
// The second form is outside RFC 9110's auth-param grammar ('=' is not a
// token character, so a padded value needs quotes) but is what clients send;
// '=' is accepted at the end of an unquoted value only.
func ParseAuthorization(header string) ([]byte, error) {
	items, err := parseAuthHeader(header)
	if err != nil {
		return nil, err
	}
	if len(items) != 1 || !strings.EqualFold(items[0].scheme, Scheme) {
		return nil, malformed("Authorization: want exactly one PrivateToken credential")
	}
	raw, ok := items[0].params["token"]
	if !ok {
		return nil, malformed("Authorization: PrivateToken without a token attribute")
	}
	return decodeBase64URL("token", raw)
}

// decodeBase64URL decodes base64url (RFC 4648 section 5) with or without
// padding; the standard alphabet's '+' and '/' are refused.
func decodeBase64URL(name, s string) ([]byte, error) {
	if s == "" {
		return nil, malformed("%s: empty value", name)
	}
	if strings.ContainsAny(s, "+/") {
		return nil, malformed("%s: standard base64 ('+' or '/'), want base64url", name)
	}
	enc := base64.URLEncoding
	if !strings.HasSuffix(s, "=") && len(s)%4 != 0 {
		enc = base64.RawURLEncoding
	}
	b, err := enc.Strict().DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil, malformed("%s: not base64url (bad character, length, padding or trailing bits)", name)
	}
	return b, nil
}

// authItem is one challenge or credential: a scheme with either a token68 or
// auth-params (names lowercased).
type authItem struct {
	scheme  string
	token68 string
	params  map[string]string
}

// parseAuthHeader parses
//
//	1#( auth-scheme [ 1*SP ( token68 / #auth-param ) ] )
//	auth-param = token BWS "=" BWS ( token *"=" / quoted-string )
//
// that is RFC 9110's grammar with one extension: an unquoted value may end in
// '=' (base64url padding, which clients send unquoted). Otherwise strictly: an
// unterminated or badly escaped quoted-string, a stray character, a duplicated
// parameter or an empty header is an error.
func parseAuthHeader(h string) ([]authItem, error) {
	p := &authParser{s: h}
	var items []authItem
	for {
		p.skipListSeparators()
		if p.done() {
			break
		}
		name := p.token()
		if name == "" {
			return nil, malformed("auth header: expected a scheme at offset %d", p.i)
		}
		// name is a scheme unless followed by "=": then it continues the
		// previous item's parameters.
		save := p.i
		p.skipOWS()
		if p.peek() == '=' && len(items) > 0 && items[len(items)-1].token68 == "" {
			p.i++
			if err := p.param(&items[len(items)-1], name); err != nil {
				return nil, err
			}
			continue
		}
		p.i = save
		it := authItem{scheme: name, params: make(map[string]string)}
		sawSpace := p.skipOWS()
		if !p.done() && p.peek() != ',' {
			if !sawSpace {
				return nil, malformed("auth header: unexpected %q at offset %d", p.peek(), p.i)
			}
			// token68, or the first auth-param.
			start := p.i
			t := p.token68()
			p.skipOWS()
			if t != "" && (p.done() || p.peek() == ',') && (strings.HasSuffix(t, "=") || !strings.ContainsRune(t, '=')) {
				it.token68 = t
			} else {
				p.i = start
				pname := p.token()
				if pname == "" {
					return nil, malformed("auth header: unexpected %q at offset %d", p.peek(), p.i)
				}
				p.skipOWS()
				if p.peek() != '=' {
					return nil, malformed("auth header: expected '=' after %q at offset %d", pname, p.i)
				}
				p.i++
				if err := p.param(&it, pname); err != nil {
					return nil, err
				}
			}
		}
		items = append(items, it)
	}
	if len(items) == 0 {
		return nil, malformed("auth header: empty")
	}
	return items, nil
}

type authParser struct {
	s string
	i int
}

func (p *authParser) done() bool { return p.i >= len(p.s) }

func (p *authParser) peek() byte {
	if p.done() {
		return 0
	}
	return p.s[p.i]
}

func (p *authParser) skipOWS() bool {
	start := p.i
	for !p.done() && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
	return p.i > start
}

func (p *authParser) skipListSeparators() {
	for !p.done() && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == ',') {
		p.i++
	}
}

func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func (p *authParser) token() string {
	start := p.i
	for !p.done() && isTchar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
func (p *authParser) token68() string {
	start := p.i
	for !p.done() {
		c := p.s[p.i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~+/", c) >= 0 {
			p.i++
			continue
		}
		break
	}
	if p.i == start {
		return ""
	}
	for !p.done() && p.s[p.i] == '=' {
		p.i++
	}
	// A token68 ends here; anything else means it was not one.
	return p.s[start:p.i]
}

// param reads BWS ( token *"=" / quoted-string ) after "=" and stores it in
// it.
func (p *authParser) param(it *authItem, name string) error {
	name = strings.ToLower(name)
	p.skipOWS()
	var v string
	if p.peek() == '"' {
		s, err := p.quoted()
		if err != nil {
			return err
		}
		v = s
	} else {
		start := p.i
		if p.token() == "" {
			return malformed("auth header: parameter %q has no value", name)
		}
		// Base64url padding, unquoted as clients send it.
		for !p.done() && p.s[p.i] == '=' {
			p.i++
		}
		v = p.s[start:p.i]
	}
	if _, dup := it.params[name]; dup {
		return malformed("auth header: parameter %q repeated", name)
	}
	it.params[name] = v
	p.skipOWS()
	if !p.done() && p.peek() == '/' {
		return malformed("auth header: '/' in the value of parameter %q: standard base64, want base64url", name)
	}
	if !p.done() && p.peek() != ',' {
		return malformed("auth header: unexpected %q after parameter %q", p.peek(), name)
	}
	return nil
}

// quoted reads a quoted-string (RFC 9110 section 5.6.4).
func (p *authParser) quoted() (string, error) {
	p.i++ // opening quote
	var b strings.Builder
	for !p.done() {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return b.String(), nil
		case c == '\\':
			p.i++
			if p.done() {
				return "", malformed("auth header: unterminated quoted-string")
			}
			q := p.s[p.i]
			if q != '\t' && (q < 0x20 || q == 0x7f) {
				return "", malformed("auth header: bad quoted-pair")
			}
			b.WriteByte(q)
		case c == '\t' || c == ' ' || c >= 0x21 && c != 0x7f:
			b.WriteByte(c)
		default:
			return "", malformed("auth header: control character in quoted-string")
		}
		p.i++
	}
	return "", malformed("auth header: unterminated quoted-string")
}
