package bhttp

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
)

// isTchar reports whether c may appear in a token (RFC 9110 section 5.6.2).
func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// clip quotes s for an error message, cut to 40 bytes.
func clip[S ~string | ~[]byte](s S) string {
	const keep = 40
	if len(s) > keep {
		return fmt.Sprintf("%q... (%d bytes)", s[:keep], len(s))
	}
	return fmt.Sprintf("%q", s)
}

// checkToken checks that s is a non-empty token; what names it in errors.
func checkToken[S ~string | ~[]byte](s S, what string) error {
	if len(s) == 0 {
		return fmt.Errorf("empty %s", what)
	}
	for i := 0; i < len(s); i++ {
		if !isTchar(s[i]) {
			return fmt.Errorf("%s %s is not a token: byte %d is 0x%02x", what, clip(s), i, s[i])
		}
	}
	return nil
}

// checkName checks a field name as it is on the wire: a non-empty token in
// lowercase, not a pseudo-header field.
func checkName[S ~string | ~[]byte](name S) error {
	if len(name) > 0 && name[0] == ':' {
		return fmt.Errorf("pseudo-header field %s is not allowed", clip(name))
	}
	if err := checkToken(name, "field name"); err != nil {
		return err
	}
	for i := 0; i < len(name); i++ {
		if 'A' <= name[i] && name[i] <= 'Z' {
			return fmt.Errorf("field name %s is not lowercase", clip(name))
		}
	}
	return nil
}

// checkValue checks a field value: no control character but HTAB (so no NUL,
// CR or LF), no DEL, and no SP or HTAB at either end (RFC 9110 section 5.5,
// RFC 9113 section 8.2.1). Bytes 0x80-0xFF (obs-text) are allowed.
func checkValue[S ~string | ~[]byte](v S) error {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return fmt.Errorf("field value %s has control character 0x%02x at byte %d", clip(v), c, i)
		}
	}
	if n := len(v); n > 0 && (v[0] == ' ' || v[0] == '\t' || v[n-1] == ' ' || v[n-1] == '\t') {
		return fmt.Errorf("field value %s starts or ends with whitespace", clip(v))
	}
	return nil
}

// encodeSection encodes the field lines of h (without the section length):
// names lowercased and sorted, the values of each name in their order. kind
// ("header" or "trailer") names the section in errors.
func encodeSection(h http.Header, kind string) ([]byte, error) {
	type entry struct{ key, name string }
	entries := make([]entry, 0, len(h))
	for k := range h {
		lower := []byte(k)
		for i, c := range lower {
			if 'A' <= c && c <= 'Z' {
				lower[i] = c + ('a' - 'A')
			}
		}
		if err := checkName(lower); err != nil {
			return nil, malformed("%s: %v", kind, err)
		}
		entries = append(entries, entry{k, string(lower)})
	}
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].name != entries[j].name {
			return entries[i].name < entries[j].name
		}
		return entries[i].key < entries[j].key
	})
	var b []byte
	for _, e := range entries {
		for _, v := range h[e.key] {
			if err := checkValue(v); err != nil {
				return nil, malformed("%s field %s: %v", kind, e.name, err)
			}
			b = appendVarint(b, uint64(len(e.name)))
			b = append(b, e.name...)
			b = appendVarint(b, uint64(len(v)))
			b = append(b, v...)
			if len(b) > MaxFieldSectionSize {
				return nil, malformed("%s section is more than the limit of %d bytes", kind, MaxFieldSectionSize)
			}
		}
	}
	return b, nil
}

// checkRequestControl checks the control data of a request: method a token,
// scheme per RFC 3986 section 3.1, authority empty or RFC 3986 host[:port]
// characters without userinfo, path starting with '/' in visible ASCII other
// than '#', or "*" for OPTIONS. Each is at most MaxControlDataLength bytes.
func checkRequestControl(method, scheme, authority, path string) error {
	for _, p := range [...]struct{ what, v string }{{"method", method}, {"scheme", scheme}, {"authority", authority}, {"path", path}} {
		if len(p.v) > MaxControlDataLength {
			return fmt.Errorf("%s is %d bytes long, more than the limit of %d", p.what, len(p.v), MaxControlDataLength)
		}
	}
	if err := checkToken(method, "method"); err != nil {
		return err
	}
	if err := checkScheme(scheme); err != nil {
		return err
	}
	if err := checkAuthority(authority); err != nil {
		return err
	}
	return checkPath(method, path)
}

func checkScheme(s string) error {
	if s == "" {
		return errors.New("empty scheme")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alpha := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if i == 0 && !alpha || i > 0 && !alpha && !('0' <= c && c <= '9') && c != '+' && c != '-' && c != '.' {
			return fmt.Errorf("scheme %s is not an RFC 3986 scheme: byte %d is 0x%02x", clip(s), i, c)
		}
	}
	return nil
}

func checkAuthority(a string) error {
	for i := 0; i < len(a); i++ {
		c := a[i]
		if c == '@' {
			return fmt.Errorf("authority %s has userinfo", clip(a))
		}
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		switch c {
		case '-', '.', '_', '~', '%', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', ':', '[', ']':
			ok = true
		}
		if !ok {
			return fmt.Errorf("authority %s has byte 0x%02x at %d, not allowed in host[:port]", clip(a), c, i)
		}
	}
	return nil
}

func checkPath(method, p string) error {
	if p == "*" {
		if method != http.MethodOptions {
			return fmt.Errorf("path \"*\" is only for OPTIONS, not %s", clip(method))
		}
		return nil
	}
	if p == "" || p[0] != '/' {
		return fmt.Errorf("path %s does not start with '/'", clip(p))
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= 0x20 || c >= 0x7f || c == '#' {
			return fmt.Errorf("path %s has byte 0x%02x at %d (only visible ASCII other than '#' is allowed)", clip(p), c, i)
		}
	}
	return nil
}
