package anonymize

import (
	"context"
	"slices"
)

// DefaultAllowedMetadata is the allow-list of StripMetadata when none is given:
// the action, the category and the (bucketed) timestamp.
var DefaultAllowedMetadata = []string{"action", "category", "timestamp"}

// StripMetadata keeps only allow-listed metadata fields. The names of the fields
// it removes are recorded, sorted, in Request.Stripped (and so in the report's
// metadata_stripped), never their values.
type StripMetadata struct {
	// Allow is the allow-list; nil means DefaultAllowedMetadata. An empty, non-nil
	// list strips everything.
	Allow []string
}

// Name implements Stage.
func (StripMetadata) Name() string { return "strip-metadata" }

// Apply implements Stage.
func (s StripMetadata) Apply(ctx context.Context, b Batch) (Batch, error) {
	allow := s.Allow
	if allow == nil {
		allow = DefaultAllowedMetadata
	}
	allowed := make(map[string]bool, len(allow))
	for _, k := range allow {
		allowed[k] = true
	}
	out := make(Batch, len(b))
	for i, r := range b {
		out[i] = r
		kept := make(map[string]string, min(len(r.Metadata), len(allowed)))
		stripped := slices.Clone(r.Stripped)
		for k, v := range r.Metadata {
			if allowed[k] {
				kept[k] = v
			} else {
				stripped = append(stripped, k)
			}
		}
		slices.Sort(stripped)
		out[i].Metadata = kept
		out[i].Stripped = slices.Compact(stripped)
	}
	return out, nil
}
