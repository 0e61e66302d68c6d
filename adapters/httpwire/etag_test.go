package httpwire

import (
	"testing"

	"github.com/ai-pantheon/aegis/domain"
)

func TestETagRoundTrip(t *testing.T) {
	for _, v := range []domain.Version{"1", "abc", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"} {
		tag, ok := FormatETag(v)
		if !ok {
			t.Fatalf("FormatETag(%q) refused", v)
		}
		back, ok := ParseETag(" " + tag + " ")
		if !ok || back != v {
			t.Fatalf("ParseETag(%q) = %q, %v", tag, back, ok)
		}
	}
}

func TestETagRefusals(t *testing.T) {
	for _, v := range []domain.Version{"", `a"b`, "a b", "é"} {
		if _, ok := FormatETag(v); ok {
			t.Errorf("FormatETag(%q) accepted", v)
		}
	}
	for _, s := range []string{"", `""`, "*", `W/"abc"`, `"a", "b"`, `abc`, `"a b"`} {
		if _, ok := ParseETag(s); ok {
			t.Errorf("ParseETag(%q) accepted", s)
		}
	}
}

func FuzzParseETag(f *testing.F) {
	f.Add(`"abc"`)
	f.Add(`W/"x"`)
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := ParseETag(s)
		if !ok {
			return
		}
		tag, ok := FormatETag(v)
		if !ok {
			t.Fatalf("parsed %q from %q but cannot format it", v, s)
		}
		if back, _ := ParseETag(tag); back != v {
			t.Fatalf("round trip of %q gave %q", v, back)
		}
	})
}
