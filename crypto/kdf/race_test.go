//go:build race

package kdf

// raceEnabled reports whether the race detector is on; it slows Argon2 several times.
const raceEnabled = true
