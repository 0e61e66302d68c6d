package anonymize_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/anonymize"
	"github.com/ai-pantheon/aegis/anonymize/internal/fakes"
	"github.com/ai-pantheon/aegis/crypto/kdf"
	"github.com/ai-pantheon/aegis/crypto/suite"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/vault"
)

// request is one request as the store received it.
type request struct {
	at    time.Time
	op    string
	id    domain.ObjectID
	size  int
	token string
	err   error
	date  time.Time // the time a Dated view was asked to give the object
	strip []string  // the allow-list of the Stripped view it came through
}

// recorder is a store without a writer lock (as aegisd and S3 are) that records
// every request it receives, with the token its context carries. Its requests
// go through a view (recView); Dated and Stripped make views that also record
// their date and allow-list.
type recorder struct {
	recView
	inner *fakes.Store
	fail  func(op string, id domain.ObjectID) error // nil: none

	mu   sync.Mutex
	reqs []request
}

func newRecorder() *recorder {
	r := &recorder{inner: fakes.NewStore()}
	r.recView = recView{r: r}
	return r
}

func (r *recorder) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs)
}

// objects returns the number of objects in the store.
func (r *recorder) objects(ctx context.Context) int {
	n := 0
	Expect(r.inner.List(ctx, func(domain.ObjectID) error { n++; return nil })).To(Succeed())
	return n
}

// recView is the recorder seen with a date (Dated) and an allow-list
// (Stripped); the recorder's own view has neither.
type recView struct {
	r     *recorder
	date  time.Time
	strip []string
}

func (v recView) record(ctx context.Context, op string, id domain.ObjectID, size int, err error) error {
	tok, _ := domain.TokenFrom(ctx)
	if err == nil && v.r.fail != nil {
		err = v.r.fail(op, id)
	}
	v.r.mu.Lock()
	v.r.reqs = append(v.r.reqs, request{at: time.Now(), op: op, id: id, size: size, token: string(tok), err: err, date: v.date, strip: v.strip})
	v.r.mu.Unlock()
	return err
}

func (v recView) Put(ctx context.Context, id domain.ObjectID, data []byte) error {
	if err := v.record(ctx, "put", id, len(data), nil); err != nil {
		return err
	}
	return v.r.inner.Put(ctx, id, data)
}

func (v recView) Get(ctx context.Context, id domain.ObjectID) ([]byte, error) {
	b, err := v.r.inner.Get(ctx, id)
	return b, v.record(ctx, "get", id, len(b), err)
}

func (v recView) GetVersioned(ctx context.Context, id domain.ObjectID) ([]byte, domain.Version, error) {
	b, ver, err := v.r.inner.GetVersioned(ctx, id)
	return b, ver, v.record(ctx, "get", id, len(b), err)
}

func (v recView) Delete(ctx context.Context, id domain.ObjectID) error {
	if err := v.record(ctx, "delete", id, 0, nil); err != nil {
		return err
	}
	return v.r.inner.Delete(ctx, id)
}

func (v recView) List(ctx context.Context, fn func(domain.ObjectID) error) error {
	if err := v.record(ctx, "list", domain.ObjectID{}, 0, nil); err != nil {
		return err
	}
	return v.r.inner.List(ctx, fn)
}

func (v recView) CompareAndSwap(ctx context.Context, id domain.ObjectID, expected domain.Version, data []byte) (domain.Version, error) {
	if err := v.record(ctx, "cas", id, len(data), nil); err != nil {
		return "", err
	}
	return v.r.inner.CompareAndSwap(ctx, id, expected, data)
}

// networked is a recorder whose requests leave the machine.
type networked struct{ *recorder }

func (networked) Networked() bool { return true }

// dated is a recorder whose objects carry times (as a directory's files do).
type dated struct{ *recorder }

func (d dated) Dated(t time.Time) domain.BlobStore { return recView{r: d.recorder, date: t} }

// stripping is a recorder whose transport can strip fields.
type stripping struct{ *recorder }

func (s stripping) Stripped(allow []string) domain.BlobStore {
	return recView{r: s.recorder, strip: append([]string{}, allow...)}
}

// countingTokens hands out numbered tokens, or fails once failing is set.
type countingTokens struct {
	n       atomic.Int64
	failing atomic.Bool
}

func (c *countingTokens) Token(context.Context) ([]byte, error) {
	if c.failing.Load() {
		return nil, errors.New("token issuer unreachable")
	}
	return fmt.Appendf(nil, "token-%d", c.n.Add(1)), nil
}

func newCloak(ctx context.Context, store domain.BlobStore, cfg anonymize.Config) *anonymize.Cloak {
	c, err := anonymize.Create(ctx, vault.Config{Store: store, Crypto: suite.New(kdf.InsecureTestPolicy())}, []byte("correct horse battery staple"), cfg)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(c.Close)
	return c
}

// byWindow groups requests by the window of their arrival.
func byWindow(reqs []request, w time.Duration) map[int64][]request {
	out := map[int64][]request{}
	for _, r := range reqs {
		k := anonymize.BucketTime(r.at, w).Unix()
		out[k] = append(out[k], r)
	}
	return out
}

var _ = Describe("the Cloak's layer", func() {
	var ctx context.Context
	BeforeEach(func() { ctx = context.Background() })

	Describe("held to windows, with cover and tokens", func() {
		It("sends every request just after a window boundary, with its own token, and at least Cover more per window, all answered", func() {
			rec := newRecorder()
			tokens := &countingTokens{}
			c := newCloak(ctx, networked{rec}, anonymize.Config{Window: time.Second, Cover: 4, Tokens: tokens})
			Expect(c.Layer().Holds()).To(BeTrue())
			// Something to read for cover, then the write that is measured.
			_, err := c.Store(ctx, map[string][]byte{"first": distinctive(100)})
			Expect(err).NotTo(HaveOccurred())
			mark := len(rec.requests())
			rep, err := c.Store(ctx, map[string][]byte{"a": distinctive(100), "b": distinctive(5000), "c": distinctive(30_000)})
			Expect(err).NotTo(HaveOccurred())
			reqs := rec.requests()[mark:]
			GinkgoWriter.Printf("report %+v\n", rep)
			for _, r := range reqs {
				GinkgoWriter.Printf("%s %s %x %d %s %v\n", r.at.Format(time.StampMicro), r.op, r.id[:4], r.size, r.token, r.err)
			}
			for _, r := range reqs {
				// Released at the boundary: within a short interval after it (half a
				// window, for loaded CI machines; a request sent at a random time falls
				// there with probability 1/2, so a layer that does not hold passes with
				// probability 2^-n for the n requests of the store).
				Expect(r.at.Sub(anonymize.BucketTime(r.at, time.Second))).To(BeNumerically("<", 500*time.Millisecond), "%s at %s", r.op, r.at.Format(time.StampMicro))
				Expect(r.token).NotTo(BeEmpty())
				// Every request, cover included, answered: no tell-tale 404.
				Expect(r.err).NotTo(HaveOccurred(), "%s %x", r.op, r.id[:4])
			}
			tokensSeen := map[string]bool{}
			for _, r := range reqs {
				Expect(tokensSeen).NotTo(HaveKey(r.token))
				tokensSeen[r.token] = true
			}
			// What the store saw is what the report says was sent: the call's requests
			// and the cover of its windows, at least Cover in each.
			Expect(rep.Windows).To(BeNumerically(">=", 3))
			Expect(rep.Cover).To(BeNumerically(">=", 4*rep.Windows))
			Expect(reqs).To(HaveLen(rep.Requests + rep.Cover))
			Expect(rep.TokensUsed).To(Equal(rep.Requests + rep.Cover))
			for k, w := range byWindow(reqs, time.Second) {
				GinkgoWriter.Printf("window %d: %d requests\n", k, len(w))
				Expect(len(w)).To(BeNumerically(">=", 5), "window %d", k)
			}
			// Cover writes were made while the Vault wrote, and removed with its
			// garbage: the store holds the header, one manifest object and the data.
			st := c.Layer().Stats()
			Expect(st.CoverWrites).To(BeNumerically(">", 0))
			Expect(st.CoverReads).To(BeNumerically(">", 0))
			Expect(rec.objects(ctx)).To(Equal(1 + 1 + 1 + rep.Objects))
			all, err := c.LoadAll(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(all).To(HaveLen(4))
		})

		It("returns at once when the context ends while requests are held, and sends nothing", func() {
			rec := newRecorder()
			l, err := anonymize.NewLayer(rec, anonymize.Config{Window: time.Hour, Release: anonymize.ReleaseAtWindow})
			Expect(err).NotTo(HaveOccurred())
			mark := len(rec.requests())
			cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err = l.Store().Get(cctx, domain.ObjectID{1})
			Expect(err).To(MatchError(context.DeadlineExceeded))
			Expect(time.Since(start)).To(BeNumerically("<", 2*time.Second))
			Expect(rec.requests()[mark:]).To(BeEmpty())
		})

		It("reports every held request of a window failed, and sends none, when the window cannot be authorized", func() {
			rec := newRecorder()
			tokens := &countingTokens{}
			c := newCloak(ctx, networked{rec}, anonymize.Config{Window: time.Second, Tokens: tokens})
			_, err := c.Store(ctx, map[string][]byte{"keep": []byte("kept")})
			Expect(err).NotTo(HaveOccurred())
			mark := len(rec.requests())
			tokens.failing.Store(true)
			_, err = c.Store(ctx, map[string][]byte{"keep": []byte("changed")})
			Expect(err).To(MatchError(ContainSubstring("token issuer unreachable")))
			// A token taken ahead may authorize the first window (the header read);
			// no window after it was sent, so nothing was written.
			Expect(len(rec.requests()[mark:])).To(BeNumerically("<=", 1))
			for _, r := range rec.requests()[mark:] {
				Expect(r.op).To(Equal("get"))
			}
			tokens.failing.Store(false)
			got, err := c.Load(ctx, "keep")
			Expect(err).NotTo(HaveOccurred())
			Expect(string(got)).To(Equal("kept"))
		})

		It("loses nothing acknowledged when the store fails part of a window", func() {
			rec := newRecorder()
			c := newCloak(ctx, networked{rec}, anonymize.Config{Window: time.Second, Cover: 2})
			_, err := c.Store(ctx, map[string][]byte{"keep": []byte("kept")})
			Expect(err).NotTo(HaveOccurred())
			var puts atomic.Int64
			rec.fail = func(op string, id domain.ObjectID) error {
				if op == "put" && puts.Add(1) == 2 {
					return errors.New("injected store failure")
				}
				return nil
			}
			_, err = c.Store(ctx, map[string][]byte{"keep": []byte("changed"), "a": distinctive(100), "b": distinctive(5000), "c": distinctive(40_000)})
			rec.fail = nil
			if err == nil {
				// The failed put was a cover write: the store is still the Vault's.
				got, err := c.Load(ctx, "keep")
				Expect(err).NotTo(HaveOccurred())
				Expect(string(got)).To(Equal("changed"))
				return
			}
			Expect(err).To(MatchError(ContainSubstring("injected store failure")))
			got, err := c.Load(ctx, "keep")
			Expect(err).NotTo(HaveOccurred())
			Expect(string(got)).To(Equal("kept"))
		})
	})

	Describe("released at once", func() {
		It("dates every object written to the start of its window", func() {
			rec := newRecorder()
			clock := fixedClock(time.Date(2026, 5, 1, 10, 0, 7, 123, time.UTC))
			c := newCloak(ctx, dated{rec}, anonymize.Config{Clock: clock})
			Expect(c.Layer().Holds()).To(BeFalse())
			_, err := c.Store(ctx, map[string][]byte{"a": distinctive(10), "b": distinctive(70_000)})
			Expect(err).NotTo(HaveOccurred())
			writes := 0
			for _, r := range rec.requests() {
				if r.op == "put" || r.op == "cas" {
					writes++
					Expect(r.date).To(Equal(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)))
				}
			}
			Expect(writes).To(BeNumerically(">=", 4))
		})

		It("sends requests through the transport's stripped view", func() {
			rec := newRecorder()
			c := newCloak(ctx, stripping{rec}, anonymize.Config{AllowMetadata: []string{"Traceparent"}})
			_, err := c.Store(ctx, map[string][]byte{"a": distinctive(10)})
			Expect(err).NotTo(HaveOccurred())
			reqs := rec.requests()
			Expect(reqs).NotTo(BeEmpty())
			for _, r := range reqs {
				Expect(r.strip).To(Equal([]string{"Traceparent"}))
			}
		})

		It("attaches one token to every request, cover included", func() {
			rec := newRecorder()
			tokens := &countingTokens{}
			clock := &stepClock{}
			clock.set(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
			c := newCloak(ctx, rec, anonymize.Config{Tokens: tokens, Cover: 3, Clock: clock})
			// The store's requests fall in a window of their own, which owes 3 cover.
			clock.set(time.Date(2026, 5, 1, 10, 0, 10, 0, time.UTC))
			mark := len(rec.requests())
			rep, err := c.Store(ctx, map[string][]byte{"a": distinctive(10), "b": distinctive(3000)})
			Expect(err).NotTo(HaveOccurred())
			Expect(rep.Cover).To(Equal(3))
			Expect(rep.Windows).To(Equal(1))
			Expect(rep.TokensUsed).To(Equal(rep.Requests + rep.Cover))
			Expect(c.Stats().Windows).To(BeEquivalentTo(2))
			reqs := rec.requests()[mark:]
			GinkgoWriter.Printf("report %+v\n", rep)
			for _, r := range reqs {
				GinkgoWriter.Printf("%s %x %d %s\n", r.op, r.id[:4], r.size, r.token)
			}
			Expect(reqs).To(HaveLen(rep.Requests + rep.Cover))
			seen := map[string]bool{}
			for _, r := range reqs {
				Expect(r.token).NotTo(BeEmpty())
				Expect(seen).NotTo(HaveKey(r.token))
				seen[r.token] = true
			}
			Expect(c.Stats().TokensSpent).To(BeEquivalentTo(tokens.n.Load()))
		})
	})

	Describe("its shape", func() {
		It("is a Batcher always, and a Locker, BatchSwapper or WriteGuard only when the store is", func() {
			plain, err := anonymize.NewLayer(newRecorder(), anonymize.Config{})
			Expect(err).NotTo(HaveOccurred())
			Expect(plain.Store()).To(BeAssignableToTypeOf(plain.Store()))
			_, isBatcher := plain.Store().(domain.Batcher)
			_, isLocker := plain.Store().(domain.Locker)
			_, isGuard := plain.Store().(domain.WriteGuard)
			Expect([]bool{isBatcher, isLocker, isGuard}).To(Equal([]bool{true, false, false}))

			locked, err := anonymize.NewLayer(fakes.NewStore(), anonymize.Config{})
			Expect(err).NotTo(HaveOccurred())
			_, isLocker = locked.Store().(domain.Locker)
			_, isSwapper := locked.Store().(domain.BatchSwapper)
			Expect([]bool{isLocker, isSwapper}).To(Equal([]bool{true, false}))
		})

		It("holds by default only on stores whose requests leave the machine", func() {
			l, err := anonymize.NewLayer(networked{newRecorder()}, anonymize.Config{})
			Expect(err).NotTo(HaveOccurred())
			Expect(l.Holds()).To(BeTrue())
			l, err = anonymize.NewLayer(networked{newRecorder()}, anonymize.Config{Release: anonymize.ReleaseNow})
			Expect(err).NotTo(HaveOccurred())
			Expect(l.Holds()).To(BeFalse())
			l, err = anonymize.NewLayer(newRecorder(), anonymize.Config{Release: anonymize.ReleaseAtWindow})
			Expect(err).NotTo(HaveOccurred())
			Expect(l.Holds()).To(BeTrue())
			Expect(l.Window()).To(Equal(anonymize.DefaultWindow))
		})
	})

	DescribeTable("refuses settings out of range, naming them",
		func(cfg anonymize.Config, want string) {
			_, err := anonymize.NewLayer(newRecorder(), cfg)
			Expect(err).To(MatchError(domain.ErrInvalidInput))
			Expect(err).To(MatchError(ContainSubstring(want)))
		},
		Entry("negative cover", anonymize.Config{Cover: -1}, "cover -1"),
		Entry("too much cover", anonymize.Config{Cover: anonymize.MaxCover + 1}, "cover 65"),
		Entry("a window that is not whole seconds", anonymize.Config{Window: 1500 * time.Millisecond}, "window 1.5s"),
		Entry("a window under a second", anonymize.Config{Window: time.Millisecond}, "window 1ms"),
		Entry("a window over an hour", anonymize.Config{Window: 2 * time.Hour}, "window 2h0m0s"),
		Entry("a negative window", anonymize.Config{Window: -time.Second}, "window -1s"),
		Entry("an unknown release setting", anonymize.Config{Release: 7}, "release setting 7"),
	)
})

type fixedClock time.Time

// stepClock is a clock a spec moves.
type stepClock struct{ t atomic.Int64 }

func (c *stepClock) set(t time.Time) { c.t.Store(t.UnixNano()) }
func (c *stepClock) Now() time.Time  { return time.Unix(0, c.t.Load()) }

func (c fixedClock) Now() time.Time { return time.Time(c) }
