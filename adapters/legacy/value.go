package legacy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/ai-pantheon/aegis/domain"
)

// compactJSON checks that pt, a decrypted category, is one JSON value in UTF-8
// and returns it compacted (json.Compact: insignificant white space removed)
// with the \uXXXX escapes Python wrote for non-ASCII characters turned back
// into UTF-8 (unescapeUnicode). Numbers, member order and every other escape
// stay as written. Python's json.dumps writes NaN, Infinity and
// -Infinity for such floats, which are not JSON; they are refused by name.
// Errors wrap domain.ErrInvalidInput.
func compactJSON(pt []byte) ([]byte, error) {
	if !utf8.Valid(pt) {
		off := 0
		for off < len(pt) {
			r, n := utf8.DecodeRune(pt[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		return nil, fmt.Errorf("the value is not UTF-8 text (%s): %w", lineCol(pt, off), domain.ErrInvalidInput)
	}
	var buf bytes.Buffer
	buf.Grow(len(pt))
	if err := json.Compact(&buf, pt); err != nil {
		clear(buf.Bytes())
		// json.Compact's errors carry no offset; json.Unmarshal's validation does.
		var raw json.RawMessage
		if uerr := json.Unmarshal(pt, &raw); uerr != nil {
			err = uerr
		}
		clear(raw)
		var se *json.SyntaxError
		if !errors.As(err, &se) {
			return nil, fmt.Errorf("the value is not valid JSON: %v: %w", err, domain.ErrInvalidInput)
		}
		off := int(min(max(se.Offset-1, 0), int64(len(pt))))
		for _, word := range []string{"NaN", "Infinity"} {
			if bytes.HasPrefix(pt[off:], []byte(word)) {
				if word == "Infinity" && off > 0 && pt[off-1] == '-' {
					word, off = "-Infinity", off-1
				}
				return nil, fmt.Errorf("the value holds %s (%s), which Python writes for a float but JSON does not allow "+
					"(replace it in the Python data, for example with null, and import again): %w", word, lineCol(pt, off), domain.ErrInvalidInput)
			}
		}
		return nil, fmt.Errorf("the value is not valid JSON (%s): %v: %w", lineCol(pt, off), se, domain.ErrInvalidInput)
	}
	out := unescapeUnicode(buf.Bytes())
	clear(buf.Bytes())
	return out, nil
}

// unescapeUnicode rewrites, in the strings of the valid JSON text b, every
// \uXXXX escape (or surrogate pair of escapes) of a character that JSON does
// not require to be escaped as that character in UTF-8. Escapes of control
// characters, '"' and '\\', and of unpaired surrogates (which UTF-8 cannot
// hold; Python writes them for lone surrogates in a str) are kept. The result
// means the same JSON value. The result is a new slice.
func unescapeUnicode(b []byte) []byte {
	out := make([]byte, 0, len(b))
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '"':
			inString = !inString
		case c == '\\' && inString:
			if b[i+1] != 'u' {
				out = append(out, b[i], b[i+1])
				i++
				continue
			}
			r := hex4(b[i+2 : i+6])
			n := 6
			if utf16.IsSurrogate(r) {
				r = utf8.RuneError
				if i+12 <= len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
					r = utf16.DecodeRune(hex4(b[i+2:i+6]), hex4(b[i+8:i+12]))
					n = 12
				}
			}
			if r == utf8.RuneError || r < 0x20 || r == '"' || r == '\\' {
				// Kept: an escape JSON needs, or a lone surrogate. Only its
				// first escape: a following one is looked at on its own.
				out = append(out, b[i:i+6]...)
				i += 5
				continue
			}
			out = utf8.AppendRune(out, r)
			i += n - 1
			continue
		}
		out = append(out, c)
	}
	return out
}

// hex4 returns the value of four hex digits (valid JSON guarantees them).
func hex4(h []byte) rune {
	var r rune
	for _, c := range h {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// lineCol returns "line L, column C" (1-based, C in bytes) of byte offset off in b.
func lineCol(b []byte, off int) string {
	off = min(max(off, 0), len(b))
	line := 1 + bytes.Count(b[:off], []byte{'\n'})
	col := off - bytes.LastIndexByte(b[:off], '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}
