package legacy

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/ai-pantheon/aegis/domain"
)

// The parsers of the three kinds of legacy file. Each takes the file's bytes,
// which are untrusted, and either returns every field checked or an error
// wrapping domain.ErrIntegrity that says what is wrong. They never panic
// (FuzzParse) and do no cryptography.

// sealed is an AES-256-GCM message of the legacy format: a 12-byte nonce and
// the ciphertext with its 16-byte tag appended.
type sealed struct {
	nonce      []byte
	ciphertext []byte
}

// vaultFile is a parsed <category>.vault file.
type vaultFile struct {
	category      string
	encrypted     sealed
	plaintextSize int64
}

// corrupt returns an error wrapping domain.ErrIntegrity.
func corrupt(format string, a ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, a...), domain.ErrIntegrity)
}

// parseSalt parses the .vault-salt file: exactly the standard base64 (with
// padding, nothing before or after it, no line break) of SaltSize bytes.
func parseSalt(b []byte) ([]byte, error) {
	if len(b) != saltFileSize {
		return nil, corrupt("the salt file is %d bytes, want %d (standard base64 of a %d-byte salt, no line break)", len(b), saltFileSize, SaltSize)
	}
	salt, err := decodeBase64(string(b))
	if err != nil {
		return nil, corrupt("the salt file is not standard base64: %v", err)
	}
	if len(salt) != SaltSize {
		// Unreachable for 24 valid characters, kept as a guard.
		return nil, corrupt("the salt is %d bytes, want %d", len(salt), SaltSize)
	}
	return salt, nil
}

// parseDEKFile parses a .dek-<category> file: a JSON object with exactly the
// members "nonce" and "ciphertext", which hold a 12-byte nonce and a 48-byte
// sealed key (the 32-byte DEK and the 16-byte tag).
func parseDEKFile(b []byte) (sealed, error) {
	s, err := parseSealedDocument(b)
	if err != nil {
		return sealed{}, err
	}
	if len(s.ciphertext) != DEKSize+TagSize {
		return sealed{}, corrupt("the sealed data key is %d bytes, want %d (a %d-byte key and a %d-byte tag)", len(s.ciphertext), DEKSize+TagSize, DEKSize, TagSize)
	}
	return s, nil
}

// parseSealedDocument parses a whole file holding one sealed object.
func parseSealedDocument(b []byte) (sealed, error) {
	dec := newDecoder(b)
	var s sealed
	if err := readSealed(dec, &s); err != nil {
		return sealed{}, err
	}
	return s, expectEOF(dec)
}

// parseVaultFile parses a <category>.vault file: a JSON object with exactly the
// members "category" (a string), "encrypted" (a sealed object) and
// "plaintext_size" (a non-negative integer equal to the ciphertext's length
// less the tag).
func parseVaultFile(b []byte) (vaultFile, error) {
	dec := newDecoder(b)
	var v vaultFile
	var haveCategory, haveEncrypted, haveSize bool
	err := readObject(dec, "vault file", []string{"category", "encrypted", "plaintext_size"}, func(name string) error {
		switch name {
		case "category":
			s, err := readString(dec, name)
			v.category, haveCategory = s, true
			return err
		case "encrypted":
			haveEncrypted = true
			return readSealed(dec, &v.encrypted)
		default: // "plaintext_size"
			n, err := readSize(dec, name)
			v.plaintextSize, haveSize = n, true
			return err
		}
	})
	if err != nil {
		return vaultFile{}, err
	}
	if !haveCategory || !haveEncrypted || !haveSize {
		// readObject requires every member; kept as a guard.
		return vaultFile{}, corrupt("the vault file lacks a member")
	}
	if err := expectEOF(dec); err != nil {
		return vaultFile{}, err
	}
	if got := int64(len(v.encrypted.ciphertext) - TagSize); got != v.plaintextSize {
		return vaultFile{}, corrupt("plaintext_size is %d but the ciphertext holds %d bytes of plaintext (truncated or altered)", v.plaintextSize, got)
	}
	return v, nil
}

// readSealed reads an object with exactly the members "nonce" and
// "ciphertext" from dec.
func readSealed(dec *json.Decoder, s *sealed) error {
	return readObject(dec, "sealed object", []string{"nonce", "ciphertext"}, func(name string) error {
		str, err := readString(dec, name)
		if err != nil {
			return err
		}
		raw, err := decodeBase64(str)
		if err != nil {
			return corrupt("%q is not standard base64: %v", name, err)
		}
		if name == "nonce" {
			if len(raw) != NonceSize {
				return corrupt("the nonce is %d bytes, want %d", len(raw), NonceSize)
			}
			s.nonce = raw
			return nil
		}
		if len(raw) < TagSize {
			return corrupt("the ciphertext is %d bytes, shorter than the %d-byte tag", len(raw), TagSize)
		}
		s.ciphertext = raw
		return nil
	})
}

func newDecoder(b []byte) *json.Decoder {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec
}

// readObject reads a JSON object from dec whose member names are exactly
// those of want, each once, in any order; read reads the value of each. A
// missing, unknown or repeated member is an error (member names are compared
// exactly, not case-insensitively as encoding/json would).
func readObject(dec *json.Decoder, what string, want []string, read func(name string) error) error {
	if err := expectDelim(dec, '{', what); err != nil {
		return err
	}
	seen := make(map[string]bool, len(want))
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return syntaxErr(err)
		}
		name, _ := tok.(string)
		known := false
		for _, w := range want {
			known = known || w == name
		}
		switch {
		case !known:
			return corrupt("the %s has an unknown member %q (want exactly %s)", what, name, quoteAll(want))
		case seen[name]:
			return corrupt("the %s has the member %q twice", what, name)
		}
		seen[name] = true
		if err := read(name); err != nil {
			return err
		}
	}
	if err := expectDelim(dec, '}', what); err != nil {
		return err
	}
	for _, w := range want {
		if !seen[w] {
			return corrupt("the %s has no member %q", what, w)
		}
	}
	return nil
}

func quoteAll(names []string) string {
	s := ""
	for i, n := range names {
		if i > 0 {
			s += ", "
		}
		s += strconv.Quote(n)
	}
	return s
}

func expectDelim(dec *json.Decoder, d json.Delim, what string) error {
	tok, err := dec.Token()
	if err != nil {
		return syntaxErr(err)
	}
	if got, ok := tok.(json.Delim); !ok || got != d {
		if d == '{' {
			return corrupt("want a JSON object (the %s), found %s", what, describe(tok))
		}
		return corrupt("the %s is not closed", what)
	}
	return nil
}

// readString reads a JSON string (not null, not another type).
func readString(dec *json.Decoder, name string) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", syntaxErr(err)
	}
	s, ok := tok.(string)
	if !ok {
		return "", corrupt("%q must be a string, found %s", name, describe(tok))
	}
	return s, nil
}

// readSize reads a non-negative JSON integer written without fraction or
// exponent, at most MaxVaultFileSize.
func readSize(dec *json.Decoder, name string) (int64, error) {
	tok, err := dec.Token()
	if err != nil {
		return 0, syntaxErr(err)
	}
	num, ok := tok.(json.Number)
	if !ok {
		return 0, corrupt("%q must be a number, found %s", name, describe(tok))
	}
	s := num.String()
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, corrupt("%q must be a non-negative integer, found %s", name, s)
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > MaxVaultFileSize {
		return 0, corrupt("%q is %s, more than the %d-byte limit of a vault file", name, s, int64(MaxVaultFileSize))
	}
	return n, nil
}

// expectEOF checks that nothing but white space follows the value.
func expectEOF(dec *json.Decoder) error {
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return corrupt("data after the JSON object")
	}
	return nil
}

func syntaxErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return corrupt("invalid JSON: unexpected end of the file (truncated?)")
	}
	return corrupt("invalid JSON: %v", err)
}

func describe(tok json.Token) string {
	switch t := tok.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case json.Delim:
		if t == '{' {
			return "an object"
		}
		if t == '[' {
			return "an array"
		}
		return string(t)
	}
	return fmt.Sprintf("%T", tok)
}

// decodeBase64 decodes standard base64 with padding, canonical (unused bits
// zero). Unlike encoding/base64 alone it refuses line breaks, which the
// decoder would otherwise skip.
func decodeBase64(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if s[i] == '\r' || s[i] == '\n' {
			return nil, fmt.Errorf("line break at offset %d", i)
		}
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, err
	}
	return b, nil
}
