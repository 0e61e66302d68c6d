package legacy

import (
	"errors"
	"testing"

	"github.com/ai-pantheon/aegis/domain"
)

func TestCompactJSONTurnsPythonEscapesIntoUTF8(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"{\n  \"a\": [\n    1,\n    2.50\n  ],\n  \"b\": {}\n}", `{"a":[1,2.50],"b":{}}`},
		{`"\u00e9t\u00E9"`, `"été"`},
		{`{"\u039a": "\ud83d\udd10"}`, `{"Κ":"🔐"}`},
		{`"\ud83d"`, `"\ud83d"`},                                     // lone high surrogate: kept
		{`"\udd10\ud83d"`, `"\udd10\ud83d"`},                         // reversed pair: both kept
		{`"\ud83d\u0041"`, `"\ud83dA"`},                              // high surrogate, then a letter
		{`"\u0022\u005c\u001f\u0000"`, `"\u0022\u005c\u001f\u0000"`}, // escapes JSON needs
		{`"a\\u00e9"`, `"a\\u00e9"`},                                 // an escaped backslash, then text
		{`"\\\u00e9"`, `"\\é"`},                                      // an escaped backslash, then an escape
		{`"\n\t\"\/"`, `"\n\t\"\/"`},                                 // other escapes as written
		{`"\u007f\u2028"`, "\"\x7f\u2028\""},
		{`12345678901234567890`, `12345678901234567890`},
		{`-0.0`, `-0.0`},
	} {
		got, err := compactJSON([]byte(tc.in))
		if err != nil || string(got) != tc.want {
			t.Errorf("compactJSON(%s) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"NaN", "[1, Infinity]", "-Infinity", "{\"a\": 1,}", "", "\"\xc3\x28\"", "1 2"} {
		if got, err := compactJSON([]byte(bad)); !errors.Is(err, domain.ErrInvalidInput) {
			t.Errorf("compactJSON(%q) = %s, %v; want ErrInvalidInput", bad, got, err)
		}
	}
}
