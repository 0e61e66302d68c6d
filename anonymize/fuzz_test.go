package anonymize_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/anonymize"
	"github.com/ai-pantheon/aegis/domain"
)

// decodeBatch turns arbitrary bytes into a batch: sizes, names, metadata and
// timestamps all come from the input, so the fuzzer explores bad input as well.
func decodeBatch(data []byte) anonymize.Batch {
	next := func(n int) []byte {
		n = min(n, len(data))
		out := data[:n]
		data = data[n:]
		return out
	}
	byteOr := func(d byte) byte {
		if b := next(1); len(b) == 1 {
			return b[0]
		}
		return d
	}
	count := int(byteOr(1) % 9)
	b := make(anonymize.Batch, 0, count)
	for range count {
		r := anonymize.Request{Category: string(next(int(byteOr(1) % 24)))}
		size := int(byteOr(0)) * int(byteOr(0)) * int(byteOr(0)) % (3 * domain.MiB)
		r.Payload = make([]byte, size)
		if fields := int(byteOr(0) % 5); fields > 0 {
			r.Metadata = map[string]string{}
			for range fields {
				k := string(next(int(byteOr(1) % 10)))
				r.Metadata[k] = string(next(int(byteOr(0) % 16)))
			}
		}
		if ts := next(8); len(ts) == 8 {
			var sec int64
			for _, c := range ts {
				sec = sec<<8 | int64(c)
			}
			r.Timestamp = time.Unix(sec%(1<<40), int64(byteOr(0))*3_000_000)
		}
		b = append(b, r)
	}
	return b
}

func FuzzPipeline(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{3, 1, 'a', 1, 1, 1, 0, 1, 2, 'b', 'c', 5, 5, 5, 2, 6, 'a', 'c', 't', 'i', 'o', 'n', 3, 'x', 'y', 'z'})
	f.Add([]byte{2, 1, 'a', 0, 0, 0, 0, 1, 'a'})                      // duplicate names
	f.Add([]byte{1, 0})                                               // empty name
	f.Add([]byte{1, 2, 0xff, 0xfe, 9, 9, 9, 1, 1, 'k', 2, 0xff, 0})   // binary name and metadata
	f.Add([]byte{1, 1, 'x', 255, 255, 40, 0, 1, 2, 3, 4, 5, 6, 7, 8}) // large payload, timestamp
	tokens, err := newRandomTokens()
	if err != nil {
		f.Fatal(err)
	}
	clock := fixedClock(time.Date(2026, 1, 1, 0, 0, 3, 0, time.UTC))
	const chaff = 2
	p := anonymize.NewPipeline(
		anonymize.StripMetadata{},
		anonymize.BucketTimestamp{Clock: clock},
		anonymize.Chaff{K: chaff},
		anonymize.Pad{},
		anonymize.Shuffle{},
		anonymize.Authorize{Source: tokens},
	)
	f.Fuzz(func(t *testing.T, data []byte) {
		in := decodeBatch(data)
		snapshot := in.Clone()
		out, err := p.Apply(context.Background(), in)
		if !reflect.DeepEqual(in, snapshot) {
			t.Fatal("the pipeline modified its input")
		}
		if verr := anonymize.Validate(in); verr != nil {
			if !errors.Is(err, domain.ErrInvalidInput) {
				t.Fatalf("invalid batch (%v) gave %v", verr, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("valid batch failed: %v", err)
		}
		if len(out) != len(in)+chaff {
			t.Fatalf("%d requests in, %d out", len(in), len(out))
		}
		want := in.Categories()
		var got []string
		allowed := map[string]bool{}
		for _, k := range anonymize.DefaultAllowedMetadata {
			allowed[k] = true
		}
		for _, r := range out {
			if r.Chaff != anonymize.IsChaff(r.Category) {
				t.Fatalf("request %q: chaff mark %v", r.Category, r.Chaff)
			}
			if !r.Chaff {
				got = append(got, r.Category)
			}
			for k := range r.Metadata {
				if !allowed[k] {
					t.Fatalf("metadata %q survived stripping", k)
				}
			}
			for _, k := range r.Stripped {
				if allowed[k] {
					t.Fatalf("allowed field %q was stripped", k)
				}
			}
			if r.Timestamp.Nanosecond() != 0 || r.Timestamp.Unix()%10 != 0 || r.Timestamp.Location() != time.UTC {
				t.Fatalf("timestamp %v is not bucketed", r.Timestamp)
			}
			if r.Plan == nil || r.Plan.PlaintextBytes != len(r.Payload) || r.Plan.Chunks < r.Plan.DataChunks ||
				!domain.DefaultBuckets().Allowed(r.Plan.ChunkSize) ||
				r.Plan.Chunks*domain.FrameCapacity(r.Plan.ChunkSize, anonymize.DefaultOverhead) < len(r.Payload) {
				t.Fatalf("bad plan %+v for %d bytes", r.Plan, len(r.Payload))
			}
			if err := tokens.Verify(context.Background(), r.Token); err != nil {
				t.Fatalf("token: %v", err)
			}
			if err := tokens.Verify(context.Background(), r.Token); !errors.Is(err, anonymize.ErrTokenSpent) {
				t.Fatalf("token spent twice: %v", err)
			}
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(want, got) {
			t.Fatalf("categories %v became %v", want, got)
		}
	})
}
