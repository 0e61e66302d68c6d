package cli

import (
	"io"
	"unicode/utf8"
)

// jsonCheck validates one JSON text (RFC 8259) fed to it in pieces, holding no
// more than its nesting stack: load uses it on categories too large to hold in
// memory. Its verdict equals json.Valid's on the concatenated input (tested by
// FuzzJSONCheck). Like json.Valid it does not check UTF-8; utf8Check does.
type jsonCheck struct {
	state  int
	stack  []byte // '{' or '[' of each open container
	lit    string // rest of the literal being read (true, false, null)
	hex    int    // hex digits still due in a \u escape
	key    bool   // the string being read is an object key
	failed bool
}

// States of jsonCheck.
const (
	jsValue      = iota // a value is due
	jsValueOrEnd        // after '[': a value or ']'
	jsKeyOrEnd          // after '{': a key or '}'
	jsKey               // after ',' in an object: a key
	jsColon             // after a key
	jsAfter             // after a value: ',' or the container's end, or the end of input
	jsString            // in a string
	jsEscape            // after '\' in a string
	jsHex               // in the digits of \u
	jsLiteral           // in true, false or null
	jsMinus             // after '-'
	jsZero              // after a leading 0
	jsInt               // in the integer digits
	jsDot               // after '.'
	jsFrac              // in the fraction digits
	jsE                 // after 'e' or 'E'
	jsESign             // after the exponent's sign
	jsExp               // in the exponent digits
)

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// Write feeds p; it never fails (see Valid).
func (j *jsonCheck) Write(p []byte) (int, error) {
	for i := 0; i < len(p) && !j.failed; i++ {
		j.step(p[i])
	}
	return len(p), nil
}

// endValue is called when a value is complete.
func (j *jsonCheck) endValue() { j.state = jsAfter }

// beginValue starts the value whose first byte is c.
func (j *jsonCheck) beginValue(c byte) {
	switch {
	case c == '{':
		j.stack = append(j.stack, '{')
		j.state = jsKeyOrEnd
	case c == '[':
		j.stack = append(j.stack, '[')
		j.state = jsValueOrEnd
	case c == '"':
		j.key = false
		j.state = jsString
	case c == '-':
		j.state = jsMinus
	case c == '0':
		j.state = jsZero
	case c >= '1' && c <= '9':
		j.state = jsInt
	case c == 't':
		j.lit, j.state = "rue", jsLiteral
	case c == 'f':
		j.lit, j.state = "alse", jsLiteral
	case c == 'n':
		j.lit, j.state = "ull", jsLiteral
	default:
		j.failed = true
	}
}

func (j *jsonCheck) closeContainer(c byte) {
	if n := len(j.stack); n == 0 || (j.stack[n-1] == '[' && c != ']') || (j.stack[n-1] == '{' && c != '}') {
		j.failed = true
		return
	}
	j.stack = j.stack[:len(j.stack)-1]
	j.endValue()
}

func (j *jsonCheck) step(c byte) {
	switch j.state {
	case jsValue:
		if !isSpace(c) {
			j.beginValue(c)
		}
	case jsValueOrEnd:
		switch {
		case isSpace(c):
		case c == ']':
			j.closeContainer(c)
		default:
			j.beginValue(c)
		}
	case jsKeyOrEnd, jsKey:
		switch {
		case isSpace(c):
		case c == '"':
			j.key, j.state = true, jsString
		case c == '}' && j.state == jsKeyOrEnd:
			j.closeContainer(c)
		default:
			j.failed = true
		}
	case jsColon:
		switch {
		case isSpace(c):
		case c == ':':
			j.state = jsValue
		default:
			j.failed = true
		}
	case jsAfter:
		n := len(j.stack)
		switch {
		case isSpace(c):
		case n > 0 && c == ',':
			if j.stack[n-1] == '{' {
				j.state = jsKey
			} else {
				j.state = jsValue
			}
		case n > 0 && (c == ']' || c == '}'):
			j.closeContainer(c)
		default:
			j.failed = true
		}
	case jsString:
		switch {
		case c == '"':
			if j.key {
				j.state = jsColon
			} else {
				j.endValue()
			}
		case c == '\\':
			j.state = jsEscape
		case c < 0x20:
			j.failed = true
		}
	case jsEscape:
		switch c {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			j.state = jsString
		case 'u':
			j.hex, j.state = 4, jsHex
		default:
			j.failed = true
		}
	case jsHex:
		if !isHex(c) {
			j.failed = true
			return
		}
		if j.hex--; j.hex == 0 {
			j.state = jsString
		}
	case jsLiteral:
		if c != j.lit[0] {
			j.failed = true
			return
		}
		if j.lit = j.lit[1:]; j.lit == "" {
			j.endValue()
		}
	case jsMinus:
		switch {
		case c == '0':
			j.state = jsZero
		case c >= '1' && c <= '9':
			j.state = jsInt
		default:
			j.failed = true
		}
	case jsZero, jsInt, jsFrac, jsExp:
		switch {
		case isDigit(c) && j.state != jsZero:
		case c == '.' && (j.state == jsZero || j.state == jsInt):
			j.state = jsDot
		case (c == 'e' || c == 'E') && j.state != jsExp:
			j.state = jsE
		default:
			// The number ended: c belongs to what follows it.
			j.endValue()
			j.step(c)
		}
	case jsDot:
		if !isDigit(c) {
			j.failed = true
			return
		}
		j.state = jsFrac
	case jsE:
		switch {
		case c == '+' || c == '-':
			j.state = jsESign
		case isDigit(c):
			j.state = jsExp
		default:
			j.failed = true
		}
	case jsESign:
		if !isDigit(c) {
			j.failed = true
			return
		}
		j.state = jsExp
	}
}

// Valid reports whether everything written is one JSON value (with white
// space around it).
func (j *jsonCheck) Valid() bool {
	if j.failed || len(j.stack) > 0 {
		return false
	}
	switch j.state {
	case jsAfter, jsZero, jsInt, jsFrac, jsExp:
		return true
	}
	return false
}

// utf8Check validates UTF-8 fed to it in pieces; a character split between
// two writes is carried over.
type utf8Check struct {
	carry  []byte
	failed bool
}

func (u *utf8Check) Write(p []byte) (int, error) {
	n := len(p)
	if u.failed {
		return n, nil
	}
	for len(u.carry) > 0 && len(p) > 0 {
		u.carry = append(u.carry, p[0])
		p = p[1:]
		if utf8.FullRune(u.carry) {
			r, size := utf8.DecodeRune(u.carry)
			if r == utf8.RuneError && size <= 1 {
				u.failed = true
				return n, nil
			}
			// size == len(carry): carry held the start of exactly one character.
			u.carry = u.carry[:0]
		}
	}
	// Hold back an incomplete character at the end.
	cut := len(p)
	for k := 1; k <= utf8.UTFMax-1 && k <= len(p); k++ {
		if c := p[len(p)-k]; c >= 0xC0 {
			if !utf8.FullRune(p[len(p)-k:]) {
				cut = len(p) - k
			}
			break
		} else if c < 0x80 {
			break
		}
	}
	if !utf8.Valid(p[:cut]) {
		u.failed = true
		return n, nil
	}
	u.carry = append(u.carry, p[cut:]...)
	return n, nil
}

// Valid reports whether everything written is UTF-8.
func (u *utf8Check) Valid() bool { return !u.failed && len(u.carry) == 0 }

// writeJSONString writes the text p, UTF-8 checked by the caller, as the inside
// of a JSON string (without quotes): '"', '\' and control characters escaped.
// Pieces of one text may be written one after another.
func writeJSONString(w io.Writer, p []byte) error {
	const hexDigits = "0123456789abcdef"
	start := 0
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		if start < i {
			if _, err := w.Write(p[start:i]); err != nil {
				return err
			}
		}
		var esc []byte
		switch c {
		case '"', '\\':
			esc = []byte{'\\', c}
		case '\n':
			esc = []byte(`\n`)
		case '\r':
			esc = []byte(`\r`)
		case '\t':
			esc = []byte(`\t`)
		default:
			esc = []byte{'\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF]}
		}
		if _, err := w.Write(esc); err != nil {
			return err
		}
		start = i + 1
	}
	if start < len(p) {
		_, err := w.Write(p[start:])
		return err
	}
	return nil
}
