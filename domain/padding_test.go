package domain

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestPadmeKnownValues(t *testing.T) {
	// Values from the Padmé definition: keep the top floor(log2 E)+1 bits.
	cases := map[int]int{0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 7: 7, 8: 8, 9: 10, 11: 12, 17: 18, 100: 104, 1000: 1024, 1025: 1088, 1 << 20: 1 << 20, (1 << 20) + 1: (1 << 20) + (1 << 15)}
	for in, want := range cases {
		if got := Padme(in); got != want {
			t.Errorf("Padme(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestPadmeProperties(t *testing.T) {
	for n := 1; n < 1<<16; n++ {
		p := Padme(n)
		if p < n {
			t.Fatalf("Padme(%d) = %d < n", n, p)
		}
		if float64(p-n) > 0.12*float64(n)+1 {
			t.Fatalf("Padme(%d) = %d: overhead above 12%%", n, p)
		}
		if Padme(p) != p {
			t.Fatalf("Padme is not idempotent at %d", p)
		}
	}
}

func TestBucketsSize(t *testing.T) {
	b := DefaultBuckets()
	cases := []struct{ n, want int }{{0, 1024}, {1, 1024}, {1024, 1024}, {1025, 4096}, {16384, 16384}, {16385, 65536}, {MiB, MiB}}
	for _, c := range cases {
		got, ok := b.Size(c.n)
		if !ok || got != c.want {
			t.Errorf("Size(%d) = %d, %v; want %d", c.n, got, ok, c.want)
		}
	}
	if _, ok := b.Size(MiB + 1); ok {
		t.Error("Size above the largest bucket must report false")
	}
	for _, s := range DefaultBucketSizes {
		if !b.Allowed(s) {
			t.Errorf("Allowed(%d) = false", s)
		}
	}
	for _, s := range []int{0, 1000, 1025, 2 * MiB} {
		if b.Allowed(s) {
			t.Errorf("Allowed(%d) = true", s)
		}
	}
	if b.Max() != MiB {
		t.Errorf("Max = %d", b.Max())
	}
}

func TestNewBucketsRejects(t *testing.T) {
	for _, sizes := range [][]int{nil, {100}, {1024, 1024}, {MaxObjectSize + 1}} {
		if _, err := NewBuckets(sizes); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("NewBuckets(%v) error = %v, want ErrInvalidInput", sizes, err)
		}
	}
	b, err := NewBuckets([]int{4096, 1024})
	if err != nil || b.Sizes()[0] != 1024 {
		t.Fatalf("NewBuckets sorts: %v %v", b.Sizes(), err)
	}
}

func TestPadmePolicy(t *testing.T) {
	p := DefaultPadme()
	for n := 0; n <= MiB; n += 997 {
		s, ok := p.Size(n)
		if !ok || s < n || s < p.MinSize || s > p.MaxSize || !p.Allowed(s) {
			t.Fatalf("Size(%d) = %d, %v", n, s, ok)
		}
	}
}

func TestCheckPadding(t *testing.T) {
	for _, ok := range []PaddingPolicy{DefaultBuckets(), DefaultPadme()} {
		if err := CheckPadding(ok); err != nil {
			t.Errorf("CheckPadding(%T) = %v", ok, err)
		}
	}
	for _, bad := range []PaddingPolicy{Buckets{}, PadmePolicy{MinSize: 128, MaxSize: MiB}, PadmePolicy{MinSize: KiB, MaxSize: 2 * MaxObjectSize}, PadmePolicy{}} {
		if err := CheckPadding(bad); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("CheckPadding(%+v) = %v, want ErrInvalidInput", bad, err)
		}
	}
}

// noSizePolicy has room for nothing but the empty payload: its Size refuses any
// other need, as a policy may that was not built with NewBuckets.
type noSizePolicy struct{ Buckets }

func (p noSizePolicy) Size(n int) (int, bool) {
	if n > 64 {
		return 0, false
	}
	return p.Buckets.Size(n)
}

func TestPlanPadding(t *testing.T) {
	const ovh = 60 // crypto/aead
	buckets := DefaultBuckets()
	capMin := FrameCapacity(1*KiB, ovh)
	capMax := FrameCapacity(MiB, ovh)
	cases := []struct {
		name                      string
		p                         PaddingPolicy
		o, n                      int // AEAD overhead, payload length
		chunks, dataChunks, chunk int
	}{
		{"empty", buckets, ovh, 0, 1, 1, 1 * KiB},
		{"one byte", buckets, ovh, 1, 1, 1, 1 * KiB},
		{"smallest bucket full", buckets, ovh, capMin, 1, 1, 1 * KiB},
		{"one byte over the smallest", buckets, ovh, capMin + 1, 1, 1, 4 * KiB},
		{"largest bucket full", buckets, ovh, capMax, 1, 1, MiB},
		{"one byte over the largest", buckets, ovh, capMax + 1, 2, 2, MiB},
		{"two chunks full", buckets, ovh, 2 * capMax, 2, 2, MiB},
		{"three chunks", buckets, ovh, 2*capMax + 1, 3, 3, MiB},
		{"nine chunks: Padmé pads to ten", buckets, ovh, 8*capMax + 1, 10, 9, MiB},
		{"ten chunks full", buckets, ovh, 10 * capMax, 10, 10, MiB},
		{"seventeen chunks: Padmé pads to eighteen", buckets, ovh, 16*capMax + 1, 18, 17, MiB},
		{"Padmé policy, empty", DefaultPadme(), ovh, 0, 1, 1, 1 * KiB},
		{"Padmé policy, 2000 bytes", DefaultPadme(), ovh, 2000, 1, 1, 2176},
		{"Padmé policy, full", DefaultPadme(), ovh, capMax, 1, 1, MiB},
		{"Padmé policy, nine chunks", DefaultPadme(), ovh, 8*capMax + 1, 10, 9, MiB},
		{"no overhead", PadmePolicy{MinSize: 512, MaxSize: 4096}, 0, 4096 - FrameHeaderSize, 1, 1, 4096},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := PlanPadding(c.p, c.o, c.n)
			if err != nil {
				t.Fatal(err)
			}
			want := PaddingPlan{
				PlaintextBytes: c.n, Chunks: c.chunks, DataChunks: c.dataChunks, ChunkSize: c.chunk,
				PaddedBytes: c.chunks * (c.chunk - c.o), StoredBytes: c.chunks * c.chunk,
			}
			if got != want {
				t.Fatalf("PlanPadding(%d) = %+v, want %+v", c.n, got, want)
			}
		})
	}
}

// Every plan holds its payload in allowed sizes, and pads no more than it must.
func TestPlanPaddingProperties(t *testing.T) {
	const ovh = 60
	for _, p := range []PaddingPolicy{DefaultBuckets(), DefaultPadme()} {
		capMax := FrameCapacity(p.Max(), ovh)
		for n := 0; n <= 40*capMax; n += 9973 + n/7 {
			plan, err := PlanPadding(p, ovh, n)
			if err != nil {
				t.Fatalf("PlanPadding(%d): %v", n, err)
			}
			if !p.Allowed(plan.ChunkSize) || plan.DataChunks*FrameCapacity(plan.ChunkSize, ovh) < n {
				t.Fatalf("PlanPadding(%d) = %+v does not hold the payload", n, plan)
			}
			if plan.Chunks < plan.DataChunks || (plan.DataChunks > 1 && (plan.DataChunks-1)*capMax >= n) {
				t.Fatalf("PlanPadding(%d) = %+v: wrong chunk counts", n, plan)
			}
			if b, ok := p.(Buckets); ok && plan.Chunks == 1 {
				for _, s := range b.Sizes() {
					if s < plan.ChunkSize && FrameCapacity(s, ovh) >= n {
						t.Fatalf("PlanPadding(%d) = %+v: %d bytes would do", n, plan, s)
					}
				}
			}
		}
	}
}

func TestPlanPaddingRejects(t *testing.T) {
	tiny, err := NewBuckets([]int{512})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name        string
		p           PaddingPolicy
		overhead, n int
	}{
		{"negative length", DefaultBuckets(), 60, -1},
		{"negative overhead", DefaultBuckets(), -1, 10},
		{"no policy", nil, 60, 10},
		{"policy without sizes", Buckets{}, 60, 10},
		{"overhead fills the largest object", tiny, 512 - FrameHeaderSize, 0},
		{"no size for the payload", noSizePolicy{DefaultBuckets()}, 0, 100},
	}
	for _, c := range cases {
		if plan, err := PlanPadding(c.p, c.overhead, c.n); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%s: PlanPadding = %+v, %v; want ErrInvalidInput", c.name, plan, err)
		}
	}
	// The empty payload still fits noSizePolicy.
	if _, err := PlanPadding(noSizePolicy{DefaultBuckets()}, 0, 0); err != nil {
		t.Errorf("noSizePolicy, 0 bytes: %v", err)
	}
}

func TestPaddingPlanJSON(t *testing.T) {
	plan, err := PlanPadding(DefaultBuckets(), 60, 100)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(plan)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"plaintext_bytes":100,"chunks":1,"data_chunks":1,"chunk_size":1024,"padded_bytes":964,"stored_bytes":1024}`
	if string(b) != want {
		t.Fatalf("JSON = %s, want %s", b, want)
	}
}
