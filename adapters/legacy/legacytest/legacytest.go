// Package legacytest writes vaults in the layout of the Python aegis-cloak 0.1,
// for tests of the importer (package legacy, aegis import-legacy), and copies the
// committed fixture that Python wrote under its real file names (CopyFixture).
//
// It is written from the facts of the format alone (issue #9), not from the
// reader, and shares no code with it:
//
//   - .vault-salt: standard base64, padded, no line break, of a 16-byte salt;
//   - KEK = PBKDF2-HMAC-SHA256(passphrase as UTF-8, salt, 600,000, 32 bytes);
//   - .dek-<category>: {"nonce": b64, "ciphertext": b64}, a random 32-byte DEK
//     sealed with AES-256-GCM under the KEK, no associated data;
//   - <category>.vault: {"category", "encrypted": {"nonce", "ciphertext"},
//     "plaintext_size"} as Python's json.dump(..., indent=2) writes it; the
//     plaintext is json.dumps(value, indent=2) sealed with the DEK.
//
// PythonJSON reproduces json.dumps(value, indent=2) (ensure_ascii, so every
// character outside printable ASCII is a \uXXXX escape, astral characters as
// surrogate pairs).
package legacytest

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"unicode/utf16"
)

// Iterations is the PBKDF2 iteration count of aegis-cloak 0.1.
const Iterations = 600_000

// Write writes a legacy vault holding values (category → JSON text, in any
// formatting) into dir, creating it if needed. Each value is serialized as
// Python's json.dumps(value, indent=2) would, then sealed.
func Write(dir, passphrase string, values map[string][]byte) error {
	plain := make(map[string][]byte, len(values))
	for name, v := range values {
		p, err := PythonJSON(v)
		if err != nil {
			return fmt.Errorf("legacytest: category %q: %w", name, err)
		}
		plain[name] = p
	}
	return WritePlaintext(dir, passphrase, plain)
}

// WritePlaintext writes a legacy vault whose categories hold exactly the given
// plaintexts (which need not be JSON: a test can store what Python would write
// for NaN) into dir, creating it if needed.
func WritePlaintext(dir, passphrase string, plaintexts map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	salt := make([]byte, 16)
	rand.Read(salt)
	if err := os.WriteFile(filepath.Join(dir, ".vault-salt"), []byte(base64.StdEncoding.EncodeToString(salt)), 0o600); err != nil {
		return err
	}
	kek, err := pbkdf2.Key(sha256.New, passphrase, salt, Iterations, 32)
	if err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(plaintexts)) {
		dek := make([]byte, 32)
		rand.Read(dek)
		sealedDEK, err := seal(kek, dek)
		if err != nil {
			return err
		}
		// json.dump(sealed, f): one line, Python's default separators.
		dekJSON := fmt.Sprintf(`{"nonce": %q, "ciphertext": %q}`, sealedDEK.Nonce, sealedDEK.Ciphertext)
		if err := os.WriteFile(filepath.Join(dir, ".dek-"+name), []byte(dekJSON), 0o600); err != nil {
			return err
		}
		pt := plaintexts[name]
		data, err := seal(dek, pt)
		if err != nil {
			return err
		}
		// The members in Python's insertion order, then indented as json.dump(..., indent=2).
		env, err := json.Marshal(struct {
			Category      string `json:"category"`
			Encrypted     sealed `json:"encrypted"`
			PlaintextSize int    `json:"plaintext_size"`
		}{name, data, len(pt)})
		if err != nil {
			return err
		}
		if env, err = PythonJSON(env); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name+".vault"), env, 0o600); err != nil {
			return err
		}
	}
	return nil
}

type sealed struct {
	Nonce      string `json:"nonce"`
	Ciphertext string `json:"ciphertext"`
}

func seal(key, plaintext []byte) (sealed, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return sealed{}, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return sealed{}, err
	}
	nonce := make([]byte, 12)
	rand.Read(nonce)
	return sealed{
		Nonce:      base64.StdEncoding.EncodeToString(nonce),
		Ciphertext: base64.StdEncoding.EncodeToString(gcm.Seal(nil, nonce, plaintext, nil)),
	}, nil
}

// PythonJSON re-serializes the JSON text value as Python's
// json.dumps(value, indent=2): two-space indentation, "," between items and
// ": " after member names, "{}" and "[]" for empty containers, ensure_ascii
// string escapes. Member order is kept; numbers are written as given.
func PythonJSON(value []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(value))
	dec.UseNumber()
	var buf bytes.Buffer
	if err := writeValue(dec, &buf, 0); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("legacytest: data after the JSON value")
	}
	return buf.Bytes(), nil
}

func writeValue(dec *json.Decoder, buf *bytes.Buffer, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		closing := json.Delim('}')
		if t == '[' {
			closing = ']'
		}
		if !dec.More() {
			if _, err := dec.Token(); err != nil {
				return err
			}
			buf.WriteString(string(t) + string(closing))
			return nil
		}
		buf.WriteString(string(t))
		for first := true; dec.More(); first = false {
			if !first {
				buf.WriteByte(',')
			}
			newline(buf, depth+1)
			if t == '{' {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				writeString(buf, k.(string))
				buf.WriteString(": ")
			}
			if err := writeValue(dec, buf, depth+1); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return err
		}
		newline(buf, depth)
		buf.WriteString(string(closing))
	case string:
		writeString(buf, t)
	case json.Number:
		buf.WriteString(t.String())
	case bool:
		buf.WriteString(strconv.FormatBool(t))
	case nil:
		buf.WriteString("null")
	}
	return nil
}

func newline(buf *bytes.Buffer, depth int) {
	buf.WriteByte('\n')
	for range depth {
		buf.WriteString("  ")
	}
}

// writeString writes s as Python's json encoder with ensure_ascii does
// (py_encode_basestring_ascii).
func writeString(buf *bytes.Buffer, s string) {
	buf.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			buf.WriteString(`\"`)
		case '\\':
			buf.WriteString(`\\`)
		case '\n':
			buf.WriteString(`\n`)
		case '\r':
			buf.WriteString(`\r`)
		case '\t':
			buf.WriteString(`\t`)
		case '\b':
			buf.WriteString(`\b`)
		case '\f':
			buf.WriteString(`\f`)
		default:
			switch {
			case r >= 0x20 && r <= 0x7e:
				buf.WriteRune(r)
			case r > 0xffff:
				hi, lo := utf16.EncodeRune(r)
				fmt.Fprintf(buf, `\u%04x\u%04x`, hi, lo)
			default:
				fmt.Fprintf(buf, `\u%04x`, r)
			}
		}
	}
	buf.WriteByte('"')
}
