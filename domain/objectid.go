package domain

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
)

// ObjectIDSize is the size of an object id in bytes.
const ObjectIDSize = 32

// ObjectID names one stored object: 32 random bytes, written as 64 lowercase hex characters.
// Ids carry no information about what an object holds.
type ObjectID [ObjectIDSize]byte

// NewObjectID returns a fresh random id read from r (crypto/rand.Reader when r is nil).
func NewObjectID(r io.Reader) (ObjectID, error) {
	if r == nil {
		r = rand.Reader
	}
	var id ObjectID
	if _, err := io.ReadFull(r, id[:]); err != nil {
		return ObjectID{}, fmt.Errorf("aegis: object id: %w", err)
	}
	return id, nil
}

// String returns the 64-character lowercase hex form.
func (id ObjectID) String() string { return hex.EncodeToString(id[:]) }

// ParseObjectID parses the canonical form: exactly 64 lowercase hex characters.
func ParseObjectID(s string) (ObjectID, error) {
	var id ObjectID
	if len(s) != 2*ObjectIDSize {
		return id, fmt.Errorf("%w: object id must be %d lowercase hex characters, got %d characters", ErrInvalidInput, 2*ObjectIDSize, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return id, fmt.Errorf("%w: object id has a character that is not lowercase hex at offset %d", ErrInvalidInput, i)
		}
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("%w: object id: %v", ErrInvalidInput, err)
	}
	return id, nil
}
