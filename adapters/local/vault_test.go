package local_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/adapters/fsblob"
	"github.com/ai-pantheon/aegis/adapters/local"
	"github.com/ai-pantheon/aegis/adapters/memblob"
	"github.com/ai-pantheon/aegis/crypto/suite"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/vault"
)

var hexName = regexp.MustCompile(`^[0-9a-f]{64}$`)

var _ = Describe("Vault", func() {
	var (
		ctx   context.Context
		store *memblob.Store
		cfg   vault.Config
		pass  []byte
		v     *vault.Vault
	)

	BeforeEach(func() {
		ctx = context.Background()
		store = memblob.Open()
		cfg = vault.Config{Store: store, Crypto: testCrypto()}
		pass = []byte("correct horse battery staple")
		var err error
		v, err = vault.Create(ctx, cfg, pass)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { v.Close() })
	})

	reopen := func() *vault.Vault {
		w, err := vault.Open(ctx, cfg, pass)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { w.Close() })
		return w
	}

	Describe("storing and loading", func() {
		DescribeTable("round-trips payloads of every size class",
			func(n int) {
				data := payload(n, byte(n))
				Expect(v.Store(ctx, "c", data)).To(Succeed())
				Expect(reopen().Load(ctx, "c")).To(Equal(data))
			},
			Entry("empty", 0), Entry("1 byte", 1), Entry("just under 1 KiB", 960), Entry("just over 1 KiB", 961),
			Entry("60 KiB", 60*1024), Entry("exactly one full chunk", domain.MiB-64), Entry("one byte over a chunk", domain.MiB-63),
			Entry("3 MiB", 3*domain.MiB+12345),
		)

		It("stores every object at exactly a bucket size under a random-looking name", func() {
			for i, n := range []int{1, 500, 3000, 20000, 100000, 900000, 3 * domain.MiB} {
				Expect(v.Store(ctx, catName(i), payload(n, 1))).To(Succeed())
			}
			objs := snapshot(ctx, store)
			sizes := domain.DefaultBuckets()
			for id, b := range objs {
				Expect(sizes.Allowed(len(b))).To(BeTrue(), "object %s has %d bytes", id, len(b))
				Expect(hexName.MatchString(id.String())).To(BeTrue())
			}
		})

		It("leaks no category name or plaintext into object names or bodies", func() {
			secret := "the-plaintext-marker-0123456789"
			Expect(v.StoreAll(ctx, map[string][]byte{
				"contacts": []byte(strings.Repeat(secret, 10)),
				"journal":  []byte(secret),
			})).To(Succeed())
			for id, b := range snapshot(ctx, store) {
				for _, name := range []string{"contacts", "journal"} {
					h := sha256.Sum256([]byte(name))
					Expect(containsAny([]byte(id.String()), name)).To(BeFalse())
					Expect(containsAny(b, name, secret, string(h[:]))).To(BeFalse())
					Expect(id[:]).NotTo(Equal(h[:]))
				}
			}
		})

		It("uses fresh object names when a category is rewritten and removes the old ones", func() {
			Expect(v.Store(ctx, "c", []byte("one"))).To(Succeed())
			before := snapshot(ctx, store)
			Expect(v.Store(ctx, "c", []byte("two"))).To(Succeed())
			after := snapshot(ctx, store)
			Expect(len(after)).To(Equal(len(before)))
			for id := range after {
				if id != vault.HeaderID("") {
					Expect(before).NotTo(HaveKey(id))
				}
			}
			Expect(v.Load(ctx, "c")).To(Equal([]byte("two")))
		})

		It("accepts any UTF-8 name, slashes and dots included, without creating paths", func() {
			names := []string{"a/b/c", "..", "../../etc/passwd", "日記 ✓", strings.Repeat("n", domain.MaxCategoryLen)}
			for i, n := range names {
				Expect(v.Store(ctx, n, payload(10, byte(i)))).To(Succeed())
			}
			w := reopen()
			Expect(w.Categories(ctx)).To(ConsistOf(names))
			for i, n := range names {
				Expect(w.Load(ctx, n)).To(Equal(payload(10, byte(i))))
			}
		})

		DescribeTable("refuses bad category names and changes nothing",
			func(name, why string) {
				before := snapshot(ctx, store)
				err := v.Store(ctx, name, []byte("x"))
				Expect(err).To(MatchError(domain.ErrInvalidInput))
				Expect(err.Error()).To(ContainSubstring(why))
				Expect(snapshot(ctx, store)).To(Equal(before))
			},
			Entry("empty", "", "empty"),
			Entry("NUL", "a\x00b", "NUL"),
			Entry("10 KB of text", strings.Repeat("x", 10000), "10000 bytes"),
			Entry("invalid UTF-8", "\xff\xfe", "UTF-8"),
		)

		It("pads with the Padmé policy when asked, and reads such a vault under any policy", func() {
			cfg.Name = "padme"
			cfg.SharedStore = true
			cfg.Padding = domain.DefaultPadme()
			w, err := vault.Create(ctx, cfg, pass)
			Expect(err).NotTo(HaveOccurred())
			defer w.Close()
			before := snapshot(ctx, store)
			Expect(w.Store(ctx, "c", payload(5000, 5))).To(Succeed())
			for _, id := range newIDs(before, snapshot(ctx, store)) {
				n := len(must(store.Get(ctx, id)))
				Expect(cfg.Padding.Allowed(n)).To(BeTrue(), "%d bytes", n)
			}
			cfg.Padding = nil
			Expect(reopen().Load(ctx, "c")).To(Equal(payload(5000, 5)))
		})

		It("reports a missing category as not found", func() {
			_, err := v.Load(ctx, "nope")
			Expect(err).To(MatchError(domain.ErrNotFound))
			Expect(v.Delete(ctx, "nope")).To(MatchError(domain.ErrNotFound))
			Expect(v.RotateKey(ctx, "nope")).To(MatchError(domain.ErrNotFound))
		})
	})

	Describe("reading", func() {
		It("fetches a multi-chunk category's objects in a random order", func() {
			rec := &recorder{BlobStore: store}
			cfg.Store = rec
			w := reopen()
			Expect(w.Put(ctx, "big", bytes.NewReader(payload(5*domain.MiB, 9)))).To(Succeed())
			chunks := slices.Clone(rec.puts[:len(rec.puts)-1]) // streamed in chunk order, then the manifest
			Expect(len(chunks)).To(BeNumerically(">=", 6))
			position := map[domain.ObjectID]int{}
			for i, id := range chunks {
				position[id] = i
			}
			gets := &getRecorder{BlobStore: store}
			cfg.Store = gets
			r := reopen()
			orders := map[string]bool{}
			for range 20 {
				gets.gets = nil
				Expect(r.Load(ctx, "big")).To(Equal(payload(5*domain.MiB, 9)))
				var order []int
				for _, id := range gets.gets {
					if p, ok := position[id]; ok {
						order = append(order, p)
					}
				}
				Expect(order).To(HaveLen(len(chunks)))
				orders[fmt.Sprint(order)] = true
			}
			// 20 loads of a window of 6+ chunks: the chance of fewer than 2 distinct
			// orders under a uniform shuffle is below 720^-19.
			Expect(len(orders)).To(BeNumerically(">=", 2))
		})
	})

	Describe("StoreAll", func() {
		It("commits a batch with one manifest swap and writes its objects in a random order", func() {
			rec := &recorder{BlobStore: store}
			cfg.Store = rec
			w := reopen()
			batch := map[string][]byte{}
			for i := range 40 {
				batch[catName(i)] = payload(100+i, byte(i))
			}
			epoch := must(w.Stats(ctx)).Epoch
			Expect(w.StoreAll(ctx, batch)).To(Succeed())
			Expect(must(w.Stats(ctx)).Epoch).To(Equal(epoch + 1))
			Expect(reopen().LoadAll(ctx)).To(Equal(batch))
			Expect(rec.puts).To(HaveLen(40 + 1)) // 40 data objects and one manifest object
		})

		It("stores nothing when one name in the batch is invalid", func() {
			before := snapshot(ctx, store)
			Expect(v.StoreAll(ctx, map[string][]byte{"good": []byte("x"), "": []byte("y")})).To(MatchError(domain.ErrInvalidInput))
			Expect(snapshot(ctx, store)).To(Equal(before))
			Expect(v.StoreAll(ctx, nil)).To(MatchError(domain.ErrInvalidInput))
		})
	})

	Describe("passphrases", func() {
		It("refuses a wrong passphrase with its own error and leaves the store unchanged", func() {
			Expect(v.Store(ctx, "c", []byte("data"))).To(Succeed())
			before := snapshot(ctx, store)
			_, err := vault.Open(ctx, cfg, []byte("wrong"))
			Expect(err).To(MatchError(domain.ErrWrongPassphrase))
			Expect(err).NotTo(MatchError(domain.ErrIntegrity))
			Expect(snapshot(ctx, store)).To(Equal(before))
		})

		It("changes the passphrase by re-wrapping keys only", func() {
			Expect(v.Store(ctx, "big", payload(3*domain.MiB, 3))).To(Succeed())
			Expect(v.Store(ctx, "small", []byte("s"))).To(Succeed())
			before := snapshot(ctx, store)
			Expect(v.ChangePassphrase(ctx, []byte("new passphrase"))).To(Succeed())
			after := snapshot(ctx, store)
			// Only the header and the manifest changed: every data object is untouched.
			changed := 0
			for id, b := range before {
				if nb, ok := after[id]; !ok || !bytes.Equal(nb, b) {
					changed++
				}
			}
			Expect(changed).To(Equal(2))
			_, err := vault.Open(ctx, cfg, pass)
			Expect(err).To(MatchError(domain.ErrWrongPassphrase))
			pass = []byte("new passphrase")
			w := reopen()
			Expect(w.Load(ctx, "big")).To(Equal(payload(3*domain.MiB, 3)))
			Expect(w.Load(ctx, "small")).To(Equal([]byte("s")))
		})

		It("survives a crash at every step of a passphrase change: the old or the new passphrase opens it", func() {
			Expect(v.StoreAll(ctx, map[string][]byte{"a": []byte("alpha"), "b": payload(5000, 2)})).To(Succeed())
			base := snapshot(ctx, store)
			for limit := int64(0); ; limit++ {
				mem := memblob.Open()
				for id, b := range base {
					Expect(mem.Put(ctx, id, b)).To(Succeed())
				}
				crash := &crashStore{inner: mem, limit: limit}
				w, err := vault.Open(ctx, vault.Config{Store: crash, Crypto: testCrypto()}, pass)
				if err != nil {
					Expect(err).To(MatchError(errCrash))
					continue
				}
				err = w.ChangePassphrase(ctx, []byte("next"))
				w.Close()
				opened := 0
				for _, p := range []string{string(pass), "next"} {
					x, err := vault.Open(ctx, vault.Config{Store: mem, Crypto: testCrypto()}, []byte(p))
					if err == nil {
						Expect(x.Load(ctx, "a")).To(Equal([]byte("alpha")))
						Expect(x.Load(ctx, "b")).To(Equal(payload(5000, 2)))
						x.Close()
						opened++
					} else {
						Expect(err).To(MatchError(domain.ErrWrongPassphrase))
					}
				}
				Expect(opened).To(Equal(1), "crash after %d operations", limit)
				if err == nil {
					break // the change ran to completion without reaching the crash point
				}
			}
		})

		It("keeps KDF parameters out of range from being used", func() {
			// The test suite's vault uses fewer iterations than the product floor allows.
			_, err := vault.Open(ctx, vault.Config{Store: store, Crypto: suite.Default()}, pass)
			Expect(err).To(MatchError(domain.ErrKDFParams))
		})

		It("creates and opens an Argon2id vault", func() {
			cfg.Name = "argon"
			cfg.SharedStore = true
			cfg.KDF = domain.KDFArgon2id
			w, err := vault.Create(ctx, cfg, pass)
			Expect(err).NotTo(HaveOccurred())
			Expect(w.Store(ctx, "c", []byte("x"))).To(Succeed())
			w.Close()
			Expect(reopen().KDF().Name).To(Equal(domain.KDFArgon2id))
		})
	})

	Describe("integrity", func() {
		BeforeEach(func() {
			Expect(v.StoreAll(ctx, map[string][]byte{
				"one": payload(100, 1), "two": payload(5000, 2), "three": payload(2*domain.MiB, 3),
			})).To(Succeed())
		})

		objectsOf := func() map[domain.ObjectID]string {
			// Find which category each data object belongs to by deleting it in a copy.
			owner := map[domain.ObjectID]string{}
			for id, b := range snapshot(ctx, store) {
				if id == vault.HeaderID("") {
					continue
				}
				Expect(store.Delete(ctx, id)).To(Succeed())
				w, err := vault.Open(ctx, cfg, pass)
				if err != nil {
					owner[id] = "manifest"
				} else {
					for _, c := range must(w.Categories(ctx)) {
						if _, err := w.Load(ctx, c); err != nil {
							owner[id] = c
						}
					}
					w.Close()
				}
				Expect(store.Put(ctx, id, b)).To(Succeed())
			}
			return owner
		}

		It("fails exactly the affected category when any byte of a data object flips", func() {
			owner := objectsOf()
			for id, cat := range owner {
				if cat == "manifest" {
					continue
				}
				orig := must(store.Get(ctx, id))
				for _, pos := range []int{0, 1, 12, 43, 44, 45, len(orig) / 2, len(orig) - 17, len(orig) - 16, len(orig) - 1} {
					bad := bytes.Clone(orig)
					bad[pos] ^= 0x80
					Expect(store.Put(ctx, id, bad)).To(Succeed())
					w := reopen()
					for _, c := range []string{"one", "two", "three"} {
						_, err := w.Load(ctx, c)
						if c == cat {
							Expect(err).To(MatchError(domain.ErrIntegrity), "flip at %d of %s", pos, c)
						} else {
							Expect(err).NotTo(HaveOccurred())
						}
					}
				}
				Expect(store.Put(ctx, id, orig)).To(Succeed())
			}
		})

		It("reports a flipped header or manifest byte as corruption, not as a wrong passphrase", func() {
			owner := objectsOf()
			owner[vault.HeaderID("")] = "header"
			for id, what := range owner {
				if what != "manifest" && what != "header" {
					continue
				}
				orig := must(store.Get(ctx, id))
				for _, pos := range []int{0, 9, 50, 100, len(orig) - 1} {
					bad := bytes.Clone(orig)
					bad[pos] ^= 1
					Expect(store.Put(ctx, id, bad)).To(Succeed())
					_, err := vault.Open(ctx, cfg, pass)
					Expect(err).To(MatchError(domain.ErrIntegrity), "%s byte %d", what, pos)
				}
				Expect(store.Put(ctx, id, orig)).To(Succeed())
			}
		})

		It("detects objects swapped between categories", func() {
			Expect(v.Store(ctx, "uno", payload(100, 7))).To(Succeed())
			var oneID, unoID domain.ObjectID
			for id, c := range objectsOf() {
				switch c {
				case "one":
					oneID = id
				case "uno":
					unoID = id
				}
			}
			a, b := must(store.Get(ctx, oneID)), must(store.Get(ctx, unoID))
			Expect(len(a)).To(Equal(len(b)))
			Expect(store.Put(ctx, oneID, b)).To(Succeed())
			Expect(store.Put(ctx, unoID, a)).To(Succeed())
			w := reopen()
			for _, c := range []string{"one", "uno"} {
				_, err := w.Load(ctx, c)
				Expect(err).To(MatchError(domain.ErrIntegrity))
			}
			Expect(w.Load(ctx, "two")).To(Equal(payload(5000, 2)))
		})

		It("detects an old version of a category replayed under the new version's name", func() {
			before := snapshot(ctx, store)
			Expect(v.Store(ctx, "solo", []byte("version one"))).To(Succeed())
			mid := snapshot(ctx, store)
			Expect(v.Store(ctx, "solo", []byte("version two"))).To(Succeed())
			after := snapshot(ctx, store)
			replayed := 0
			for _, id := range newIDs(mid, after) {
				for _, old := range newIDs(before, mid) {
					cur := after[id]
					Expect(store.Put(ctx, id, mid[old])).To(Succeed())
					if _, err := vault.Open(ctx, cfg, pass); err == nil {
						_, err := reopen().Load(ctx, "solo")
						Expect(err).To(MatchError(domain.ErrIntegrity))
						replayed++
					}
					Expect(store.Put(ctx, id, cur)).To(Succeed())
				}
			}
			Expect(replayed).To(BeNumerically(">=", 1))
		})

		It("detects a missing chunk of a multi-chunk category", func() {
			for id, c := range objectsOf() {
				if c == "three" {
					Expect(store.Delete(ctx, id)).To(Succeed())
					break
				}
			}
			w := reopen()
			_, err := w.Load(ctx, "three")
			Expect(err).To(MatchError(domain.ErrIntegrity))
			Expect(w.Load(ctx, "two")).To(Equal(payload(5000, 2)))
		})

		It("detects reordered chunks", func() {
			var three []domain.ObjectID
			for id, c := range objectsOf() {
				if c == "three" {
					three = append(three, id)
				}
			}
			Expect(len(three)).To(BeNumerically(">=", 3))
			a, b := must(store.Get(ctx, three[0])), must(store.Get(ctx, three[1]))
			Expect(store.Put(ctx, three[0], b)).To(Succeed())
			Expect(store.Put(ctx, three[1], a)).To(Succeed())
			_, err := reopen().Load(ctx, "three")
			Expect(err).To(MatchError(domain.ErrIntegrity))
		})

		It("refuses a header of an unknown format version", func() {
			id := vault.HeaderID("")
			h := must(store.Get(ctx, id))
			n := int(binary.BigEndian.Uint16(h[8:]))
			h[42] = 9 // the version byte, then fix the checksum as a newer writer would
			sum := sha256.Sum256(h[42 : 42+n])
			copy(h[10:42], sum[:])
			Expect(store.Put(ctx, id, h)).To(Succeed())
			_, err := vault.Open(ctx, cfg, pass)
			Expect(err).To(MatchError(domain.ErrUnsupportedVersion))
		})
	})

	Describe("keys and housekeeping", func() {
		It("rotates a category's key into fresh objects", func() {
			Expect(v.Store(ctx, "c", payload(2*domain.MiB+5, 4))).To(Succeed())
			Expect(v.Store(ctx, "d", []byte("other"))).To(Succeed())
			before := snapshot(ctx, store)
			Expect(v.RotateKey(ctx, "c")).To(Succeed())
			after := snapshot(ctx, store)
			Expect(len(after)).To(Equal(len(before)))
			Expect(len(newIDs(before, after))).To(Equal(3 + 1)) // 3 chunks and the manifest
			w := reopen()
			Expect(w.Load(ctx, "c")).To(Equal(payload(2*domain.MiB+5, 4)))
			Expect(w.Load(ctx, "d")).To(Equal([]byte("other")))
		})

		It("deletes categories and their objects", func() {
			Expect(v.Store(ctx, "c", payload(3000, 1))).To(Succeed())
			n := len(snapshot(ctx, store))
			Expect(v.Delete(ctx, "c")).To(Succeed())
			Expect(snapshot(ctx, store)).To(HaveLen(n - 1))
			Expect(reopen().Categories(ctx)).To(BeEmpty())
		})

		It("reports stats that add up", func() {
			Expect(v.StoreAll(ctx, map[string][]byte{"a": payload(10, 1), "b": payload(20000, 2)})).To(Succeed())
			s := must(v.Stats(ctx))
			Expect(s.Categories).To(Equal(2))
			Expect(s.PlaintextBytes).To(Equal(uint64(20010)))
			objs := snapshot(ctx, store)
			Expect(s.Objects).To(Equal(len(objs)))
			total, hist := 0, map[int]int{}
			for _, b := range objs {
				total += len(b)
				hist[len(b)]++
			}
			Expect(s.StoredBytes).To(Equal(uint64(total)))
			Expect(s.Buckets).To(Equal(hist))
		})

		It("verifies content and canonical JSON", func() {
			Expect(v.Store(ctx, "raw", []byte("abc"))).To(Succeed())
			Expect(v.Verify(ctx, "raw", []byte("abc"))).To(BeTrue())
			Expect(v.Verify(ctx, "raw", []byte("abd"))).To(BeFalse())
			Expect(v.StoreJSON(ctx, "j", map[string]any{"b": 1, "a": []any{"x", map[string]any{"z": true, "y": nil}}})).To(Succeed())
			Expect(v.VerifyJSON(ctx, "j", map[string]any{"a": []any{"x", map[string]any{"y": nil, "z": true}}, "b": 1})).To(BeTrue())
			Expect(v.VerifyJSON(ctx, "j", map[string]any{"b": 2})).To(BeFalse())
			Expect(v.VerifyJSON(ctx, "raw", "abc")).To(BeFalse())
			var out map[string]any
			Expect(v.LoadJSON(ctx, "j", &out)).To(Succeed())
			Expect(out["b"]).To(BeEquivalentTo(1))
		})

		It("refuses to work after Close", func() {
			Expect(v.Close()).To(Succeed())
			Expect(v.Store(ctx, "c", nil)).To(MatchError(domain.ErrClosed))
			_, err := v.Load(ctx, "c")
			Expect(err).To(MatchError(domain.ErrClosed))
		})

		It("refuses to create over an existing vault and writes nothing", func() {
			before := snapshot(ctx, store)
			_, err := vault.Create(ctx, cfg, []byte("other"))
			Expect(err).To(MatchError(domain.ErrExists))
			Expect(snapshot(ctx, store)).To(Equal(before))
		})

		It("reports a missing vault as not found", func() {
			_, err := vault.Open(ctx, vault.Config{Store: memblob.Open(), Crypto: testCrypto()}, pass)
			Expect(err).To(MatchError(domain.ErrNotFound))
		})

		It("sweeps objects left by an interrupted write", func() {
			Expect(v.Store(ctx, "c", []byte("x"))).To(Succeed())
			crash := &crashStore{inner: store, limit: 5}
			w, err := vault.Open(ctx, vault.Config{Store: crash, Crypto: testCrypto()}, pass)
			Expect(err).NotTo(HaveOccurred())
			Expect(w.Store(ctx, "big", payload(3*domain.MiB, 1))).To(MatchError(errCrash))
			Expect(len(snapshot(ctx, store))).To(BeNumerically(">", 3))
			n, err := v.Sweep(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(n).To(BeNumerically(">", 0))
			Expect(snapshot(ctx, store)).To(HaveLen(3))
			Expect(reopen().Load(ctx, "c")).To(Equal([]byte("x")))
		})
	})

	Describe("concurrent writers", func() {
		It("loses no update when writers meet only through compare-and-swap", func() {
			shared := noLock{store}
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Go(func() {
					defer GinkgoRecover()
					x, err := vault.Open(ctx, vault.Config{Store: shared, Crypto: testCrypto()}, pass)
					Expect(err).NotTo(HaveOccurred())
					defer x.Close()
					for i := range 5 {
						Expect(x.Store(ctx, catName(w*10+i), payload(50, byte(i)))).To(Succeed())
					}
				})
			}
			wg.Wait()
			Expect(reopen().Categories(ctx)).To(HaveLen(20))
		})
	})
})

var _ = Describe("a vault on a directory", func() {
	var (
		ctx  context.Context
		dir  string
		pass = []byte("directory passphrase")
		opts *local.Options
	)

	BeforeEach(func() {
		ctx = context.Background()
		dir = filepath.Join(GinkgoT().TempDir(), "vault")
		opts = &local.Options{Crypto: testCrypto()}
	})

	It("keeps only bucket-sized 0600 files with opaque names", func() {
		v, err := local.Create(ctx, dir, pass, opts)
		Expect(err).NotTo(HaveOccurred())
		Expect(v.StoreAll(ctx, map[string][]byte{"journal": payload(1300, 1), "bookmarks": payload(70000, 2)})).To(Succeed())
		Expect(v.Close()).To(Succeed())
		files := 0
		Expect(filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
			Expect(err).NotTo(HaveOccurred())
			if info.IsDir() {
				Expect(info.Mode().Perm()).To(Equal(os.FileMode(0o700)))
				return nil
			}
			if strings.HasSuffix(p, ".lock") {
				return nil
			}
			files++
			Expect(hexName.MatchString(info.Name())).To(BeTrue(), p)
			Expect(info.Mode().Perm()).To(Equal(os.FileMode(0o600)))
			Expect(domain.DefaultBuckets().Allowed(int(info.Size()))).To(BeTrue())
			b, _ := os.ReadFile(p)
			Expect(containsAny(b, "journal", "bookmarks")).To(BeFalse())
			return nil
		})).To(Succeed())
		Expect(files).To(Equal(4))
	})

	It("opens the vault through a Cloak", func() {
		c, err := local.CreateCloak(ctx, dir, pass, opts)
		Expect(err).NotTo(HaveOccurred())
		defer c.Close()
		data := map[string][]byte{"journal": payload(1300, 1), "settings": payload(60, 2)}
		rep, err := c.Store(ctx, data)
		Expect(err).NotTo(HaveOccurred())
		Expect(rep.TokensUsed).To(BeZero()) // a directory takes no tokens
		Expect(rep.Requests).To(BeNumerically(">=", 4))
		Expect(rep.ShuffleOrder).To(ConsistOf("journal", "settings"))
		Expect(c.LoadAll(ctx)).To(Equal(data))
		Expect(c.VerifyAll(ctx, data)).To(Equal(map[string]string{"journal": "PASS", "settings": "PASS"}))
		Expect(c.Layer().Holds()).To(BeFalse())
	})

	It("through the Cloak, keeps only bucket-sized opaque files for categories from 1 byte to 3 MiB", func() {
		c, err := local.CreateCloak(ctx, dir, pass, opts)
		Expect(err).NotTo(HaveOccurred())
		defer c.Close()
		data := map[string][]byte{}
		for _, n := range []int{1, 1000, 5000, 70_000, 300_000, domain.MiB, 3 * domain.MiB} {
			b := make([]byte, n)
			_, _ = rand.Read(b)
			data[fmt.Sprintf("category-%d-bytes", n)] = b
		}
		orders := map[string]bool{}
		for range 5 {
			rep, err := c.Store(ctx, data)
			Expect(err).NotTo(HaveOccurred())
			orders[strings.Join(rep.ShuffleOrder, ",")] = true
		}
		// 7 categories: five equal orders in a row happen with probability 5040^-4.
		Expect(len(orders)).To(BeNumerically(">", 1))
		Expect(c.LoadAll(ctx)).To(Equal(data))

		buckets := domain.DefaultBuckets()
		Expect(filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
			Expect(err).NotTo(HaveOccurred())
			if info.IsDir() || strings.HasSuffix(p, ".lock") {
				return nil
			}
			Expect(hexName.MatchString(info.Name())).To(BeTrue(), p)
			Expect(buckets.Allowed(int(info.Size()))).To(BeTrue(), "%s: %d bytes", p, info.Size())
			body, err := os.ReadFile(p)
			Expect(err).NotTo(HaveOccurred())
			for name, plain := range data {
				Expect(strings.Contains(p, name)).To(BeFalse())
				Expect(bytes.Contains(body, []byte(name))).To(BeFalse())
				if len(plain) >= 32 {
					Expect(bytes.Contains(body, plain[:32])).To(BeFalse())
				}
			}
			return nil
		})).To(Succeed())
	})

	It("leaves the directory byte-for-byte unchanged on a wrong passphrase", func() {
		v, err := local.Create(ctx, dir, pass, opts)
		Expect(err).NotTo(HaveOccurred())
		Expect(v.Store(ctx, "c", []byte("x"))).To(Succeed())
		v.Close()
		before := dirSnapshot(dir)
		_, err = local.Open(ctx, dir, []byte("nope"), opts)
		Expect(err).To(MatchError(domain.ErrWrongPassphrase))
		Expect(dirSnapshot(dir)).To(Equal(before))
	})

	It("reports a missing directory as a missing vault and creates nothing", func() {
		_, err := local.Open(ctx, dir, pass, opts)
		Expect(err).To(MatchError(domain.ErrNotFound))
		Expect(dir).NotTo(BeADirectory())
		Expect(os.Mkdir(dir, 0o700)).To(Succeed())
		_, err = local.Open(ctx, dir, pass, opts)
		Expect(err).To(MatchError(domain.ErrNotFound))
	})

	It("serialises two writers on one directory through the file lock", func() {
		v, err := local.Create(ctx, dir, pass, opts)
		Expect(err).NotTo(HaveOccurred())
		v.Close()
		var wg sync.WaitGroup
		for w := range 2 {
			wg.Go(func() {
				defer GinkgoRecover()
				s, err := fsblob.Open(dir, nil) // separate store, separate lock file descriptors
				Expect(err).NotTo(HaveOccurred())
				x, err := vault.Open(ctx, vault.Config{Store: s, Crypto: testCrypto()}, pass)
				Expect(err).NotTo(HaveOccurred())
				defer x.Close()
				for i := range 10 {
					Expect(x.Store(ctx, catName(w*100+i), payload(30, byte(i)))).To(Succeed())
				}
			})
		}
		wg.Wait()
		w, err := local.Open(ctx, dir, pass, opts)
		Expect(err).NotTo(HaveOccurred())
		defer w.Close()
		Expect(w.Categories(ctx)).To(HaveLen(20))
	})
})

func must[T any](v T, err error) T {
	GinkgoHelper()
	Expect(err).NotTo(HaveOccurred())
	return v
}
