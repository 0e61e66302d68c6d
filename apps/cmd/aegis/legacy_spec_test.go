package main_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/adapters/legacy/legacytest"
)

const legacyPass = "the old Python passphrase"

// legacyValues are 26 categories as a user of aegis-cloak 0.1 might have kept
// them: Unicode in names and values, nested and empty containers, numbers
// written in several ways, and one value of about 200 KB.
func legacyValues() map[string][]byte {
	v := map[string][]byte{
		"contacts":        []byte(`{"alice": {"email": "alice@example.org", "phones": ["+1 555 0100"]}, "bob": {"email": null, "phones": []}}`),
		"diary":           []byte(`{"2024-01-01": "dear diary", "mood": 7, "tags": ["new year"]}`),
		"links":           []byte(`["https://example.org", "https://go.dev"]`),
		"preferences":     []byte(`{"theme": "dark", "ratio": 1.5, "flags": {"beta": true, "telemetry": false}}`),
		"greetings":       []byte(`{"el": "Καλημέρα", "zh": "你好，世界", "he": "שלום", "emoji": "🔐😀", "math": "𝔘𝔫𝔦"}`),
		"escapes":         []byte(`"quote \" backslash \\ tab \t newline \n control \u0001 nul \u0000"`),
		"empty-object":    []byte(`{}`),
		"empty-array":     []byte(`[]`),
		"empty-string":    []byte(`""`),
		"null":            []byte(`null`),
		"true":            []byte(`true`),
		"integer":         []byte(`-42`),
		"big-integer":     []byte(`12345678901234567890`),
		"float":           []byte(`3.141592653589793`),
		"exponent":        []byte(`6.02e+23`),
		"nested":          []byte(`{"a": {"b": {"c": {"d": [1, [2, [3, {"e": {}}]]]}}}}`),
		"mixed-list":      []byte(`[1, "two", 3.0, null, true, {"six": [6]}, []]`),
		"notes über café": []byte(`{"text": "a name that is not ASCII"}`),
		"日記":              []byte(`{"day": 1, "entry": "今日は晴れ"}`),
		"with spaces":     []byte(`"a name with spaces"`),
		"dots.in.name":    []byte(`{"x": 1}`),
		"-leading-dash":   []byte(`{"y": 2}`),
		"passwords":       []byte(`{"example.org": {"user": "alice", "password": "hunter2"}}`),
		"recipes":         []byte(`[{"name": "pancakes", "eggs": 2, "steps": ["mix", "fry"]}]`),
		"🎵 playlist":      []byte(`["track 1", "track 2"]`),
	}
	var large strings.Builder
	large.WriteString(`{"entries": [`)
	for i := range 2000 {
		if i > 0 {
			large.WriteString(", ")
		}
		fmt.Fprintf(&large, `{"seq": %d, "text": "entry %d: lorem ipsum dolor sit amet ✓", "score": %d.5}`, i, i, i%97)
	}
	large.WriteString(`]}`)
	v["large"] = []byte(large.String())
	return v
}

// asObject is the JSON object {category: value} of values.
func asObject(values map[string][]byte) string {
	m := make(map[string]json.RawMessage, len(values))
	for k, v := range values {
		m[k] = v
	}
	b, err := json.Marshal(m)
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}

// dirState describes every entry under dir: its mode, size and modification time,
// the SHA-256 of a file's bytes, a symbolic link's target.
func dirState(dir string) map[string]string {
	GinkgoHelper()
	out := map[string]string{}
	Expect(filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
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
		out[p] = desc
		return nil
	})).To(Succeed())
	return out
}

var (
	legacyOnce sync.Once
	legacyDir  string
	legacyErr  error
)

// generatedLegacy returns a legacy vault of legacyValues written by legacytest
// once per test process (its PBKDF2 is slow on purpose, more so under the race
// detector); specs work on copies. It lives next to the built binary, whose
// directory the suite removes at the end.
func generatedLegacy() string {
	GinkgoHelper()
	legacyOnce.Do(func() {
		dir := filepath.Join(filepath.Dir(binary), fmt.Sprintf("legacy-vault-%d", GinkgoParallelProcess()))
		legacyErr = legacytest.Write(dir, legacyPass, legacyValues())
		legacyDir = dir
	})
	Expect(legacyErr).NotTo(HaveOccurred())
	return legacyDir
}

var _ = Describe("aegis import-legacy", func() {
	var (
		dir      string
		user     runner // current vault's passphrase from a file, legacy one from the environment
		legacy   string // a legacy vault of legacyValues
		values   map[string][]byte
		snapshot map[string]string
	)

	BeforeEach(func() {
		dir = GinkgoT().TempDir()
		writeFile(dir, "pass", "correct horse battery staple\n")
		writeFile(dir, "legacy-pass", legacyPass+"\n")
		writeFile(dir, "data.json", sample)
		user = runner{Dir: dir, Env: []string{
			"AEGIS_PASSPHRASE_FILE=" + filepath.Join(dir, "pass"),
			"AEGIS_LEGACY_PASSPHRASE_FILE=" + filepath.Join(dir, "legacy-pass"),
		}}
		values = legacyValues()
		legacy = filepath.Join(dir, "old-vault")
		Expect(os.CopyFS(legacy, os.DirFS(generatedLegacy()))).To(Succeed())
		snapshot = dirState(legacy)
		user.ok("init")
	})

	// unchanged expects the legacy directory to be exactly as it was written.
	unchanged := func() {
		GinkgoHelper()
		Expect(dirState(legacy)).To(Equal(snapshot), "the legacy directory changed")
	}

	It("imports a legacy vault of 26 categories exactly, in one commit, and leaves the directory unchanged", func() {
		Expect(values).To(HaveLen(26))
		out := user.ok("import-legacy", legacy)
		Expect(out).To(ContainSubstring("imported 26 categories from " + legacy + " in one commit"))
		Expect(out).To(MatchRegexp(`in one commit: 26 objects, \d+ requests; 26 read back and verified`))
		Expect(out).To(MatchRegexp(`(?m)^\s+日記\s+\d+\s+\d+\s+964\s+1024\s*$`))
		Expect(out).To(ContainSubstring("was not changed"))
		Expect(out).To(ContainSubstring("delete it securely"))

		Expect(strings.Split(strings.TrimSpace(user.ok("ls")), "\n")).To(HaveLen(26))
		Expect(user.ok("load")).To(MatchJSON(asObject(values)))
		Expect(user.ok("load", "big-integer")).To(ContainSubstring("12345678901234567890"))
		// Non-ASCII comes back as UTF-8, not as Python's \u escapes.
		Expect(user.ok("load", "greetings")).To(ContainSubstring("Καλημέρα"))
		Expect(user.ok("--json", "stats")).To(ContainSubstring(`"categories": 26`))
		unchanged()

		// Importing again would overwrite: refused, naming the categories, unless --replace.
		res := user.fails(1, `the vault already holds 26 categories "-leading-dash"`, "import-legacy", legacy)
		Expect(res.Stderr).To(ContainSubstring("nothing was imported (give --replace to overwrite them)"))
		var rep map[string]any
		Expect(json.Unmarshal([]byte(user.ok("--json", "import-legacy", "--replace", legacy)), &rep)).To(Succeed())
		Expect(rep).To(HaveKeyWithValue("imported", HaveLen(26)))
		Expect(rep).To(HaveKeyWithValue("replaced", HaveLen(26)))
		Expect(rep).To(HaveKeyWithValue("verified", BeNumerically("==", 26)))
		Expect(rep).To(HaveKeyWithValue("report", HaveKeyWithValue("objects", BeNumerically("==", 26))))
		Expect(user.ok("load")).To(MatchJSON(asObject(values)))
		unchanged()
	})

	It("imports the vault written by the Python release (committed fixture) exactly", func() {
		committed, err := filepath.Abs("../../../adapters/legacy/testdata/py-vault")
		Expect(err).NotTo(HaveOccurred())
		// Committed under file names valid in a module zip: copied under the real ones.
		fixture := filepath.Join(GinkgoT().TempDir(), "py-vault")
		Expect(legacytest.CopyFixture(committed, fixture)).To(Succeed())
		before := dirState(fixture)
		want, err := os.ReadFile(committed + ".expected.json")
		Expect(err).NotTo(HaveOccurred())
		out := user.ok("import-legacy", "--legacy-passphrase-file", committed+".pass", fixture)
		Expect(out).To(ContainSubstring("imported 12 categories"))
		Expect(user.ok("load")).To(MatchJSON(want))
		Expect(user.ok("load", "notes über café 📝")).To(MatchJSON(`{"notes über café 📝": {"text": "a category whose name is not ASCII"}}`))
		Expect(dirState(fixture)).To(Equal(before))
	})

	It("adds to what the vault holds and lists what it left alone", func() {
		user.ok("store", "data.json")
		writeFile(legacy, "README.txt", "not part of the vault")
		snapshot = dirState(legacy)
		out := user.ok("import-legacy", legacy)
		Expect(out).To(ContainSubstring(`left alone (not part of a legacy vault): "README.txt"`))
		all := map[string]json.RawMessage{}
		Expect(json.Unmarshal([]byte(user.ok("load")), &all)).To(Succeed())
		Expect(all).To(HaveLen(29))
		Expect(user.ok("load", "journal", "bookmarks", "settings")).To(MatchJSON(sample))
		unchanged()
	})

	Context("imports nothing", func() {
		// nothingImported expects the current vault to hold only data.json.
		nothingImported := func() {
			GinkgoHelper()
			Expect(user.ok("load")).To(MatchJSON(sample))
			unchanged()
		}

		BeforeEach(func() {
			user.ok("store", "data.json")
		})

		It("on a wrong legacy passphrase (exit 3)", func() {
			wrong := user.with("AEGIS_LEGACY_PASSPHRASE_FILE=", "AEGIS_LEGACY_PASSPHRASE=not the old one")
			res := wrong.fails(3, "aegis: import-legacy: legacy vault "+legacy+": wrong passphrase", "import-legacy", legacy)
			Expect(res.Stdout).To(BeEmpty())
			writeFile(dir, "wrong", "also wrong\n")
			user.fails(3, "wrong passphrase", "import-legacy", "--legacy-passphrase-file", filepath.Join(dir, "wrong"), legacy)
			nothingImported()
		})

		It("on a wrong passphrase of the current vault (exit 3), after checking the legacy one", func() {
			writeFile(dir, "wrong", "not the current one\n")
			user.fails(3, "aegis: open ./aegis-vault: wrong passphrase", "--passphrase-file", filepath.Join(dir, "wrong"), "import-legacy", legacy)
			nothingImported()
		})

		DescribeTable("on a damaged legacy file, naming it and its category",
			func(code int, file, category, why string, damage func(path string)) {
				path := filepath.Join(legacy, file)
				damage(path)
				snapshot = dirState(legacy)
				res := user.fails(code, why, "import-legacy", legacy)
				Expect(res.Stderr).To(ContainSubstring(path))
				if category != "" {
					Expect(res.Stderr).To(ContainSubstring(fmt.Sprintf("category %q", category)))
				}
				Expect(res.Stderr).To(HavePrefix("aegis: import-legacy: "))
				Expect(res.Stdout).To(BeEmpty())
				nothingImported()
			},
			Entry("a bit flipped in the ciphertext", 4, "diary.vault", "diary", "does not decrypt", editSealed("ciphertext", func(b []byte) []byte { b[len(b)/2] ^= 1; return b })),
			Entry("a bit flipped in a key", 4, ".dek-diary", "diary", "the key file was altered", editSealed("ciphertext", func(b []byte) []byte { b[3] ^= 0x80; return b })),
			Entry("a truncated data file", 4, "large.vault", "large", "truncated", func(p string) { truncateTo(p, 0.6) }),
			Entry("a truncated key file", 4, ".dek-日記", "日記", "truncated", func(p string) { truncateTo(p, 0.5) }),
			Entry("a shortened ciphertext", 4, "preferences.vault", "preferences", "plaintext_size", editSealed("ciphertext", func(b []byte) []byte { return b[:len(b)-1] })),
			Entry("bad base64", 4, "contacts.vault", "contacts", "not standard base64", func(p string) { replaceInFile(p, `"nonce": "`, `"nonce": "*`) }),
			Entry("a nonce of the wrong size", 4, "contacts.vault", "contacts", "nonce is 15 bytes, want 12", editSealed("nonce", func(b []byte) []byte { return append(b, 1, 2, 3) })),
			Entry("a category member that is not the file's", 4, "diary.vault", "diary", `holds category "links"`, func(p string) { replaceInFile(p, `"category": "diary"`, `"category": "links"`) }),
			Entry("an unknown member", 4, "diary.vault", "diary", `unknown member "padding"`, func(p string) { replaceInFile(p, `{`, `{"padding": 0, `) }),
			Entry("a deleted key file", 4, "notes über café.vault", "notes über café", "no key file .dek-notes über café", func(p string) {
				Expect(os.Remove(filepath.Join(filepath.Dir(p), ".dek-notes über café"))).To(Succeed())
			}),
			Entry("a deleted data file", 4, ".dek-recipes", "recipes", "without its data file recipes.vault", func(p string) {
				Expect(os.Remove(filepath.Join(filepath.Dir(p), "recipes.vault"))).To(Succeed())
			}),
			Entry("a salt file with a line break", 4, ".vault-salt", "", "salt file is 25 bytes", func(p string) { appendToFile(p, "\n") }),
			Entry("a data file that is a symbolic link", 1, "float.vault", "float", "symbolic link", func(p string) {
				outside := filepath.Join(filepath.Dir(filepath.Dir(p)), "elsewhere.vault")
				Expect(os.Rename(p, outside)).To(Succeed())
				Expect(os.Symlink(outside, p)).To(Succeed())
			}),
		)

		It("on a value Python wrote that is not JSON (NaN), naming the category (exit 1)", func() {
			nan := filepath.Join(dir, "nan-vault")
			Expect(legacytest.WritePlaintext(nan, legacyPass, map[string][]byte{
				"fine":    []byte("{\n  \"a\": 1\n}"),
				"metrics": []byte("{\n  \"ratio\": NaN\n}"),
			})).To(Succeed())
			user.fails(1, `category "metrics": `+filepath.Join(nan, "metrics.vault")+": the value holds NaN (line 2, column 12)", "import-legacy", nan)
			nothingImported()
		})

		It("when the directory is not a legacy vault (exit 5) or missing", func() {
			user.fails(5, "has no .vault-salt: it is not an aegis-cloak 0.1 vault", "import-legacy", dir)
			user.fails(5, "does not exist", "import-legacy", filepath.Join(dir, "absent"))
			nothingImported()
		})
	})

	It("refuses missing arguments and passphrase sources (exit 2), and needs a current vault (exit 5)", func() {
		user.fails(2, "usage: aegis import-legacy DIR", "import-legacy")
		user.fails(2, "usage: aegis import-legacy DIR", "import-legacy", legacy, "extra")
		bare := runner{Dir: dir, Env: []string{"AEGIS_PASSPHRASE_FILE=" + filepath.Join(dir, "pass")}}
		bare.fails(2, "give --legacy-passphrase-file or AEGIS_LEGACY_PASSPHRASE", "import-legacy", legacy)
		user.with("AEGIS_LEGACY_PASSPHRASE_FILE=", "AEGIS_LEGACY_PASSPHRASE=").fails(2, "AEGIS_LEGACY_PASSPHRASE is set but empty", "import-legacy", legacy)
		user.with("AEGIS_VAULT="+filepath.Join(dir, "no-vault")).fails(5, "run `aegis init`", "import-legacy", legacy)
		// The legacy passphrase from the environment works too.
		env := user.with("AEGIS_LEGACY_PASSPHRASE_FILE=", "AEGIS_LEGACY_PASSPHRASE="+legacyPass)
		Expect(env.ok("import-legacy", legacy)).To(ContainSubstring("imported 26 categories"))
		unchanged()
	})

	It("asks for both passphrases on a terminal, legacy first, without echo", func() {
		out, code := onTerminal(dir, []string{legacyPass, "correct horse battery staple"}, "import-legacy", legacy)
		Expect(code).To(Equal(0), out)
		Expect(out).To(ContainSubstring("Legacy vault passphrase: "))
		Expect(strings.Index(out, "Legacy vault passphrase: ")).To(BeNumerically("<", strings.Index(out, "\nPassphrase: ")))
		Expect(out).NotTo(ContainSubstring(legacyPass))
		Expect(out).To(ContainSubstring("imported 26 categories"))
		unchanged()
	})
})

// editSealed decodes the base64 of member (in "encrypted" of a data file, or
// at the top of a key file), lets f change the bytes and writes the file back.
func editSealed(member string, f func([]byte) []byte) func(string) {
	return func(path string) {
		GinkgoHelper()
		raw, err := os.ReadFile(path)
		Expect(err).NotTo(HaveOccurred())
		var m map[string]any
		Expect(json.Unmarshal(raw, &m)).To(Succeed())
		obj := m
		if enc, ok := m["encrypted"].(map[string]any); ok {
			obj = enc
		}
		b, err := base64.StdEncoding.DecodeString(obj[member].(string))
		Expect(err).NotTo(HaveOccurred())
		obj[member] = base64.StdEncoding.EncodeToString(f(b))
		out, err := json.MarshalIndent(m, "", "  ")
		Expect(err).NotTo(HaveOccurred())
		Expect(os.WriteFile(path, out, 0o600)).To(Succeed())
	}
}

func truncateTo(path string, keep float64) {
	GinkgoHelper()
	info, err := os.Stat(path)
	Expect(err).NotTo(HaveOccurred())
	Expect(os.Truncate(path, int64(float64(info.Size())*keep))).To(Succeed())
}

func replaceInFile(path, old, new string) {
	GinkgoHelper()
	b, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	Expect(string(b)).To(ContainSubstring(old))
	Expect(os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o600)).To(Succeed())
}

func appendToFile(path, s string) {
	GinkgoHelper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	Expect(err).NotTo(HaveOccurred())
	_, err = f.WriteString(s)
	Expect(err).NotTo(HaveOccurred())
	Expect(f.Close()).To(Succeed())
}
