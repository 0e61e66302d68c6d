package anonymize_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/anonymize"
	"github.com/ai-pantheon/aegis/anonymize/internal/fakes"
	"github.com/ai-pantheon/aegis/crypto/kdf"
	"github.com/ai-pantheon/aegis/crypto/suite"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/vault"
)

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

func batchOf(names ...string) anonymize.Batch {
	b := make(anonymize.Batch, len(names))
	for i, n := range names {
		b[i] = anonymize.Request{Category: n, Payload: []byte("payload of " + n), Metadata: map[string]string{"action": "store", "user-agent": "x/1.0", "session": "s1"}}
	}
	return b
}

func TestStripMetadataDefaultAllowList(t *testing.T) {
	in := batchOf("a", "b")
	in[1].Metadata["timestamp"] = "1700000000"
	out, err := anonymize.StripMetadata{}.Apply(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if got := out[0].Metadata; len(got) != 1 || got["action"] != "store" {
		t.Fatalf("kept %v", got)
	}
	if !slices.Equal(out[0].Stripped, []string{"session", "user-agent"}) {
		t.Fatalf("stripped %v", out[0].Stripped)
	}
	if out[1].Metadata["timestamp"] != "1700000000" {
		t.Fatalf("timestamp not kept: %v", out[1].Metadata)
	}
	if len(in[0].Metadata) != 3 || in[0].Stripped != nil {
		t.Fatal("the input batch was modified")
	}
}

func TestStripMetadataCustomAndEmptyAllowList(t *testing.T) {
	in := batchOf("a")
	out, _ := anonymize.StripMetadata{Allow: []string{"session"}}.Apply(context.Background(), in)
	if out[0].Metadata["session"] != "s1" || len(out[0].Metadata) != 1 {
		t.Fatalf("kept %v", out[0].Metadata)
	}
	out, _ = anonymize.StripMetadata{Allow: []string{}}.Apply(context.Background(), in)
	if len(out[0].Metadata) != 0 || len(out[0].Stripped) != 3 {
		t.Fatalf("kept %v stripped %v", out[0].Metadata, out[0].Stripped)
	}
}

func TestBucketTimestamp(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 34, 56, 789, time.UTC)
	in := batchOf("a", "b")
	in[0].Timestamp = time.Date(2026, 1, 2, 3, 4, 19, 999999999, time.FixedZone("x", 3600))
	in[1].Metadata["timestamp"] = "precise"
	out, err := anonymize.BucketTimestamp{Clock: fixedClock(now)}.Apply(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 1, 2, 2, 4, 10, 0, time.UTC); !out[0].Timestamp.Equal(want) || out[0].Timestamp.Location() != time.UTC {
		t.Fatalf("got %v want %v", out[0].Timestamp, want)
	}
	want := time.Date(2026, 11, 26, 12, 34, 50, 0, time.UTC)
	if !out[1].Timestamp.Equal(want) {
		t.Fatalf("clock time: got %v want %v", out[1].Timestamp, want)
	}
	if out[1].Metadata["timestamp"] != "1795696490" || in[1].Metadata["timestamp"] != "precise" {
		t.Fatalf("metadata timestamp %q (input %q)", out[1].Metadata["timestamp"], in[1].Metadata["timestamp"])
	}
	if _, err := (anonymize.BucketTimestamp{Window: -time.Second}).Apply(context.Background(), in); !errors.Is(err, domain.ErrInvalidInput) {
		t.Fatalf("negative window: %v", err)
	}
}

func TestBucketTimeExact(t *testing.T) {
	cases := []struct {
		t      time.Time
		window time.Duration
		want   time.Time
	}{
		{time.Unix(19, 5), 10 * time.Second, time.Unix(10, 0)},
		{time.Unix(-1, 0), 10 * time.Second, time.Unix(-10, 0)},
		{time.Unix(0, 1_500_000_000), 700 * time.Millisecond, time.Unix(1, 400_000_000)},
		{time.Unix(-1, 0), 700 * time.Millisecond, time.Unix(-2, 600_000_000)},
		// Far outside the range of UnixNano.
		{time.Date(9999, 12, 31, 23, 59, 59, 999, time.UTC), 300 * time.Millisecond, time.Date(9999, 12, 31, 23, 59, 58, 800_000_000, time.UTC)},
		{time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), time.Hour, time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		got := anonymize.BucketTime(c.t, c.window)
		if !got.Equal(c.want) {
			t.Errorf("BucketTime(%v, %v) = %v, want %v", c.t, c.window, got, c.want)
		}
	}
}

func TestPadPlans(t *testing.T) {
	p := anonymize.Planner{}
	capMax := domain.FrameCapacity(domain.MiB, anonymize.DefaultOverhead)
	cases := []struct {
		n, chunks, data, size int
	}{
		{0, 1, 1, domain.KiB},
		{1, 1, 1, domain.KiB},
		{domain.KiB - 64, 1, 1, domain.KiB},
		{domain.KiB - 63, 1, 1, 4 * domain.KiB},
		{capMax, 1, 1, domain.MiB},
		{capMax + 1, 2, 2, domain.MiB},
		{3 * domain.MiB, 4, 4, domain.MiB},
		{5*capMax + 1, 6, 6, domain.MiB},
		{8*capMax + 1, 10, 9, domain.MiB}, // Padmé(9) = 10
	}
	for _, c := range cases {
		plan, err := p.Plan(c.n)
		if err != nil {
			t.Fatal(err)
		}
		if plan.Chunks != c.chunks || plan.DataChunks != c.data || plan.ChunkSize != c.size {
			t.Errorf("Plan(%d) = %+v, want %d chunks (%d data) of %d", c.n, plan, c.chunks, c.data, c.size)
		}
		if plan.StoredBytes != plan.Chunks*plan.ChunkSize || plan.PaddedBytes != plan.Chunks*(plan.ChunkSize-anonymize.DefaultOverhead) {
			t.Errorf("Plan(%d) totals: %+v", c.n, plan)
		}
		if plan.PaddedBytes < c.n+anonymize.DefaultOverhead*0+4 {
			t.Errorf("Plan(%d) padded %d is too small", c.n, plan.PaddedBytes)
		}
	}
	if _, err := p.Plan(-1); !errors.Is(err, domain.ErrInvalidInput) {
		t.Fatal(err)
	}
	bad := anonymize.Planner{Overhead: 2 * domain.MiB}
	if _, err := bad.Plan(1); !errors.Is(err, domain.ErrInvalidInput) {
		t.Fatal(err)
	}
}

func TestPadPlanPadme(t *testing.T) {
	p := anonymize.Planner{Policy: domain.DefaultPadme()}
	for _, n := range []int{0, 1, 1000, 5000, 100_000, domain.MiB - 64, 3 * domain.MiB} {
		plan, err := p.Plan(n)
		if err != nil {
			t.Fatal(err)
		}
		if !domain.DefaultPadme().Allowed(plan.ChunkSize) {
			t.Errorf("Plan(%d) chunk size %d is not a Padmé size", n, plan.ChunkSize)
		}
	}
}

func TestPadStage(t *testing.T) {
	in := batchOf("a", "b")
	in[1].Payload = make([]byte, 5000)
	out, err := anonymize.Pad{}.Apply(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Plan.ChunkSize != domain.KiB || out[1].Plan.ChunkSize != 16*domain.KiB || in[0].Plan != nil {
		t.Fatalf("plans %+v %+v", out[0].Plan, out[1].Plan)
	}
}

func TestPadToBucketRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 1019, 1020, 1021, 4092, 4093, domain.MiB - 4} {
		b := bytes.Repeat([]byte{0xa5}, n)
		f, err := anonymize.PadToBucket(b)
		if err != nil {
			t.Fatal(n, err)
		}
		if !slices.Contains(anonymize.Buckets(), len(f)) {
			t.Fatalf("%d bytes padded to %d", n, len(f))
		}
		got, err := anonymize.Unpad(f)
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("%d: %v", n, err)
		}
	}
	if _, err := anonymize.PadToBucket(make([]byte, domain.MiB-3)); !errors.Is(err, domain.ErrInvalidInput) {
		t.Fatal(err)
	}
	f, _ := anonymize.PadToBucket([]byte("x"))
	f[len(f)-1] = 1
	if _, err := anonymize.Unpad(f); !errors.Is(err, domain.ErrIntegrity) {
		t.Fatal(err)
	}
	if _, err := anonymize.Unpad(make([]byte, 1000)); !errors.Is(err, domain.ErrIntegrity) {
		t.Fatal(err)
	}
}

func TestShuffleStageKeepsRequests(t *testing.T) {
	in := batchOf("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t")
	seen := map[string]bool{}
	for range 5 {
		out, err := anonymize.Shuffle{}.Apply(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		got := out.Categories()
		seen[strings.Join(got, ",")] = true
		slices.Sort(got)
		if !slices.Equal(got, in.Categories()) {
			t.Fatalf("shuffle lost requests: %v", got)
		}
	}
	if len(seen) < 2 { // 20! orders: all five equal has probability < 1e-70
		t.Fatal("five shuffles of 20 requests gave the same order")
	}
	if !slices.Equal(in.Categories(), batchOf("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t").Categories()) {
		t.Fatal("input modified")
	}
}

func TestShuffleStageIsUniform(t *testing.T) {
	// 3 requests, 6000 shuffles: chi-square over the 6 orders (5 degrees of
	// freedom). 50.0 has an upper tail below 1e-9 for chi-square(5).
	in := batchOf("a", "b", "c")
	counts := map[string]int{}
	const n = 6000
	for range n {
		out, err := anonymize.Shuffle{}.Apply(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		counts[strings.Join(out.Categories(), "")]++
	}
	if len(counts) != 6 {
		t.Fatalf("orders seen: %v", counts)
	}
	exp := float64(n) / 6
	var chi float64
	for _, c := range counts {
		d := float64(c) - exp
		chi += d * d / exp
	}
	if chi > 50 {
		t.Fatalf("chi-square %.1f over %v", chi, counts)
	}
}

type oneByOne struct{ n int }

func (o *oneByOne) Token(ctx context.Context) ([]byte, error) {
	o.n++
	return []byte{byte(o.n)}, nil
}

func TestAuthorize(t *testing.T) {
	h, _ := newRandomTokens()
	in := batchOf("a", "b", "c")
	out, err := anonymize.Authorize{Source: h}.Apply(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range out {
		if err := h.Verify(context.Background(), r.Token); err != nil {
			t.Fatal(err)
		}
	}
	if in[0].Token != nil {
		t.Fatal("input modified")
	}
	src := &oneByOne{}
	out, err = anonymize.Authorize{Source: src}.Apply(context.Background(), in)
	if err != nil || src.n != 3 || out[2].Token[0] != 3 {
		t.Fatal("single-token source not used once per request", err)
	}
	if _, err := (anonymize.Authorize{}).Apply(context.Background(), in); !errors.Is(err, domain.ErrInvalidInput) {
		t.Fatal(err)
	}
}

func TestChaffStage(t *testing.T) {
	in := batchOf("a", "b")
	in[1].Payload = make([]byte, 3000)
	out, err := anonymize.Chaff{K: 5}.Apply(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 7 || len(in) != 2 {
		t.Fatalf("%d requests", len(out))
	}
	if err := anonymize.Validate(out); err != nil {
		t.Fatal(err)
	}
	for _, r := range out[2:] {
		if !r.Chaff || !anonymize.IsChaff(r.Category) {
			t.Fatalf("dummy %+v is not marked", r.Category)
		}
		if n := len(r.Payload); n != len(in[0].Payload) && n != 3000 {
			t.Fatalf("dummy of %d bytes does not follow the batch sizes", n)
		}
	}
	if _, err := (anonymize.Chaff{K: -1}).Apply(context.Background(), in); !errors.Is(err, domain.ErrInvalidInput) {
		t.Fatal(err)
	}
}

func TestValidateBadInput(t *testing.T) {
	huge := strings.Repeat("x", anonymize.MaxMetadataValueLen+1)
	cases := map[string]anonymize.Batch{
		"empty batch":         {},
		"empty category":      {{Category: ""}},
		"duplicate":           {{Category: "a"}, {Category: "a"}},
		"NUL in name":         {{Category: "a\x00b"}},
		"reserved chaff name": {{Category: anonymize.ChaffPrefix + "x"}},
		"huge value":          {{Category: "a", Metadata: map[string]string{"k": huge}}},
		"binary value":        {{Category: "a", Metadata: map[string]string{"k": "\xff\xfe"}}},
		"binary key":          {{Category: "a", Metadata: map[string]string{"\xff": "v"}}},
		"empty key":           {{Category: "a", Metadata: map[string]string{"": "v"}}},
	}
	for name, b := range cases {
		if err := anonymize.Validate(b); !errors.Is(err, domain.ErrInvalidInput) {
			t.Errorf("%s: %v", name, err)
		}
		if _, err := anonymize.NewPipeline(anonymize.Pad{}).Apply(context.Background(), b); !errors.Is(err, domain.ErrInvalidInput) {
			t.Errorf("pipeline, %s: %v", name, err)
		}
	}
	if err := anonymize.Validate(anonymize.Batch{{Category: "zero", Payload: nil}}); err != nil {
		t.Fatalf("0-byte payload: %v", err)
	}
}

func TestPipelineComposes(t *testing.T) {
	h, _ := newRandomTokens()
	inner := anonymize.NewPipeline(anonymize.StripMetadata{}, anonymize.BucketTimestamp{Clock: fixedClock(time.Unix(1234567, 0))})
	p := anonymize.NewPipeline(inner, nil, anonymize.Pad{}, anonymize.Shuffle{}, anonymize.Authorize{Source: h})
	if !strings.Contains(p.Name(), "pipeline(strip-metadata,bucket-timestamp),pad,shuffle,authorize") {
		t.Fatal(p.Name())
	}
	out, err := p.Apply(context.Background(), batchOf("a", "b", "c"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range out {
		if r.Plan == nil || len(r.Token) == 0 || len(r.Stripped) != 2 || r.Timestamp.Unix() != 1234560 {
			t.Fatalf("request not fully processed: %+v", r)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Apply(ctx, batchOf("a")); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

func TestNewNeedsVaultAndTokenSource(t *testing.T) {
	ctx := context.Background()
	v, err := vault.Create(ctx, vault.Config{Store: fakes.NewStore(), Crypto: suite.New(kdf.InsecureTestPolicy())}, []byte("p"))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if _, err := anonymize.New(anonymize.Config{Vault: v}); !errors.Is(err, domain.ErrInvalidInput) || !strings.Contains(err.Error(), "token source") {
		t.Fatalf("New without tokens: %v", err)
	}
	if _, err := anonymize.New(anonymize.Config{}); !errors.Is(err, domain.ErrInvalidInput) {
		t.Fatalf("New without a vault: %v", err)
	}
}

// markChaff is a broken pipeline stage that adds a "dummy" under the name of a
// real category, which would overwrite it and never be purged.
type markChaff struct{}

func (markChaff) Name() string { return "mark-chaff" }
func (markChaff) Apply(_ context.Context, b anonymize.Batch) (anonymize.Batch, error) {
	return append(b.Clone(), anonymize.Request{Category: "contacts", Payload: []byte("random"), Chaff: true}), nil
}

func TestCloakRefusesChaffUnderARealName(t *testing.T) {
	ctx := context.Background()
	v, err := vault.Create(ctx, vault.Config{Store: fakes.NewStore(), Crypto: suite.New(kdf.InsecureTestPolicy())}, []byte("p"))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	tokens, err := newRandomTokens()
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Store(ctx, "contacts", []byte("the real contacts")); err != nil {
		t.Fatal(err)
	}
	p := anonymize.NewPipeline(markChaff{}, anonymize.Pad{}, anonymize.Authorize{Source: tokens})
	c, err := anonymize.New(anonymize.Config{Vault: v, Tokens: tokens, Pipeline: p})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Store(ctx, map[string][]byte{"notes": []byte("x")})
	if err == nil || !strings.Contains(err.Error(), "chaff outside the reserved names") {
		t.Fatalf("Store through a pipeline that disguises a category as chaff: %v", err)
	}
	if got, _ := v.Load(ctx, "contacts"); string(got) != "the real contacts" {
		t.Fatalf("contacts became %q", got)
	}
	if names, _ := v.Categories(ctx); len(names) != 1 {
		t.Fatalf("stored %v", names)
	}
}
