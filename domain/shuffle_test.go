package domain

import (
	"bytes"
	"testing"
)

func TestUniformIntRange(t *testing.T) {
	for _, bound := range []uint64{1, 2, 3, 7, 1000, 1<<63 + 5} {
		for range 200 {
			v, err := UniformInt(nil, bound)
			if err != nil || v >= bound {
				t.Fatalf("UniformInt(%d) = %d, %v", bound, v, err)
			}
		}
	}
}

// TestShuffleUniform checks that every element of a 4-element list lands in every
// position with the expected frequency (chi-square over 16 cells, 15 degrees of
// freedom; the threshold 60 has a false-failure probability below 1e-6).
func TestShuffleUniform(t *testing.T) {
	const n, trials = 4, 40000
	var counts [n][n]int
	for range trials {
		p, err := Permutation(nil, n)
		if err != nil {
			t.Fatal(err)
		}
		for pos, v := range p {
			counts[v][pos]++
		}
	}
	exp := float64(trials) / n
	chi := 0.0
	for i := range n {
		for j := range n {
			d := float64(counts[i][j]) - exp
			chi += d * d / exp
		}
	}
	if chi > 60 {
		t.Fatalf("chi-square %.1f: shuffle is not uniform: %v", chi, counts)
	}
}

func TestShuffleFailsOnBrokenRandomness(t *testing.T) {
	if err := Shuffle(bytes.NewReader(nil), 5, func(i, j int) {}); err == nil {
		t.Fatal("Shuffle with an empty random source must fail")
	}
}
