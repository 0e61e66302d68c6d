package anonymize_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/anonymize"
)

// The Cloak's end-to-end benchmark on memblob and fsblob,
// BenchmarkCloakStore100x1300B, is in the benchmarks module: this module's tests
// do not use the adapters.

func benchBatch(n int) anonymize.Batch {
	b := make(anonymize.Batch, n)
	for i := range b {
		b[i] = anonymize.Request{
			Category:  fmt.Sprintf("category-%04d", i),
			Payload:   make([]byte, 1300),
			Metadata:  map[string]string{"action": "store", "user-agent": "aegis/0.1", "session": "abc", "timestamp": "1700000000"},
			Timestamp: time.Unix(1_700_000_000+int64(i), 0),
		}
	}
	return b
}

func BenchmarkStages1000(b *testing.B) {
	tokens, err := newRandomTokens()
	if err != nil {
		b.Fatal(err)
	}
	stages := []anonymize.Stage{
		anonymize.StripMetadata{},
		anonymize.BucketTimestamp{},
		anonymize.Pad{},
		anonymize.Shuffle{},
		anonymize.Authorize{Source: tokens},
		anonymize.Chaff{K: 10},
		anonymize.NewPipeline(anonymize.StripMetadata{}, anonymize.BucketTimestamp{}, anonymize.Pad{}, anonymize.Shuffle{}, anonymize.Authorize{Source: tokens}),
	}
	batch := benchBatch(1000)
	ctx := context.Background()
	for _, s := range stages {
		b.Run(s.Name(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Apply(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
