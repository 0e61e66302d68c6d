package domain

import (
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
