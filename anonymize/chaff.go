package anonymize

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/ai-pantheon/aegis/domain"
)

// MaxChaff bounds the number of dummy requests per batch.
const MaxChaff = 1024

// Chaff adds K dummy requests to every batch. A dummy has a random category name
// under ChaffPrefix, random payload bytes whose length is that of a real request
// of the batch picked at random (so dummies follow the batch's own size
// distribution), a copy of that request's timestamp and metadata, and Chaff set. The Cloak stores dummies through the same
// Vault path as real data, so on the store they are indistinguishable from it, and
// can delete them later (Cloak.PurgeChaff).
type Chaff struct {
	// K is the number of dummies per batch, 0 to MaxChaff.
	K int
	// Random is the source of names, sizes and payloads; nil means crypto/rand.
	Random domain.Random
}

// Name implements Stage.
func (Chaff) Name() string { return "chaff" }

// IsChaff reports whether category is the name of a dummy made by Chaff.
func IsChaff(category string) bool { return strings.HasPrefix(category, ChaffPrefix) }

// Apply implements Stage.
func (s Chaff) Apply(ctx context.Context, b Batch) (Batch, error) {
	if s.K < 0 || s.K > MaxChaff {
		return nil, fmt.Errorf("%w: chaff count %d is outside [0, %d]", domain.ErrInvalidInput, s.K, MaxChaff)
	}
	out := make(Batch, len(b), len(b)+s.K)
	copy(out, b)
	if s.K == 0 {
		return out, nil
	}
	r := s.Random
	if r == nil {
		r = domain.DefaultRandom()
	}
	var real []int
	for i, q := range b {
		if !q.Chaff {
			real = append(real, i)
		}
	}
	for range s.K {
		var name [16]byte
		if _, err := io.ReadFull(r, name[:]); err != nil {
			return nil, fmt.Errorf("anonymize: chaff: %w", err)
		}
		d := Request{Category: ChaffPrefix + hex.EncodeToString(name[:]), Chaff: true, Metadata: map[string]string{}}
		size := domain.KiB
		if len(real) > 0 {
			j, err := domain.UniformInt(r, uint64(len(real)))
			if err != nil {
				return nil, fmt.Errorf("anonymize: chaff: %w", err)
			}
			model := b[real[j]]
			size = len(model.Payload)
			d.Timestamp = model.Timestamp
			for k, v := range model.Metadata {
				d.Metadata[k] = v
			}
		}
		d.Payload = make([]byte, size)
		if _, err := io.ReadFull(r, d.Payload); err != nil {
			return nil, fmt.Errorf("anonymize: chaff: %w", err)
		}
		out = append(out, d)
	}
	return out, nil
}
