package openurl_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/ai-pantheon/aegis/adapters/openurl"
	"github.com/ai-pantheon/aegis/domain"
)

// FuzzOpenStore: a flag value is untrusted input. No value panics; a value the
// Mux accepts reaches the opener of its scheme split exactly at "://"; any
// other fails with ErrNotURL or ErrUnknownScheme (and ErrInvalidInput), names
// the known schemes and does not echo a password.
func FuzzOpenStore(f *testing.F) {
	for _, s := range []string{"file://aegisd-data/objects", "memory://", "s3://b/p?endpoint=h:1&tls=false", "ftp://u:secretpw@h/x?k=v",
		"FILE:///x", "aegisd-data", "://x", "a+b.c-d://", "x%zz://@?", "file:/x"} {
		f.Add(s)
	}
	var m openurl.Mux
	m.RegisterStore("file", fakeStoreOpener)
	m.RegisterStore("memory", fakeStoreOpener)
	f.Fuzz(func(t *testing.T, raw string) {
		st, err := m.OpenStore(context.Background(), raw, nil)
		if err != nil {
			if !errors.Is(err, domain.ErrInvalidInput) || !(errors.Is(err, openurl.ErrNotURL) || errors.Is(err, openurl.ErrUnknownScheme)) {
				t.Fatalf("OpenStore(%q) = %v", raw, err)
			}
			if !strings.Contains(err.Error(), "file:// or memory://") {
				t.Fatalf("OpenStore(%q) = %v: the known schemes are not named", raw, err)
			}
			if u, perr := url.Parse(raw); perr == nil && u.User != nil {
				// The password may also appear elsewhere in the URL: only more
				// occurrences than the redacted URL has count.
				if pw, ok := u.User.Password(); ok && len(pw) >= 8 && strings.Count(err.Error(), pw) > strings.Count(u.Redacted(), pw) {
					t.Fatalf("OpenStore(%q) echoes the password: %v", raw, err)
				}
			}
			return
		}
		u := st.(*fakeStore).u
		if u.Scheme != "file" && u.Scheme != "memory" {
			t.Fatalf("OpenStore(%q) reached an opener with scheme %q", raw, u.Scheme)
		}
		if u.Raw != raw || !strings.EqualFold(raw[:len(u.Scheme)], u.Scheme) || raw[len(u.Scheme):] != "://"+u.Rest {
			t.Fatalf("OpenStore(%q) split it as %+v", raw, u)
		}
	})
}
