package anonymize_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/anonymize"
	"github.com/ai-pantheon/aegis/anonymize/internal/fakes"
	"github.com/ai-pantheon/aegis/anonymize/observertest"
	"github.com/ai-pantheon/aegis/crypto/kdf"
	"github.com/ai-pantheon/aegis/crypto/suite"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/vault"
)

// distinctive returns n random bytes that start with a 32-byte random marker, so
// that finding the payload on the store cannot happen by chance.
func distinctive(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// secretsOf lists what must never appear on the store for these categories: the
// names, their SHA-256 digests (raw; hex is checked too) and the payloads (their
// first 32 bytes, when they have that many).
func secretsOf(data map[string][]byte) [][]byte {
	var s [][]byte
	for name, p := range data {
		h := sha256.Sum256([]byte(name))
		s = append(s, []byte(name), h[:])
		if len(p) >= 32 {
			s = append(s, p[:32])
		}
	}
	return s
}

// chiSquareSF9 is the upper tail of the chi-square distribution with 9 degrees
// of freedom: for odd k, Q(x) = erfc(sqrt(x/2)) + 2 phi(sqrt x) sum_{r=1}^{(k-1)/2}
// x^{(2r-1)/2} / (1*3*...*(2r-1)).
func chiSquareSF9(x float64) float64 {
	c := math.Sqrt(x)
	phi := math.Exp(-x/2) / math.Sqrt(2*math.Pi)
	sum, d := 0.0, 1.0
	for r := 1; r <= 4; r++ {
		d *= float64(2*r - 1)
		sum += math.Pow(c, float64(2*r-1)) / d
	}
	return math.Erfc(c/math.Sqrt2) + 2*phi*sum
}

var _ = Describe("Cloak", func() {
	var (
		ctx context.Context
		f   fixture
	)
	BeforeEach(func() {
		ctx = context.Background()
		f = newFixture(ctx, nil, anonymize.Config{})
	})

	Describe("Store then Load", func() {
		It("returns exactly what was stored, for categories from 1 byte to 3 MiB", func() {
			capMax := domain.FrameCapacity(domain.MiB, 60)
			sizes := []int{0, 1, 2, 100, domain.KiB - 64, domain.KiB - 63, 4000, 4*domain.KiB - 64, 4*domain.KiB - 63, 20000, 100_000, capMax, capMax + 1, 2 * domain.MiB, 3 * domain.MiB}
			data := map[string][]byte{}
			for _, n := range sizes {
				data[fmt.Sprintf("size-%d-%x", n, distinctive(8))] = distinctive(n)
			}
			rep, err := f.cloak.Store(ctx, data)
			Expect(err).NotTo(HaveOccurred())
			Expect(rep.Categories).To(HaveLen(len(sizes)))

			for name, want := range data {
				got, err := f.cloak.Load(ctx, name)
				Expect(err).NotTo(HaveOccurred())
				Expect(bytes.Equal(got, want)).To(BeTrue(), name)
			}
			all, err := f.cloak.LoadAll(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(maps.EqualFunc(all, data, bytes.Equal)).To(BeTrue())

			Expect(f.obs.CheckNoLeak(ctx, secretsOf(data)...)).To(Succeed())
			verdict := f.cloak.VerifyAll(ctx, data)
			for name := range data {
				Expect(verdict[name]).To(Equal(anonymize.Pass))
			}
		})

		It("writes every object at a bucket size, the vault header included", func() {
			_, err := f.cloak.Store(ctx, map[string][]byte{"a": distinctive(10), "b": distinctive(70_000)})
			Expect(err).NotTo(HaveOccurred())
			var cas int
			for _, e := range f.obs.Events() {
				if e.Op == observertest.OpCAS {
					cas++
					Expect(domain.DefaultBuckets().Allowed(e.Size)).To(BeTrue())
				}
			}
			Expect(cas).To(BeNumerically(">=", 2)) // create and the commit
			Expect(f.obs.CheckSizes(ctx, domain.DefaultBuckets())).To(Succeed())
		})

		It("reports VerifyAll FAIL for different content and for a missing category", func() {
			_, err := f.cloak.Store(ctx, map[string][]byte{"a": []byte("alpha")})
			Expect(err).NotTo(HaveOccurred())
			Expect(f.cloak.VerifyAll(ctx, map[string][]byte{"a": []byte("alpha"), "b": []byte("x")})).To(Equal(map[string]string{"a": "PASS", "b": "FAIL"}))
			Expect(f.cloak.VerifyAll(ctx, map[string][]byte{"a": []byte("alphA")})).To(Equal(map[string]string{"a": "FAIL"}))
		})

		It("stores JSON values", func() {
			_, err := f.cloak.StoreJSON(ctx, map[string]any{"contacts": []string{"ada", "alan"}})
			Expect(err).NotTo(HaveOccurred())
			got, err := f.cloak.Load(ctx, "contacts")
			Expect(err).NotTo(HaveOccurred())
			Expect(string(got)).To(Equal(`["ada","alan"]`))
			_, err = f.cloak.StoreJSON(ctx, map[string]any{"bad": make(chan int)})
			Expect(err).To(MatchError(domain.ErrInvalidInput))
		})
	})

	Describe("the report", func() {
		It("has the original's fields, with the original's JSON names, and counts what was sent", func() {
			rep, err := f.cloak.Store(ctx, map[string][]byte{"contacts": bytes.Repeat([]byte("c"), 1300), "notes": []byte("n")})
			Expect(err).NotTo(HaveOccurred())
			raw, err := json.Marshal(rep)
			Expect(err).NotTo(HaveOccurred())
			var m map[string]any
			Expect(json.Unmarshal(raw, &m)).To(Succeed())
			Expect(m).To(HaveKey("categories"))
			for _, k := range []string{"total_plaintext_bytes", "total_padded_bytes", "total_encrypted_bytes", "tokens_used", "shuffle_order", "requests", "cover_requests", "windows"} {
				Expect(m).To(HaveKey(k))
			}
			cat := m["categories"].(map[string]any)["contacts"].(map[string]any)
			Expect(cat).To(HaveKey("plaintext_bytes"))
			Expect(cat).To(HaveKey("padded_bytes"))
			Expect(cat).To(HaveKey("stored_bytes"))

			Expect(rep.Categories["contacts"]).To(Equal(anonymize.CategoryReport{PlaintextBytes: 1300, PaddedBytes: 4*domain.KiB - 60, StoredBytes: 4 * domain.KiB}))
			Expect(rep.Categories["notes"]).To(Equal(anonymize.CategoryReport{PlaintextBytes: 1, PaddedBytes: domain.KiB - 60, StoredBytes: domain.KiB}))
			Expect(rep.TotalPlaintextBytes).To(BeEquivalentTo(1301))
			Expect(rep.TotalPaddedBytes).To(BeEquivalentTo(5*domain.KiB - 120))
			Expect(rep.TotalEncryptedBytes).To(BeEquivalentTo(5 * domain.KiB))
			Expect(rep.ShuffleOrder).To(ConsistOf("contacts", "notes"))
			// Two data objects, a manifest object and the header at least; no tokens on
			// a store that takes none, no cover unless asked for.
			Expect(rep.Requests).To(BeNumerically(">=", 4))
			Expect(rep.TokensUsed).To(BeZero())
			Expect(rep.Cover).To(BeZero())
			Expect(rep.Windows).To(BeNumerically(">=", 1))
		})

		It("gives a different shuffle_order from one run to the next", func() {
			data := map[string][]byte{}
			for i := range 20 {
				data[fmt.Sprintf("cat-%02d", i)] = []byte{byte(i)}
			}
			r1, err := f.cloak.Store(ctx, data)
			Expect(err).NotTo(HaveOccurred())
			r2, err := f.cloak.Store(ctx, data)
			Expect(err).NotTo(HaveOccurred())
			Expect(r1.ShuffleOrder).To(ConsistOf(slices.Collect(maps.Keys(data))))
			// Equal orders have probability 1/20! (about 4e-19).
			Expect(r1.ShuffleOrder).NotTo(Equal(r2.ShuffleOrder))
		})
	})

	Describe("what the store sees", func() {
		It("never holds a category name, its SHA-256, or plaintext, in names or bodies", func() {
			data := map[string][]byte{
				"contacts-" + fmt.Sprintf("%x", distinctive(8)): distinctive(1300),
				"calendar-" + fmt.Sprintf("%x", distinctive(8)): distinctive(50_000),
				"health-" + fmt.Sprintf("%x", distinctive(8)):   distinctive(1_500_000),
			}
			_, err := f.cloak.Store(ctx, data)
			Expect(err).NotTo(HaveOccurred())
			_, err = f.cloak.Store(ctx, data)
			Expect(err).NotTo(HaveOccurred())
			Expect(f.obs.CheckNoLeak(ctx, secretsOf(data)...)).To(Succeed())
		})

		It("uses fresh object names when a category is rewritten, and removes the old ones", func() {
			data := map[string][]byte{"a": distinctive(100), "b": distinctive(5000)}
			_, err := f.cloak.Store(ctx, data)
			Expect(err).NotTo(HaveOccurred())
			before, err := f.obs.Objects(ctx)
			Expect(err).NotTo(HaveOccurred())
			mark := f.obs.Mark()
			_, err = f.cloak.Store(ctx, data)
			Expect(err).NotTo(HaveOccurred())
			for _, e := range observertest.Puts(f.obs.Since(mark)) {
				Expect(before).NotTo(HaveKey(e.ID))
			}
			after, err := f.obs.Objects(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(after).To(HaveLen(len(before)))
			Expect(f.obs.CheckFreshNames()).To(Succeed())
		})

		It("writes in an order independent of the input order (chi-square, false failure < 1e-9)", func() {
			// Four single-object categories of four different bucket sizes, given in
			// the same order every time. The observer maps each data object to its
			// category by its size alone (the manifest is a 1 KiB object written after
			// the data), so the test does not trust the Cloak's report; the report's
			// shuffle_order must agree with it.
			//
			// Counts of (category, position) over n runs form a 4x4 table with fixed
			// margins; under a uniform shuffle the Pearson statistic is chi-square with
			// (4-1)(4-1) = 9 degrees of freedom. Its upper tail at 61 is 8.4e-10
			// (checked below), so a correct shuffle fails this test less than once in
			// a billion runs, while any real dependence on input order (for example
			// a 10% bias towards input order at one position) gives a statistic in the
			// hundreds at n = 1000.
			const threshold = 61.0
			Expect(chiSquareSF9(threshold)).To(BeNumerically("<", 1e-9))
			Expect(chiSquareSF9(16.919)).To(BeNumerically("~", 0.05, 1e-4)) // sanity: the textbook 95% point

			sizes := []int{2000, 10_000, 40_000, 200_000} // 4, 16, 64, 256 KiB objects
			bySize := map[int]int{}
			b := make(map[string][]byte, len(sizes))
			names := make([]string, len(sizes))
			for i, n := range sizes {
				names[i] = fmt.Sprintf("c%d", i)
				b[names[i]] = make([]byte, n)
				plan, err := domain.PlanPadding(domain.DefaultBuckets(), 60, n)
				Expect(err).NotTo(HaveOccurred())
				bySize[plan.ChunkSize] = i
			}
			Expect(bySize).To(HaveLen(4))
			const n = 1000
			var counts [4][4]int
			for range n {
				mark := f.obs.Mark()
				rep, err := f.cloak.Store(ctx, b)
				Expect(err).NotTo(HaveOccurred())
				var order []int
				for _, e := range observertest.Puts(f.obs.Since(mark)) {
					if i, ok := bySize[e.Size]; ok {
						order = append(order, i)
					}
				}
				Expect(order).To(HaveLen(4))
				seen := make([]string, 4)
				for pos, i := range order {
					counts[i][pos]++
					seen[pos] = names[i]
				}
				Expect(rep.ShuffleOrder).To(Equal(seen))
			}
			exp := float64(n) / 4
			var chi float64
			for i := range 4 {
				for j := range 4 {
					d := float64(counts[i][j]) - exp
					chi += d * d / exp
				}
			}
			GinkgoWriter.Printf("position counts %v, chi-square %.2f (p = %.3g)\n", counts, chi, chiSquareSF9(chi))
			Expect(chi).To(BeNumerically("<", threshold), fmt.Sprint(counts))
		})
	})

	Describe("concurrent use", func() {
		It("serves concurrent stores and loads, every batch all or nothing", func() {
			const workers = 6
			errs := make(chan error, workers)
			for w := range workers {
				go func() {
					defer GinkgoRecover()
					data := map[string][]byte{}
					for i := range 5 {
						data[fmt.Sprintf("w%d-c%d", w, i)] = distinctive(100 * (i + 1) * (w + 1))
					}
					_, err := f.cloak.Store(ctx, data)
					if err == nil {
						for name, want := range data {
							got, lerr := f.cloak.Load(ctx, name)
							if lerr != nil || !bytes.Equal(got, want) {
								err = fmt.Errorf("%s: %v", name, lerr)
								break
							}
						}
					}
					errs <- err
				}()
			}
			for range workers {
				Expect(<-errs).NotTo(HaveOccurred())
			}
			names, err := f.vault.Categories(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(names).To(HaveLen(workers * 5))
			Expect(f.cloak.Stats().CategoriesStored).To(BeEquivalentTo(workers * 5))
		})
	})

	Describe("statistics", func() {
		It("keeps running totals of what was stored, loaded and sent", func() {
			data := map[string][]byte{"a": make([]byte, 100), "b": make([]byte, 3000)}
			rep, err := f.cloak.Store(ctx, data)
			Expect(err).NotTo(HaveOccurred())
			_, err = f.cloak.Load(ctx, "a")
			Expect(err).NotTo(HaveOccurred())
			_, err = f.cloak.LoadAll(ctx)
			Expect(err).NotTo(HaveOccurred())
			s := f.cloak.Stats()
			Expect(s.CategoriesStored).To(BeEquivalentTo(2))
			Expect(s.CategoriesLoaded).To(BeEquivalentTo(3))
			Expect(s.BytesBeforePadding).To(BeEquivalentTo(3100))
			Expect(s.BytesAfterPadding).To(BeEquivalentTo(5*domain.KiB - 120))
			Expect(s.PaddingOverheadPercent).To(BeNumerically("~", 100*float64(5*domain.KiB-120-3100)/3100, 1e-9))
			// The loads sent requests too: the totals count every request.
			Expect(s.Requests).To(BeNumerically(">", rep.Requests))
			Expect(s.TokensSpent).To(BeZero())
		})
	})

	Describe("bad input", func() {
		DescribeTable("is rejected with ErrInvalidInput and writes nothing",
			func(data map[string][]byte) {
				mark := f.obs.Mark()
				_, err := f.cloak.Store(ctx, data)
				Expect(err).To(MatchError(domain.ErrInvalidInput))
				Expect(f.obs.Since(mark)).To(BeEmpty())
				names, err := f.vault.Categories(ctx)
				Expect(err).NotTo(HaveOccurred())
				Expect(names).To(BeEmpty())
			},
			Entry("an empty map", map[string][]byte{}),
			Entry("an empty category name", map[string][]byte{"ok": nil, "": nil}),
			Entry("a category name that is not UTF-8", map[string][]byte{"\xff\xfe": nil}),
			Entry("a reserved chaff name", map[string][]byte{anonymize.ChaffPrefix + "x": nil}),
		)

		It("leaves the store as it was when a write fails half-way through a batch", func() {
			store := &flaky{BlobStore: fakes.NewStore(), failAt: -1}
			obs := observertest.Wrap(store)
			c, err := anonymize.Create(ctx, vault.Config{Store: obs, Crypto: suite.New(kdf.InsecureTestPolicy())}, []byte("pass"), anonymize.Config{})
			Expect(err).NotTo(HaveOccurred())
			defer c.Close()
			first := map[string][]byte{"keep": []byte("kept")}
			_, err = c.Store(ctx, first)
			Expect(err).NotTo(HaveOccurred())
			before, err := obs.Objects(ctx)
			Expect(err).NotTo(HaveOccurred())

			for _, failAt := range []int{0, 1, 3, 5} {
				store.failAfter(failAt)
				_, err = c.Store(ctx, map[string][]byte{"keep": []byte("changed"), "a": distinctive(10), "b": distinctive(5000), "c": distinctive(2 * domain.MiB)})
				Expect(err).To(MatchError(ContainSubstring("injected store failure")))
				store.failAfter(-1)
				after, err := obs.Objects(ctx)
				Expect(err).NotTo(HaveOccurred())
				Expect(slices.Collect(maps.Keys(after))).To(ConsistOf(slices.Collect(maps.Keys(before))), "fail at %d", failAt)
				all, err := c.LoadAll(ctx)
				Expect(err).NotTo(HaveOccurred())
				Expect(all).To(Equal(map[string][]byte{"keep": []byte("kept")}))
			}
			Expect(obs.CheckSizes(ctx, domain.DefaultBuckets())).To(Succeed())
		})

		It("stores nothing when the context is cancelled", func() {
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			mark := f.obs.Mark()
			_, err := f.cloak.Store(cctx, map[string][]byte{"a": []byte("x")})
			Expect(err).To(MatchError(context.Canceled))
			Expect(f.obs.Since(mark)).To(BeEmpty())
		})

		It("stores a 0-byte payload as one smallest bucket", func() {
			rep, err := f.cloak.Store(ctx, map[string][]byte{"empty": nil})
			Expect(err).NotTo(HaveOccurred())
			Expect(rep.Categories["empty"].StoredBytes).To(Equal(domain.KiB))
			got, err := f.cloak.Load(ctx, "empty")
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(BeEmpty())
		})

	})

	Describe("with Padmé padding", func() {
		It("stores every object at a Padmé size and plans exactly what the Vault writes", func() {
			g := newFixture(ctx, domain.DefaultPadme(), anonymize.Config{})
			data := map[string][]byte{"a": distinctive(1), "b": distinctive(1500), "c": distinctive(300_000), "d": distinctive(2_500_000)}
			rep, err := g.cloak.Store(ctx, data)
			Expect(err).NotTo(HaveOccurred())
			Expect(rep.Categories["b"].StoredBytes).To(Equal(domain.Padme(1500 + 64)))
			Expect(g.obs.CheckSizes(ctx, domain.DefaultPadme())).To(Succeed())
			all, err := g.cloak.LoadAll(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(maps.EqualFunc(all, data, bytes.Equal)).To(BeTrue())
		})
	})

	Describe("dummy categories of older releases", func() {
		It("are hidden from LoadAll and removed by PurgeChaff", func() {
			data := map[string][]byte{"a": distinctive(100)}
			_, err := f.cloak.Store(ctx, data)
			Expect(err).NotTo(HaveOccurred())
			// A release before v0.3 stored them as categories of their own.
			Expect(f.vault.Store(ctx, anonymize.ChaffPrefix+"0123", distinctive(50))).To(Succeed())
			all, err := f.cloak.LoadAll(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(maps.EqualFunc(all, data, bytes.Equal)).To(BeTrue())
			n, err := f.cloak.PurgeChaff(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(n).To(Equal(1))
			names, err := f.vault.Categories(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(names).To(ConsistOf("a"))
		})
	})
})
