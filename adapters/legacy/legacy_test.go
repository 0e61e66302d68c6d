package legacy_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/adapters/legacy"
	"github.com/ai-pantheon/aegis/adapters/legacy/legacytest"
	"github.com/ai-pantheon/aegis/domain"
)

const passphrase = "an old passphrase"

// committedFixture is the vault the Python release wrote (testdata/make_fixture.py),
// committed under file names valid in a module zip (legacytest.CopyFixture).
const committedFixture = "testdata/py-vault"

// fixture copies the committed fixture into a new directory of the test, under the
// file names the Python release gave them, and returns that directory.
func fixture(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "py-vault")
	if err := legacytest.CopyFixture(committedFixture, dir); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// decodeJSON decodes a JSON text with numbers kept as written, so that two
// values compare equal only if every number has the same text.
func decodeJSON(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	return v
}

// snapshot is every entry of a directory: its kind, its mode, its
// modification time and, for a file, the SHA-256 of its bytes.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		desc := fmt.Sprintf("%v %d %s", info.Mode(), info.Size(), info.ModTime().Format(time.RFC3339Nano))
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			desc += fmt.Sprintf(" %x", sha256.Sum256(b))
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			target, _ := os.Readlink(p)
			desc += " -> " + target
		}
		out[p] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestReadsTheCommittedPythonFixture(t *testing.T) {
	fixtureDir := fixture(t)
	before := snapshot(t, fixtureDir)
	pass, err := os.ReadFile("testdata/py-vault.pass")
	if err != nil {
		t.Fatal(err)
	}
	rawWant, err := os.ReadFile("testdata/py-vault.expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]json.RawMessage
	if err := json.Unmarshal(rawWant, &want); err != nil {
		t.Fatal(err)
	}

	v, err := legacy.Open(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Categories(); !slices.Equal(got, slices.Sorted(maps.Keys(want))) {
		t.Fatalf("categories %q, want %q", got, slices.Sorted(maps.Keys(want)))
	}
	if len(v.Ignored()) != 0 {
		t.Errorf("ignored %q, want none", v.Ignored())
	}
	c, err := v.Decrypt(pass)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Categories) != len(want) {
		t.Fatalf("%d categories, want %d", len(c.Categories), len(want))
	}
	for _, cat := range c.Categories {
		if !reflect.DeepEqual(decodeJSON(t, cat.Value), decodeJSON(t, want[cat.Name])) {
			t.Errorf("category %q: got %.200s, want %.200s", cat.Name, cat.Value, want[cat.Name])
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, cat.Value); err != nil || !bytes.Equal(compact.Bytes(), cat.Value) {
			t.Errorf("category %q: the value is not compact JSON", cat.Name)
		}
		if cat.File != filepath.Join(fixtureDir, cat.Name+".vault") || cat.LegacySize < len(cat.Value) {
			t.Errorf("category %q: file %q, legacy size %d for %d bytes", cat.Name, cat.File, cat.LegacySize, len(cat.Value))
		}
	}
	// Python's \uXXXX escapes (surrogate pairs for the astral plane) become
	// UTF-8; the escapes JSON needs stay.
	if s := string(findValue(t, c, "unicode")); !strings.Contains(s, `"astral":"🔐 😀 𝔘𝔫𝔦 𠀀"`) ||
		!strings.Contains(s, `"greek":"Καλημέρα"`) || !strings.Contains(s, `"été key"`) ||
		!strings.Contains(s, `"quote \" backslash \\ tab \t newline \n control \u0001 del  nbsp  "`) {
		t.Errorf("unicode: %s", s)
	}
	for _, cat := range c.Categories {
		if cat.Name == "large" && cat.LegacySize < 100_000 {
			t.Errorf("large is %d bytes in the fixture, want a large value", cat.LegacySize)
		}
	}

	if _, err := v.Decrypt([]byte("not the passphrase")); !errors.Is(err, domain.ErrWrongPassphrase) {
		t.Errorf("wrong passphrase: %v, want ErrWrongPassphrase", err)
	}
	c.Destroy()
	for _, cat := range c.Categories {
		if cat.Value != nil {
			t.Errorf("Destroy left the value of %q", cat.Name)
		}
	}
	if after := snapshot(t, fixtureDir); !reflect.DeepEqual(before, after) {
		t.Errorf("the legacy directory changed:\n%v\n%v", before, after)
	}
}

func findValue(t *testing.T, c *legacy.Contents, name string) []byte {
	t.Helper()
	for _, cat := range c.Categories {
		if cat.Name == name {
			return cat.Value
		}
	}
	t.Fatalf("no category %q", name)
	return nil
}

// generated values, as JSON texts.
var values = map[string][]byte{
	"contacts":   []byte(`{"alice": {"email": "a@example.org", "tags": ["x", "y"]}, "bob": null}`),
	"unicode":    []byte(`{"s": "Grüße, 世界 🔐 \u0000 \" \\ \n", "k€y": 1}`),
	"empty":      []byte(`{}`),
	"list":       []byte(`[]`),
	"number":     []byte(`-12.50e3`),
	"big":        []byte(`12345678901234567890123`),
	"string":     []byte(`"just a string"`),
	"nested":     []byte(`{"a": [{"b": [[], {}, [1, {"c": true}]]}]}`),
	"with space": []byte(`[true, false, null]`),
	"ünïcode":    []byte(`{"name": "a category whose name is not ASCII"}`),
}

var (
	baseOnce sync.Once
	baseDir  string
	baseErr  error
)

// generated returns a fresh copy of one vault written by legacytest from
// values (written once per test binary: PBKDF2 is slow on purpose).
func generated(t *testing.T) string {
	t.Helper()
	baseOnce.Do(func() {
		var dir string
		if dir, baseErr = os.MkdirTemp("", "legacy-base-"); baseErr == nil {
			baseDir = filepath.Join(dir, "v")
			baseErr = legacytest.Write(baseDir, passphrase, values)
		}
	})
	if baseErr != nil {
		t.Fatal(baseErr)
	}
	dir := filepath.Join(t.TempDir(), "legacy")
	if err := os.CopyFS(dir, os.DirFS(baseDir)); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if baseDir != "" {
		_ = os.RemoveAll(filepath.Dir(baseDir))
	}
	os.Exit(code)
}

func TestReadsGeneratedVault(t *testing.T) {
	dir := generated(t)
	// Entries that are not part of the format are left alone and listed.
	if err := os.WriteFile(filepath.Join(dir, "README.txt"), []byte("notes"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "backup"), 0o700); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	v, err := legacy.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Ignored(); !slices.Equal(got, []string{"README.txt", "backup"}) {
		t.Errorf("ignored %q", got)
	}
	c, err := v.Decrypt([]byte(passphrase))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Categories) != len(values) {
		t.Fatalf("%d categories, want %d", len(c.Categories), len(values))
	}
	for _, cat := range c.Categories {
		if !reflect.DeepEqual(decodeJSON(t, cat.Value), decodeJSON(t, values[cat.Name])) {
			t.Errorf("category %q: got %s, want %s", cat.Name, cat.Value, values[cat.Name])
		}
	}
	if got := string(findValue(t, c, "number")); got != "-12.50e3" {
		t.Errorf("number kept as %s, want the text -12.50e3", got)
	}
	if after := snapshot(t, dir); !reflect.DeepEqual(before, after) {
		t.Errorf("the legacy directory changed")
	}
}

func TestWrongPassphrase(t *testing.T) {
	dir := generated(t)
	_, err := legacy.Read(dir, []byte(passphrase+" "))
	if !errors.Is(err, domain.ErrWrongPassphrase) {
		t.Fatalf("got %v, want ErrWrongPassphrase", err)
	}
	if errors.Is(err, domain.ErrIntegrity) {
		t.Errorf("a wrong passphrase is also reported as corruption: %v", err)
	}
}

// mutation changes one file of a generated vault.
type mutation struct {
	name     string
	file     string // the file the error must name (relative), "" for none
	category string // the category the error must name
	want     error  // the sentinel the error must wrap
	text     string // a substring of the message
	change   func(t *testing.T, dir string)
}

func rewrite(name string, f func(b []byte) []byte) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		p := filepath.Join(dir, name)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// editJSON decodes a file's JSON object, lets f change it, and writes it back.
func editJSON(name string, f func(m map[string]any)) func(*testing.T, string) {
	return rewrite(name, func(b []byte) []byte {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			panic(err)
		}
		f(m)
		out, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			panic(err)
		}
		return out
	})
}

// editBytes decodes the base64 of field (in the "encrypted" object of a vault
// file, or at the top of a key file), lets f change the bytes and writes them back.
func editBytes(name, field string, f func([]byte) []byte) func(*testing.T, string) {
	return editJSON(name, func(m map[string]any) {
		obj := m
		if enc, ok := m["encrypted"].(map[string]any); ok {
			obj = enc
		}
		b, err := base64.StdEncoding.DecodeString(obj[field].(string))
		if err != nil {
			panic(err)
		}
		obj[field] = base64.StdEncoding.EncodeToString(f(b))
	})
}

func flip(b []byte) []byte { b[len(b)/2] ^= 0x01; return b }

func remove(name string) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
}

func writeRaw(name, content string) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRefusesDamagedVaults(t *testing.T) {
	const (
		cv = "contacts.vault"
		cd = ".dek-contacts"
	)
	cases := []mutation{
		{"ciphertext bit flipped", cv, "contacts", domain.ErrIntegrity, "does not decrypt", editBytes(cv, "ciphertext", flip)},
		{"nonce bit flipped", cv, "contacts", domain.ErrIntegrity, "does not decrypt", editBytes(cv, "nonce", flip)},
		{"raw byte flipped in the base64", cv, "contacts", domain.ErrIntegrity, "", rewrite(cv, func(b []byte) []byte {
			i := bytes.Index(b, []byte(`"ciphertext": "`)) + 20
			b[i] ^= 0x01
			return b
		})},
		{"raw byte flipped in the JSON", cv, "contacts", domain.ErrIntegrity, "want a JSON object", rewrite(cv, func(b []byte) []byte {
			b[0] = '['
			return b
		})},
		{"JSON syntax broken", cv, "contacts", domain.ErrIntegrity, "invalid JSON", rewrite(cv, func(b []byte) []byte {
			return bytes.Replace(b, []byte(":"), []byte(";"), 1)
		})},
		{"vault file truncated", cv, "contacts", domain.ErrIntegrity, "truncated", rewrite(cv, func(b []byte) []byte { return b[:len(b)/2] })},
		{"vault file emptied", cv, "contacts", domain.ErrIntegrity, "truncated", writeRaw(cv, "")},
		{"ciphertext shortened", cv, "contacts", domain.ErrIntegrity, "plaintext_size", editBytes(cv, "ciphertext", func(b []byte) []byte { return b[:len(b)-3] })},
		{"ciphertext shorter than the tag", cv, "contacts", domain.ErrIntegrity, "shorter than the 16-byte tag", editBytes(cv, "ciphertext", func(b []byte) []byte { return b[:15] })},
		{"plaintext_size altered", cv, "contacts", domain.ErrIntegrity, "plaintext_size", editJSON(cv, func(m map[string]any) { m["plaintext_size"] = m["plaintext_size"].(float64) + 1 })},
		{"plaintext_size negative", cv, "contacts", domain.ErrIntegrity, "non-negative integer", editJSON(cv, func(m map[string]any) { m["plaintext_size"] = -1 })},
		{"plaintext_size fractional", cv, "contacts", domain.ErrIntegrity, "non-negative integer", editJSON(cv, func(m map[string]any) { m["plaintext_size"] = 1.5 })},
		{"plaintext_size a string", cv, "contacts", domain.ErrIntegrity, "must be a number", editJSON(cv, func(m map[string]any) { m["plaintext_size"] = "12" })},
		{"category member differs from the file name", cv, "contacts", domain.ErrIntegrity, `holds category "list"`, editJSON(cv, func(m map[string]any) { m["category"] = "list" })},
		{"category member null", cv, "contacts", domain.ErrIntegrity, "must be a string, found null", editJSON(cv, func(m map[string]any) { m["category"] = nil })},
		{"unknown member", cv, "contacts", domain.ErrIntegrity, `unknown member "extra"`, editJSON(cv, func(m map[string]any) { m["extra"] = 1 })},
		{"member name in another case", cv, "contacts", domain.ErrIntegrity, `unknown member "Category"`, editJSON(cv, func(m map[string]any) { m["Category"] = m["category"]; delete(m, "category") })},
		{"missing member", cv, "contacts", domain.ErrIntegrity, `no member "plaintext_size"`, editJSON(cv, func(m map[string]any) { delete(m, "plaintext_size") })},
		{"duplicate member", cv, "contacts", domain.ErrIntegrity, `"category" twice`, rewrite(cv, func(b []byte) []byte {
			return bytes.Replace(b, []byte("{"), []byte(`{"category": "contacts",`), 1)
		})},
		{"data after the object", cv, "contacts", domain.ErrIntegrity, "data after", rewrite(cv, func(b []byte) []byte { return append(b, "{}"...) })},
		{"nonce not base64", cv, "contacts", domain.ErrIntegrity, "not standard base64", editJSON(cv, func(m map[string]any) { m["encrypted"].(map[string]any)["nonce"] = "!!!!" })},
		{"nonce with a line break", cv, "contacts", domain.ErrIntegrity, "line break", editJSON(cv, func(m map[string]any) {
			n := m["encrypted"].(map[string]any)["nonce"].(string)
			m["encrypted"].(map[string]any)["nonce"] = n[:8] + "\n" + n[8:]
		})},
		{"nonce without padding", cd, "contacts", domain.ErrIntegrity, "not standard base64", editJSON(cd, func(m map[string]any) {
			m["nonce"] = base64.RawStdEncoding.EncodeToString(make([]byte, 11))
		})},
		{"nonce 11 bytes", cv, "contacts", domain.ErrIntegrity, "nonce is 11 bytes, want 12", editBytes(cv, "nonce", func(b []byte) []byte { return b[:11] })},
		{"key file: sealed key 47 bytes", cd, "contacts", domain.ErrIntegrity, "sealed data key is 47 bytes, want 48", editBytes(cd, "ciphertext", func(b []byte) []byte { return b[:47] })},
		{"key file: sealed key 64 bytes", cd, "contacts", domain.ErrIntegrity, "want 48", editBytes(cd, "ciphertext", func(b []byte) []byte { return append(b, make([]byte, 16)...) })},
		{"key file: bit flipped", cd, "contacts", domain.ErrIntegrity, "does not open although 9 other", editBytes(cd, "ciphertext", flip)},
		{"key file: truncated", cd, "contacts", domain.ErrIntegrity, "truncated", rewrite(cd, func(b []byte) []byte { return b[:len(b)-10] })},
		{"key file: not an object", cd, "contacts", domain.ErrIntegrity, "want a JSON object", writeRaw(cd, `["nonce", "ciphertext"]`)},
		{"key file: too large", cd, "contacts", domain.ErrInvalidInput, "more than the importer's 4096-byte limit", writeRaw(cd, strings.Repeat(" ", legacy.MaxDEKFileSize+1))},
		{"key file missing", cv, "contacts", domain.ErrIntegrity, "no key file .dek-contacts", remove(cd)},
		{"vault file missing", cd, "contacts", domain.ErrIntegrity, "without its data file contacts.vault", remove(cv)},
		{"salt with a line break", ".vault-salt", "", domain.ErrIntegrity, "salt file is 25 bytes", rewrite(".vault-salt", func(b []byte) []byte { return append(b, '\n') })},
		{"salt of 15 bytes", ".vault-salt", "", domain.ErrIntegrity, "want 24", writeRaw(".vault-salt", base64.StdEncoding.EncodeToString(make([]byte, 15)))},
		{"salt not base64", ".vault-salt", "", domain.ErrIntegrity, "not standard base64", writeRaw(".vault-salt", strings.Repeat("*", 24))},
		{"salt missing", "", "", domain.ErrNotFound, "not an aegis-cloak 0.1 vault", remove(".vault-salt")},
		{"vault file is a symbolic link out of the directory", cv, "contacts", domain.ErrInvalidInput, "symbolic link", func(t *testing.T, dir string) {
			outside := filepath.Join(filepath.Dir(dir), "outside.vault")
			if err := os.Rename(filepath.Join(dir, cv), outside); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(outside, filepath.Join(dir, cv)); err != nil {
				t.Fatal(err)
			}
		}},
		{"key file is a symbolic link inside the directory", cd, "contacts", domain.ErrInvalidInput, "symbolic link", func(t *testing.T, dir string) {
			if err := os.Rename(filepath.Join(dir, cd), filepath.Join(dir, "keep")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("keep", filepath.Join(dir, cd)); err != nil {
				t.Fatal(err)
			}
		}},
		{"vault file is a directory", "dir.vault", "dir", domain.ErrInvalidInput, "not a regular file", func(t *testing.T, dir string) {
			writeRaw(".dek-dir", "{}")(t, dir)
			if err := os.Mkdir(filepath.Join(dir, "dir.vault"), 0o700); err != nil {
				t.Fatal(err)
			}
		}},
		{"vault file too large", cv, "contacts", domain.ErrInvalidInput, "more than the importer's 67108864-byte limit", func(t *testing.T, dir string) {
			if err := os.Truncate(filepath.Join(dir, cv), legacy.MaxVaultFileSize+1); err != nil {
				t.Fatal(err)
			}
		}},
		{"file name not UTF-8", "\xff.vault", "\xff", domain.ErrInvalidInput, "not valid UTF-8", func(t *testing.T, dir string) {
			writeRaw("\xff.vault", "{}")(t, dir)
			writeRaw(".dek-\xff", "{}")(t, dir)
		}},
		{"file named .vault", ".vault", "", domain.ErrInvalidInput, "category name is empty", func(t *testing.T, dir string) {
			writeRaw(".vault", "{}")(t, dir)
			writeRaw(".dek-", "{}")(t, dir)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := generated(t)
			tc.change(t, dir)
			before := snapshot(t, dir)
			c, err := legacy.Read(dir, []byte(passphrase))
			if err == nil {
				t.Fatalf("read %d categories, want an error", len(c.Categories))
			}
			checkErr(t, err, dir, tc)
			if after := snapshot(t, dir); !reflect.DeepEqual(before, after) {
				t.Errorf("the legacy directory changed")
			}
		})
	}
}

func checkErr(t *testing.T, err error, dir string, tc mutation) {
	t.Helper()
	if !errors.Is(err, tc.want) {
		t.Errorf("error %q does not wrap %v", err, tc.want)
	}
	if errors.Is(err, domain.ErrWrongPassphrase) {
		t.Errorf("damage reported as a wrong passphrase: %v", err)
	}
	if !strings.Contains(err.Error(), tc.text) {
		t.Errorf("error %q does not say %q", err, tc.text)
	}
	if tc.file == "" {
		return
	}
	var fe *legacy.FileError
	if !errors.As(err, &fe) {
		t.Fatalf("error %q is not a *FileError", err)
	}
	if want := filepath.Join(dir, tc.file); fe.Path != want || !strings.Contains(err.Error(), want) {
		t.Errorf("error %q names %q, want %q", err, fe.Path, want)
	}
	if fe.Category != tc.category {
		t.Errorf("error names category %q, want %q", fe.Category, tc.category)
	}
	if tc.category != "" && !strings.Contains(err.Error(), fmt.Sprintf("category %q", tc.category)) {
		t.Errorf("error %q does not name the category", err)
	}
}

func TestRefusesValuesThatAreNotJSON(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "v")
	plain := map[string][]byte{
		"ok":       []byte("{\n  \"a\": 1\n}"),
		"nan":      []byte("{\n  \"x\": NaN\n}"),
		"inf":      []byte("[\n  1,\n  Infinity\n]"),
		"neg-inf":  []byte("-Infinity"),
		"garbage":  []byte("{\n  \"a\": 1,\n}"),
		"binary":   []byte("\"\xff\xfe\""),
		"nothing":  []byte(""),
		"trailing": []byte("1 2"),
	}
	if err := legacytest.WritePlaintext(dir, passphrase, plain); err != nil {
		t.Fatal(err)
	}
	v, err := legacy.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Each bad category alone, next to a good one (value_test.go checks the
	// JSON checks themselves; these go through the whole reader).
	want := map[string]string{
		"nan":     "holds NaN (line 2, column 8)",
		"inf":     "holds Infinity (line 3, column 3)",
		"garbage": "not valid JSON (line 3, column 1)",
	}
	// The whole vault: Decrypt stops at the first bad category in name order.
	if _, err := v.Decrypt([]byte(passphrase)); err == nil || !strings.Contains(err.Error(), `category "binary"`) {
		t.Errorf("got %v, want the error of the first bad category, \"binary\"", err)
	}
	for name, text := range want {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			one := filepath.Join(t.TempDir(), "v")
			if err := os.Mkdir(one, 0o700); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{".vault-salt", ".dek-ok", "ok.vault", ".dek-" + name, name + ".vault"} {
				b, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(one, f), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, err := legacy.Read(one, []byte(passphrase))
			checkErr(t, err, one, mutation{file: name + ".vault", category: name, want: domain.ErrInvalidInput, text: text})
		})
	}
}

func TestRefusesDirectoriesThatAreNotVaults(t *testing.T) {
	if _, err := legacy.Open(filepath.Join(t.TempDir(), "absent")); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("missing directory: %v, want ErrNotFound", err)
	}
	empty := t.TempDir()
	if _, err := legacy.Open(empty); !errors.Is(err, domain.ErrNotFound) || !strings.Contains(err.Error(), ".vault-salt") {
		t.Errorf("empty directory: %v, want ErrNotFound naming .vault-salt", err)
	}
	if err := os.WriteFile(filepath.Join(empty, ".vault-salt"), []byte(base64.StdEncoding.EncodeToString(make([]byte, 16))), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := legacy.Open(empty); !errors.Is(err, domain.ErrInvalidInput) || !strings.Contains(err.Error(), "no categories") {
		t.Errorf("salt only: %v, want ErrInvalidInput saying no categories", err)
	}
	file := filepath.Join(empty, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := legacy.Open(file); !errors.Is(err, domain.ErrInvalidInput) || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a file: %v, want ErrInvalidInput saying it is not a directory", err)
	}
}
