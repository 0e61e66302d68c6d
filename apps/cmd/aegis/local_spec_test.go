package main_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

const sample = `{
  "journal": {"2024-01-01": "dear diary", "mood": 7},
  "bookmarks": ["https://example.org", "https://go.dev"],
  "settings": {"theme": "dark", "ratio": 1.50}
}
`

var _ = Describe("aegis on a local vault", func() {
	var (
		dir  string
		user runner // passphrase from a file
	)

	BeforeEach(func() {
		dir = GinkgoT().TempDir()
		writeFile(dir, "pass", "correct horse battery staple\n")
		writeFile(dir, "data.json", sample)
		user = runner{Dir: dir, Env: []string{"AEGIS_PASSPHRASE_FILE=" + filepath.Join(dir, "pass")}}
	})

	Context("usage errors (exit 2)", func() {
		It("refuses no command, an unknown command, an unknown flag and missing arguments", func() {
			user.fails(2, "no command given")
			user.fails(2, `unknown command "frobnicate"`, "frobnicate")
			user.fails(2, "unknown flag --nope", "--nope", "ls")
			user.fails(2, "unknown flag --nope", "ls", "--nope")
			user.fails(2, "usage: aegis get CATEGORY", "get")
			user.fails(2, "usage: aegis put CATEGORY", "put")
			user.fails(2, "usage: aegis store", "store")
			user.fails(2, "usage: aegis rm", "rm", "a", "b")
			user.fails(2, "--kdf", "init", "--kdf", "scrypt")
			user.fails(2, "tokens", "tokens")
			user.fails(2, "--remote", "tokens", "fetch", "--count", "3")
		})

		It("asks for a passphrase source when standard input is not a terminal", func() {
			bare := runner{Dir: dir}
			res := bare.fails(2, "no passphrase", "init")
			Expect(res.Stderr).To(ContainSubstring("--passphrase-file"))
			Expect(filepath.Join(dir, "aegis-vault")).NotTo(BeADirectory())
		})

		It("needs an attestation secret for a remote vault", func() {
			user.fails(2, "--attest-secret-file", "--remote", "http://127.0.0.1:1", "ls")
		})
	})

	It("says to run aegis init on a missing vault (exit 5), for every command", func() {
		for _, args := range [][]string{{"ls"}, {"get", "x"}, {"put", "x", "data.json"}, {"store", "data.json"}, {"load"},
			{"rm", "x"}, {"verify", "data.json"}, {"stats"}, {"passwd"}, {"rotate"}} {
			user.fails(5, "run `aegis init`", args...)
		}
	})

	Context("with a vault", func() {
		BeforeEach(func() {
			Expect(user.ok("init")).To(BeEmpty())
		})

		It("refuses a second init (exit 1) and a wrong passphrase (exit 3)", func() {
			user.fails(1, "already exists", "init")
			writeFile(dir, "wrong", "not the passphrase\n")
			user.fails(3, "wrong passphrase", "--passphrase-file", filepath.Join(dir, "wrong"), "ls")
			user.with("AEGIS_PASSPHRASE_FILE=", "AEGIS_PASSPHRASE=nope").fails(3, "wrong passphrase", "load")
		})

		It("takes the passphrase from AEGIS_PASSPHRASE", func() {
			env := runner{Dir: dir, Env: []string{"AEGIS_PASSPHRASE=correct horse battery staple"}}
			Expect(env.ok("ls")).To(BeEmpty())
			other := runner{Dir: dir, Env: []string{"AEGIS_PASSPHRASE=another one for the second vault", "AEGIS_VAULT=" + filepath.Join(dir, "second")}}
			other.ok("init", "--kdf", "argon2id")
			Expect(other.ok("--json", "stats")).To(ContainSubstring(`"kdf": "argon2id"`))
		})

		It("stores, lists, loads, verifies, reports stats, removes and rotates", func() {
			out := user.ok("store", "data.json")
			Expect(out).To(ContainSubstring("stored 3 categories in one commit"))
			Expect(out).To(ContainSubstring("shuffle order"))
			// A directory takes no tokens; the requests are counted as the store got them.
			Expect(out).To(MatchRegexp(`sent \d+ requests in \d+ windows? with 0 cover requests, 0 tokens`))
			Expect(out).To(MatchRegexp(`journal\s+\d+\s+964\s+1024\s*\n`))

			var rep map[string]any
			Expect(json.Unmarshal([]byte(user.ok("--json", "store", "data.json")), &rep)).To(Succeed())
			Expect(rep).To(HaveKey("shuffle_order"))
			Expect(rep).To(HaveKeyWithValue("tokens_used", BeNumerically("==", 0)))
			Expect(rep).To(HaveKeyWithValue("requests", BeNumerically(">=", 5)))
			Expect(rep).To(HaveKey("total_padded_bytes"))
			Expect(rep["categories"]).To(HaveKeyWithValue("settings", HaveKeyWithValue("plaintext_bytes", BeNumerically(">", 0))))

			Expect(user.ok("ls")).To(Equal("bookmarks\njournal\nsettings\n"))
			Expect(user.ok("--json", "ls")).To(MatchJSON(`["bookmarks","journal","settings"]`))
			Expect(user.ok("load")).To(MatchJSON(sample))
			Expect(user.ok("load", "settings")).To(MatchJSON(`{"settings": {"theme": "dark", "ratio": 1.50}}`))
			Expect(user.ok("load", "settings")).To(ContainSubstring("1.50"))
			Expect(user.ok("verify", "data.json")).To(Equal("PASS\tbookmarks\nPASS\tjournal\nPASS\tsettings\n"))
			// Other white space and key order still verify.
			writeFile(dir, "same.json", `{"settings":{"ratio":1.50,"theme":"dark"}}`)
			Expect(user.ok("--json", "verify", "same.json")).To(MatchJSON(`{"settings":"PASS"}`))

			stats := user.ok("stats")
			Expect(stats).To(ContainSubstring("categories:       3"))
			Expect(stats).To(ContainSubstring("pbkdf2-sha256"))
			var st map[string]any
			Expect(json.Unmarshal([]byte(user.ok("--json", "stats")), &st)).To(Succeed())
			Expect(st).To(HaveKeyWithValue("categories", BeNumerically("==", 3)))

			Expect(user.ok("rotate")).To(BeEmpty())
			Expect(user.ok("rotate", "journal")).To(BeEmpty())
			Expect(user.ok("load")).To(MatchJSON(sample))

			Expect(user.ok("rm", "journal")).To(BeEmpty())
			Expect(user.ok("ls")).To(Equal("bookmarks\nsettings\n"))
			user.fails(5, `"journal"`, "rm", "journal")
			user.fails(5, `"journal"`, "load", "journal")
			user.fails(5, `"journal"`, "rotate", "journal")
		})

		It("reports verification failures (exit 1) and invalid JSON with line and column", func() {
			user.ok("store", "data.json")
			writeFile(dir, "changed.json", `{"journal": {"2024-01-01": "dear diary", "mood": 8}, "settings": {"theme": "dark", "ratio": 1.50}, "absent": 1}`)
			res := user.fails(1, "verify: 2 of 3 categories failed", "verify", "changed.json")
			Expect(res.Stdout).To(Equal("FAIL\tabsent\nFAIL\tjournal\nPASS\tsettings\n"))

			writeFile(dir, "bad.json", "{\n  \"a\": 1,\n  \"b\" 2\n}\n")
			user.fails(1, "bad.json:3:7: invalid JSON", "store", "bad.json")
			user.fails(1, "bad.json:3:7: invalid JSON", "verify", "bad.json")
			writeFile(dir, "array.json", `[1, 2]`)
			user.fails(1, "want a JSON object", "store", "array.json")
			writeFile(dir, "trunc.json", "{\"a\": [1,\n")
			user.fails(1, "trunc.json:2:1", "store", "trunc.json")
		})

		It("streams put and get, from files and standard input, and loads a category that is not JSON as a string", func() {
			Expect(user.input([]byte("not json at all")).ok("put", "notes")).To(BeEmpty())
			Expect(user.ok("get", "notes")).To(Equal("not json at all"))
			Expect(user.input([]byte(`{"x":1}`)).ok("put", "doc", "-")).To(BeEmpty())
			Expect(user.ok("load")).To(MatchJSON(`{"doc": {"x": 1}, "notes": "not json at all"}`))
			Expect(user.ok("load", "doc")).To(MatchJSON(`{"doc":{"x":1}}`))

			user.ok("put", "data", "data.json")
			Expect(user.ok("get", "data", "-o", "copy.json")).To(BeEmpty())
			Expect(os.ReadFile(filepath.Join(dir, "copy.json"))).To(Equal([]byte(sample)))

			user.fails(5, `"missing"`, "get", "missing", "-o", "never.json")
			Expect(filepath.Join(dir, "never.json")).NotTo(BeAnExistingFile())
			entries, err := os.ReadDir(dir)
			Expect(err).NotTo(HaveOccurred())
			for _, e := range entries {
				Expect(e.Name()).NotTo(ContainSubstring(".aegis-"))
			}
			user.fails(1, "put", "put", "x", "no-such-file")
		})

		It("changes the passphrase: passwd", func() {
			user.ok("store", "data.json")
			writeFile(dir, "new", "a new passphrase\n")
			Expect(user.ok("passwd", "--new-passphrase-file", filepath.Join(dir, "new"))).To(BeEmpty())
			user.fails(3, "wrong passphrase", "ls")
			newUser := runner{Dir: dir, Env: []string{"AEGIS_PASSPHRASE_FILE=" + filepath.Join(dir, "new")}}
			Expect(newUser.ok("load")).To(MatchJSON(sample))
			Expect(newUser.with("AEGIS_NEW_PASSPHRASE=third: quiet orbit fennel cascade").ok("passwd")).To(BeEmpty())
			Expect(runner{Dir: dir, Env: []string{"AEGIS_PASSPHRASE=third: quiet orbit fennel cascade"}}.ok("ls")).To(ContainSubstring("journal"))
			newUser.fails(2, "no passphrase", "--passphrase-file", "", "passwd")
		})

		It("round-trips 48 MiB through put and get, streamed", func() {
			big := filepath.Join(dir, "big.bin")
			f, err := os.Create(big)
			Expect(err).NotTo(HaveOccurred())
			h := sha256.New()
			_, err = io.CopyN(io.MultiWriter(f, h), rand.Reader, 48<<20)
			Expect(err).NotTo(HaveOccurred())
			Expect(f.Close()).To(Succeed())
			want := h.Sum(nil)

			user.ok("put", "big", big)
			user.ok("get", "big", "-o", filepath.Join(dir, "big.out"))
			g, err := os.Open(filepath.Join(dir, "big.out"))
			Expect(err).NotTo(HaveOccurred())
			defer g.Close()
			h2 := sha256.New()
			_, err = io.Copy(h2, g)
			Expect(err).NotTo(HaveOccurred())
			Expect(h2.Sum(nil)).To(Equal(want))
		})

		It("detects a tampered object (exit 4)", func() {
			objects := filepath.Join(dir, "aegis-vault", "objects")
			before := files(objects)
			payload := make([]byte, 3<<20)
			_, _ = rand.Read(payload)
			user.input(payload).ok("put", "photos")
			var target string
			for p, size := range files(objects) {
				if _, old := before[p]; !old && size == 1<<20 {
					target = p
					break
				}
			}
			Expect(target).NotTo(BeEmpty())
			b, err := os.ReadFile(target)
			Expect(err).NotTo(HaveOccurred())
			b[len(b)/2] ^= 0x01
			Expect(os.WriteFile(target, b, 0o600)).To(Succeed())

			res := user.fails(4, "integrity", "get", "photos", "-o", filepath.Join(dir, "photos.out"))
			Expect(res.Stderr).To(HavePrefix(`aegis: get "photos": `))
			Expect(filepath.Join(dir, "photos.out")).NotTo(BeAnExistingFile())
			user.fails(4, "integrity", "load", "photos")
			Expect(user.ok("ls")).To(Equal("photos\n"))
		})

		It("lets two concurrent writers store 25 categories each", func() {
			var wg sync.WaitGroup
			errs := make(chan string, 50)
			for w := range 2 {
				wg.Add(1)
				go func() {
					defer GinkgoRecover()
					defer wg.Done()
					for i := range 25 {
						name := fmt.Sprintf("writer%d-cat%02d", w, i)
						res := user.input([]byte(fmt.Sprintf(`{"w":%d,"i":%d}`, w, i))).run("put", name)
						if res.Code != 0 {
							errs <- name + ": " + res.Stderr
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			var failed []string
			for e := range errs {
				failed = append(failed, e)
			}
			Expect(failed).To(BeEmpty())
			names := strings.Fields(user.ok("ls"))
			Expect(names).To(HaveLen(50))
			var all map[string]map[string]int
			Expect(json.Unmarshal([]byte(user.ok("load")), &all)).To(Succeed())
			Expect(all).To(HaveLen(50))
			Expect(all["writer1-cat24"]).To(Equal(map[string]int{"w": 1, "i": 24}))
			sort.Strings(names)
			Expect(names[0]).To(Equal("writer0-cat00"))
		})
	})
})

// files returns every regular file under dir with its size.
func files(dir string) map[string]int64 {
	out := map[string]int64{}
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			out[p] = info.Size()
		}
		return nil
	})
	return out
}

var _ = bytes.Equal
