package vault

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/ai-pantheon/aegis/domain"
)

// resultCase is a payload length and the plan it must be stored by.
type resultCase struct {
	name string
	n    int
	plan domain.PaddingPlan
}

// resultCases are payloads around the object sizes of pol, through padding chunks.
func resultCases(t *testing.T, pol domain.PaddingPolicy, ovh int) []resultCase {
	t.Helper()
	smallest, _ := pol.Size(0)
	capMin := domain.FrameCapacity(smallest, ovh)
	capMax := domain.FrameCapacity(pol.Max(), ovh)
	var cases []resultCase
	for _, n := range []int{0, 100, capMin, capMin + 1, capMax, capMax + 1, 3*capMax - 7, 8*capMax + 1, 16*capMax + 1} {
		plan, err := domain.PlanPadding(pol, ovh, n)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, resultCase{fmt.Sprintf("%d bytes", n), n, plan})
	}
	if p := cases[len(cases)-1].plan; p.Chunks == p.DataChunks {
		t.Fatalf("no case has padding chunks: %+v", p)
	}
	return cases
}

// checkResult compares what a write reported, and what the vault recorded, with
// the plan.
func checkResult(t *testing.T, v *Vault, ovh int, got BatchItemResult, want domain.PaddingPlan) {
	t.Helper()
	if got.PlaintextBytes != uint64(want.PlaintextBytes) || got.Objects != want.Chunks ||
		got.PaddedBytes != uint64(want.PaddedBytes) || got.StoredBytes != uint64(want.StoredBytes) {
		t.Fatalf("result %+v, plan %+v", got, want)
	}
	e := v.man.categories[got.Category]
	if e.size != got.PlaintextBytes || len(e.chunks) != want.Chunks {
		t.Fatalf("entry of %d bytes in %d chunks, plan %+v", e.size, len(e.chunks), want)
	}
	var padded uint64
	for i, c := range e.chunks {
		if int(c.size) != want.ChunkSize {
			t.Fatalf("chunk %d is %d bytes, plan %+v", i, c.size, want)
		}
		padded += uint64(int(c.size) - ovh)
	}
	if padded != got.PaddedBytes {
		t.Fatalf("chunks hold %d encrypted bytes, result says %d", padded, got.PaddedBytes)
	}
}

func resultPolicies(t *testing.T) map[string]domain.PaddingPolicy {
	return map[string]domain.PaddingPolicy{
		"buckets": testPolicy(t),
		"padme":   domain.PadmePolicy{MinSize: 512, MaxSize: 4096},
	}
}

func testOverhead(t *testing.T) int {
	t.Helper()
	d, err := keyedCrypto{}.NewDEK()
	if err != nil {
		t.Fatal(err)
	}
	return d.Overhead()
}

// StoreBatch reports, per item, the objects PlanPadding plans, and the bytes the
// AEAD encrypted.
func TestStoreBatchResultFollowsPlan(t *testing.T) {
	ctx := context.Background()
	ovh := testOverhead(t)
	for name, pol := range resultPolicies(t) {
		t.Run(name, func(t *testing.T) {
			v, err := Create(ctx, Config{Store: newMapStore(), Crypto: keyedCrypto{}, Padding: pol}, testPass)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			cases := resultCases(t, pol, ovh)
			items := make([]BatchItem, len(cases))
			for i, c := range cases {
				items[i] = BatchItem{Category: fmt.Sprintf("c%d", i), Data: randomBytes(c.n)}
			}
			res, err := v.StoreBatch(ctx, items)
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					checkResult(t, v, ovh, res.Items[i], c.plan)
					if got, err := v.Load(ctx, items[i].Category); err != nil || !bytes.Equal(got, items[i].Data) {
						t.Fatalf("Load: %d bytes, %v", len(got), err)
					}
				})
			}
		})
	}
}

// Stream reports the same, whether the reader tells its length (one object is
// sealed in place) or not (the payload is read chunk by chunk).
func TestStreamResultFollowsPlan(t *testing.T) {
	ctx := context.Background()
	ovh := testOverhead(t)
	for name, pol := range resultPolicies(t) {
		t.Run(name, func(t *testing.T) {
			v, err := Create(ctx, Config{Store: newMapStore(), Crypto: keyedCrypto{}, Padding: pol}, testPass)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			for _, c := range resultCases(t, pol, ovh) {
				data := randomBytes(c.n)
				for _, known := range []bool{true, false} {
					t.Run(fmt.Sprintf("%s, length known %v", c.name, known), func(t *testing.T) {
						var r io.Reader = bytes.NewReader(data)
						if !known {
							r = struct{ io.Reader }{r}
						}
						res, err := v.Stream(ctx, "a", r)
						if err != nil {
							t.Fatal(err)
						}
						checkResult(t, v, ovh, res, c.plan)
						if got, err := v.Load(ctx, "a"); err != nil || !bytes.Equal(got, data) {
							t.Fatalf("Load: %d bytes, %v", len(got), err)
						}
					})
				}
			}
		})
	}
}
