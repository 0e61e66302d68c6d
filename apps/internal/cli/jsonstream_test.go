package cli

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// feed writes b to w in pieces cut at the given offsets (mod len(b)+1).
func feed(w interface{ Write([]byte) (int, error) }, b []byte, cuts []byte) {
	off := 0
	for _, c := range cuts {
		if off >= len(b) {
			break
		}
		n := int(c) % (len(b) - off + 1)
		_, _ = w.Write(b[off : off+n])
		off += n
	}
	_, _ = w.Write(b[off:])
}

var jsonSeeds = []string{
	``, ` `, `0`, `-0`, `01`, `-`, `1.`, `1.5`, `1e`, `1e+`, `1E-7`, `12.50e3`, `-12`, `.5`,
	`true`, `tru`, `truex`, `false`, `null`, `nul`, ` null `, `null null`,
	`""`, `"a\"b\\c\/\b\f\n\r\t"`, `"\u00e9"`, `"\u00g9"`, `"\x"`, "\"a\x01\"", `"unterminated`,
	`[]`, `[1,2,3]`, `[1,]`, `[,1]`, `[1 2]`, `[`, `]`, `[[[]]]`, `[}`, `{]`,
	`{}`, `{"a":1}`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `{"a":1 "b":2}`, `{"a":{"b":[true,false,null]}}`,
	`{"a":1}}`, ` {"a" : [ 1 , "x" ] } `, `{"é":"ü"}`, "\xff", `"` + "\xff" + `"`, `1 2`, `[1]x`,
}

func TestJSONCheckAgreesWithJSONValid(t *testing.T) {
	for _, s := range jsonSeeds {
		for _, cuts := range [][]byte{nil, {1}, {1, 1, 1, 1, 1, 1, 1, 1}, {2, 3}} {
			var j jsonCheck
			feed(&j, []byte(s), cuts)
			if got, want := j.Valid(), json.Valid([]byte(s)); got != want {
				t.Errorf("%q cut %v: jsonCheck %v, json.Valid %v", s, cuts, got, want)
			}
		}
	}
}

func TestUTF8CheckAgreesWithUTF8Valid(t *testing.T) {
	for _, s := range []string{"", "abc", "é", "日本語", "😀x", "\xff", "a\xc3", "\xc3\x28", "\xe2\x82", "\xf0\x9f\x98", "\xed\xa0\x80", "\xef\xbf\xbd"} {
		for _, cuts := range [][]byte{nil, {1}, {1, 1, 1, 1, 1}, {2}} {
			var u utf8Check
			feed(&u, []byte(s), cuts)
			if got, want := u.Valid(), utf8.ValidString(s); got != want {
				t.Errorf("%q cut %v: utf8Check %v, utf8.Valid %v", s, cuts, got, want)
			}
		}
	}
}

// FuzzJSONCheck: the streaming checks agree with json.Valid and utf8.Valid
// however the input is cut, and a text written by writeJSONString in pieces
// decodes back to itself.
func FuzzJSONCheck(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s), []byte{1, 3})
	}
	f.Fuzz(func(t *testing.T, b, cuts []byte) {
		var j jsonCheck
		feed(&j, b, cuts)
		if got, want := j.Valid(), json.Valid(b); got != want {
			t.Fatalf("%q cut %v: jsonCheck %v, json.Valid %v", b, cuts, got, want)
		}
		var u utf8Check
		feed(&u, b, cuts)
		if got, want := u.Valid(), utf8.Valid(b); got != want {
			t.Fatalf("%q cut %v: utf8Check %v, utf8.Valid %v", b, cuts, got, want)
		}
		if !utf8.Valid(b) {
			return
		}
		var out bytes.Buffer
		out.WriteByte('"')
		feed(jsonStringWriter{&out}, b, cuts)
		out.WriteByte('"')
		var s string
		if err := json.Unmarshal(out.Bytes(), &s); err != nil || s != string(b) {
			t.Fatalf("%q as a JSON string: %s (%v)", b, out.Bytes(), err)
		}
	})
}
