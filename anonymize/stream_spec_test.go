package anonymize_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"hash"
	"io"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/anonymize"
	"github.com/ai-pantheon/aegis/anonymize/observertest"
	"github.com/ai-pantheon/aegis/domain"
)

// generator yields n deterministic pseudo-random bytes without holding them: the
// payload of a streamed Put never exists whole in the test either.
type generator struct {
	n, off int64
	h      hash.Hash
}

func newGenerator(n int64) *generator { return &generator{n: n, h: sha256.New()} }

func (g *generator) Read(p []byte) (int, error) {
	if g.off >= g.n {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), g.n-g.off)]
	for i := range p {
		x := uint64(g.off + int64(i))
		p[i] = byte(x*0x9e3779b97f4a7c15>>56) ^ byte(x)
	}
	g.off += int64(len(p))
	g.h.Write(p)
	return len(p), nil
}

var _ = Describe("Cloak streaming", func() {
	var (
		ctx context.Context
		f   fixture
	)
	BeforeEach(func() {
		ctx = context.Background()
		f = newFixture(ctx, nil, anonymize.Config{})
	})

	It("puts and gets a large payload chunk by chunk, through the Cloak", func() {
		const n = 24*domain.MiB + 12345
		src := newGenerator(n)
		mark := f.obs.Mark()
		rep, err := f.cloak.Put(ctx, "movie", src)
		Expect(err).NotTo(HaveOccurred())
		c := rep.Categories["movie"]
		Expect(c.PlaintextBytes).To(Equal(n))
		Expect(rep.Requests).To(BeNumerically(">", rep.Objects))
		// 25 chunks of payload, padded with Padmé to 26 objects of 1 MiB.
		Expect(rep.Objects).To(Equal(domain.Padme(25)))
		Expect(c.StoredBytes).To(Equal(rep.Objects * domain.MiB))
		Expect(c.PaddedBytes).To(Equal(rep.Objects * (domain.MiB - 60)))
		big := 0
		for _, e := range observertest.Puts(f.obs.Since(mark)) {
			if e.Size == domain.MiB {
				big++
			}
		}
		Expect(big).To(Equal(rep.Objects)) // the data chunks; the manifest is smaller

		sink := sha256.New()
		Expect(f.cloak.Get(ctx, "movie", sink)).To(Succeed())
		Expect(sink.Sum(nil)).To(Equal(src.h.Sum(nil)))
		Expect(f.cloak.Stats().CategoriesLoaded).To(BeEquivalentTo(1))
	})

	It("refuses a bad category before reading anything and stores nothing", func() {
		before := f.obs.Mark()
		src := newGenerator(100)
		_, err := f.cloak.Put(ctx, "", src)
		Expect(err).To(MatchError(domain.ErrInvalidInput))
		Expect(src.off).To(BeZero())
		Expect(f.obs.Since(before)).To(BeEmpty())
	})

	It("stores nothing when the stream fails half way", func() {
		before, err := f.obs.Objects(ctx)
		Expect(err).NotTo(HaveOccurred())
		r := io.MultiReader(io.LimitReader(newGenerator(3*domain.MiB), 3*domain.MiB), failingReader{})
		_, err = f.cloak.Put(ctx, "partial", r)
		Expect(err).To(MatchError(errBroken))
		after, err := f.obs.Objects(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(after).To(HaveLen(len(before)))
		_, err = f.cloak.Load(ctx, "partial")
		Expect(err).To(MatchError(domain.ErrNotFound))
	})
})

var errBroken = errors.New("the source broke")

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errBroken }
