// Package anonymize is the Cloak: request anonymization in front of the Vault.
//
// A store request passes through a Pipeline of small stages, each usable and
// tested alone:
//
//	StripMetadata   keeps only allow-listed metadata fields and records the rest
//	BucketTimestamp rounds timestamps down to a window (10 s by default)
//	Chaff           optionally adds dummy requests that look like real ones
//	Pad             plans the padded, chunked form of every payload
//	Shuffle         permutes the batch with Fisher-Yates over crypto/rand
//	Authorize       attaches one single-use privacy token per request
//
// Cloak wraps a *vault.Vault and a Pipeline: Cloak.Store runs a batch through the
// pipeline and stores it with one manifest commit, its objects written in a
// uniformly random order, and returns a Report of what was done.
//
// The package imports only domain (and the standard library).
package anonymize
