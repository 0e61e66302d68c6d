package domain

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
)

// Shuffle permutes n elements uniformly at random with Fisher-Yates, drawing from r
// (crypto/rand.Reader when r is nil). Each index comes from rejection sampling, so
// there is no modulo bias.
func Shuffle(r Random, n int, swap func(i, j int)) error {
	if r == nil {
		r = DefaultRandom()
	}
	for i := n - 1; i > 0; i-- {
		j, err := UniformInt(r, uint64(i)+1)
		if err != nil {
			return err
		}
		swap(i, int(j))
	}
	return nil
}

// Permutation returns a uniformly random permutation of [0, n).
func Permutation(r Random, n int) ([]int, error) {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	err := Shuffle(r, n, func(i, j int) { p[i], p[j] = p[j], p[i] })
	return p, err
}

// UniformInt returns a uniform integer in [0, bound) read from r (crypto/rand.Reader
// when r is nil). bound must be > 0.
func UniformInt(r Random, bound uint64) (uint64, error) {
	if bound == 0 {
		panic("aegis: UniformInt bound is zero")
	}
	if bound == 1 {
		return 0, nil
	}
	if r == nil {
		r = DefaultRandom()
	}
	// Rejection sampling on the smallest power-of-two mask covering bound-1.
	mask := uint64(1)<<bits.Len64(bound-1) - 1
	var b [8]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, fmt.Errorf("aegis: randomness: %w", err)
		}
		v := binary.LittleEndian.Uint64(b[:]) & mask
		if v < bound {
			return v, nil
		}
	}
}
