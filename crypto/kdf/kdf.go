// Package kdf turns a passphrase into a key-encryption key with
// PBKDF2-HMAC-SHA256 (crypto/pbkdf2) or Argon2id (golang.org/x/crypto/argon2,
// version 0x13), under a Policy of floors and ceilings.
//
// KDF parameters are stored in clear in the vault header, so an attacker who
// can write the store can also rewrite them. A Policy rejects parameters below
// a floor (a downgrade that would make the passphrase cheap to guess) and above
// a ceiling (a denial of service that would make opening the vault exhaust CPU
// or memory) before any work is done with them.
//
// The default policy (DefaultPolicy) is what the product uses. Its floors follow
// OWASP's Password Storage Cheat Sheet: PBKDF2-HMAC-SHA256 with at least 600,000
// iterations; Argon2id with at least 19 MiB of memory and time × memory of at
// least 2 × 19 MiB. New vaults get PBKDF2 with 600,000 iterations, or Argon2id
// with RFC 9106's second recommended option (t=3, m=64 MiB, p=4); both with a
// 16-byte random salt and a 32-byte key.
package kdf

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"math"

	"golang.org/x/crypto/argon2"

	"github.com/ai-pantheon/aegis/crypto/secret"
	"github.com/ai-pantheon/aegis/domain"
)

// Parameters of new specs under DefaultPolicy, and the fixed output size.
const (
	// KeySize is the size of every derived key: an AES-256 key.
	KeySize = 32
	// SaltSize is the size of the random salt of a new spec.
	SaltSize = 16
	// DefaultPBKDF2Iterations is the PBKDF2-HMAC-SHA256 iteration count of a new spec.
	DefaultPBKDF2Iterations = 600_000
	// DefaultArgon2Time is the Argon2id number of passes of a new spec.
	DefaultArgon2Time = 3
	// DefaultArgon2MemoryKiB is the Argon2id memory of a new spec, in KiB (64 MiB).
	DefaultArgon2MemoryKiB = 64 * 1024
	// DefaultArgon2Threads is the Argon2id number of lanes of a new spec.
	DefaultArgon2Threads = 4
)

// Range is the closed interval [Min, Max].
type Range struct {
	Min, Max uint32
}

// Contains reports whether Min <= v <= Max.
func (r Range) Contains(v uint32) bool { return r.Min <= v && v <= r.Max }

// Policy says which KDF parameters are acceptable and which parameters new
// specs get. All fields are exported so that callers can build their own; the
// zero Policy accepts nothing.
type Policy struct {
	// PBKDF2Iterations bounds the PBKDF2-HMAC-SHA256 iteration count.
	PBKDF2Iterations Range
	// Argon2Time bounds the Argon2id number of passes.
	Argon2Time Range
	// Argon2MemoryKiB bounds the Argon2id memory, in KiB.
	Argon2MemoryKiB Range
	// Argon2MinTimeMemory is the floor on Argon2id time × memory (passes × KiB),
	// which trades passes against memory as OWASP's equivalent settings do.
	Argon2MinTimeMemory uint64
	// Argon2Threads bounds the Argon2id number of lanes.
	Argon2Threads Range
	// SaltLen bounds the salt length in bytes, for every KDF.
	SaltLen Range

	// The parameters NewSpec gives new specs. They must lie within the bounds.
	DefaultPBKDF2Iterations uint32
	DefaultArgon2Time       uint32
	DefaultArgon2MemoryKiB  uint32
	DefaultArgon2Threads    uint8
	DefaultSaltLen          uint32
}

// DefaultPolicy returns the policy the product uses:
//
//	PBKDF2-HMAC-SHA256 iterations   [600000, 10000000]
//	Argon2id time                   [1, 10]
//	Argon2id memory                 [19456 KiB, 1048576 KiB (1 GiB)]
//	Argon2id time × memory          >= 38912
//	Argon2id threads                [1, 16]
//	salt length                     [16, 64] bytes
//
// and new specs with the Default* constants and a SaltSize-byte salt.
func DefaultPolicy() Policy {
	return Policy{
		PBKDF2Iterations:    Range{600_000, 10_000_000},
		Argon2Time:          Range{1, 10},
		Argon2MemoryKiB:     Range{19_456, 1 << 20},
		Argon2MinTimeMemory: 2 * 19_456,
		Argon2Threads:       Range{1, 16},
		SaltLen:             Range{16, 64},

		DefaultPBKDF2Iterations: DefaultPBKDF2Iterations,
		DefaultArgon2Time:       DefaultArgon2Time,
		DefaultArgon2MemoryKiB:  DefaultArgon2MemoryKiB,
		DefaultArgon2Threads:    DefaultArgon2Threads,
		DefaultSaltLen:          SaltSize,
	}
}

// InsecureTestPolicy returns a policy with low floors and cheap defaults
// (PBKDF2 with 1,000 iterations; Argon2id with t=1, m=64 KiB, p=1) so that
// tests and benchmarks run fast. Its ceilings are those of DefaultPolicy.
//
// Never use it outside tests: a vault created under it is cheap to brute-force,
// and DefaultPolicy refuses to open it.
func InsecureTestPolicy() Policy {
	p := DefaultPolicy()
	p.PBKDF2Iterations.Min = 1_000
	p.Argon2MemoryKiB.Min = 8
	p.Argon2MinTimeMemory = 0
	p.DefaultPBKDF2Iterations = 1_000
	p.DefaultArgon2Time = 1
	p.DefaultArgon2MemoryKiB = 64
	p.DefaultArgon2Threads = 1
	return p
}

// NewSpec returns the policy's default parameters of the named KDF ("" means
// PBKDF2-SHA256) with a fresh random salt. An unknown name is an error wrapping
// domain.ErrUnsupportedVersion.
func (p Policy) NewSpec(name string) (domain.KDFSpec, error) {
	var spec domain.KDFSpec
	switch name {
	case "", domain.KDFPBKDF2SHA256:
		spec = domain.KDFSpec{Name: domain.KDFPBKDF2SHA256, Iterations: p.DefaultPBKDF2Iterations}
	case domain.KDFArgon2id:
		spec = domain.KDFSpec{
			Name:      domain.KDFArgon2id,
			Time:      p.DefaultArgon2Time,
			MemoryKiB: p.DefaultArgon2MemoryKiB,
			Threads:   p.DefaultArgon2Threads,
		}
	default:
		return domain.KDFSpec{}, unknown(name)
	}
	if !p.SaltLen.Contains(p.DefaultSaltLen) {
		return domain.KDFSpec{}, fmt.Errorf("aegis/crypto: policy's default salt length %d out of range [%d, %d]: %w",
			p.DefaultSaltLen, p.SaltLen.Min, p.SaltLen.Max, domain.ErrKDFParams)
	}
	spec.Salt = make([]byte, p.DefaultSaltLen)
	// crypto/rand.Read never returns an error: it crashes the program
	// irrecoverably if the operating system's generator fails.
	rand.Read(spec.Salt)
	if err := p.Check(spec); err != nil {
		return domain.KDFSpec{}, fmt.Errorf("aegis/crypto: policy's defaults are outside its own bounds: %w", err)
	}
	return spec, nil
}

// Check reports whether spec is acceptable under the policy. An unknown KDF
// name is an error wrapping domain.ErrUnsupportedVersion; a parameter out of
// range is an error wrapping domain.ErrKDFParams whose message names the
// parameter, its value and the allowed range.
func (p Policy) Check(spec domain.KDFSpec) error {
	switch spec.Name {
	case domain.KDFPBKDF2SHA256:
		if spec.Time != 0 || spec.MemoryKiB != 0 || spec.Threads != 0 {
			return fmt.Errorf("aegis/crypto: %s spec carries Argon2id parameters (time %d, memory %d KiB, threads %d): %w",
				spec.Name, spec.Time, spec.MemoryKiB, spec.Threads, domain.ErrKDFParams)
		}
		// What PBKDF2 itself needs, whatever the policy says.
		if err := inRange(spec.Name, "iterations", spec.Iterations, Range{1, math.MaxInt32}); err != nil {
			return err
		}
		if err := inRange(spec.Name, "iterations", spec.Iterations, p.PBKDF2Iterations); err != nil {
			return err
		}
	case domain.KDFArgon2id:
		if spec.Iterations != 0 {
			return fmt.Errorf("aegis/crypto: %s spec carries a PBKDF2 iteration count (%d): %w",
				spec.Name, spec.Iterations, domain.ErrKDFParams)
		}
		// What Argon2 itself needs (RFC 9106, section 3.1), whatever the policy
		// says: x/crypto/argon2 panics on zero time or threads and silently
		// raises a memory below 8 KiB per lane.
		if spec.Time < 1 || spec.Threads < 1 {
			return fmt.Errorf("aegis/crypto: %s time %d and threads %d must be at least 1: %w",
				spec.Name, spec.Time, spec.Threads, domain.ErrKDFParams)
		}
		if uint64(spec.MemoryKiB) < 8*uint64(spec.Threads) {
			return fmt.Errorf("aegis/crypto: %s memory %d KiB below 8 KiB × threads (%d): %w",
				spec.Name, spec.MemoryKiB, spec.Threads, domain.ErrKDFParams)
		}
		if err := inRange(spec.Name, "time", spec.Time, p.Argon2Time); err != nil {
			return err
		}
		if err := inRange(spec.Name, "memory (KiB)", spec.MemoryKiB, p.Argon2MemoryKiB); err != nil {
			return err
		}
		if err := inRange(spec.Name, "threads", uint32(spec.Threads), p.Argon2Threads); err != nil {
			return err
		}
		if cost := uint64(spec.Time) * uint64(spec.MemoryKiB); cost < p.Argon2MinTimeMemory {
			return fmt.Errorf("aegis/crypto: %s time × memory %d (%d × %d KiB) below the floor %d: %w",
				spec.Name, cost, spec.Time, spec.MemoryKiB, p.Argon2MinTimeMemory, domain.ErrKDFParams)
		}
	default:
		return unknown(spec.Name)
	}
	if n := uint64(len(spec.Salt)); n < uint64(p.SaltLen.Min) || n > uint64(p.SaltLen.Max) {
		return fmt.Errorf("aegis/crypto: %s salt length %d out of range [%d, %d]: %w",
			spec.Name, n, p.SaltLen.Min, p.SaltLen.Max, domain.ErrKDFParams)
	}
	return nil
}

// Derive checks spec against the policy and, if it passes, derives a KeySize-byte
// key from passphrase. Nothing is computed for a spec that fails the check.
func (p Policy) Derive(passphrase []byte, spec domain.KDFSpec) (*secret.Key, error) {
	if err := p.Check(spec); err != nil {
		return nil, err
	}
	b, err := derive(passphrase, spec, KeySize)
	if err != nil {
		return nil, err
	}
	k := secret.New(b)
	clear(b)
	return k, nil
}

// derive runs the KDF named by spec without any policy check. The known-answer
// tests call it directly, with the test vectors' short salts and output sizes.
func derive(passphrase []byte, spec domain.KDFSpec, keyLen int) ([]byte, error) {
	switch spec.Name {
	case domain.KDFPBKDF2SHA256:
		// crypto/pbkdf2 takes the password as a string: the conversion makes a
		// copy that cannot be zeroed, as the HMAC state keyed with it cannot be.
		key, err := pbkdf2.Key(sha256.New, string(passphrase), spec.Salt, int(spec.Iterations), keyLen)
		if err != nil {
			return nil, fmt.Errorf("aegis/crypto: pbkdf2: %w", err)
		}
		return key, nil
	case domain.KDFArgon2id:
		return argon2.IDKey(passphrase, spec.Salt, spec.Time, spec.MemoryKiB, spec.Threads, uint32(keyLen)), nil
	default:
		return nil, unknown(spec.Name)
	}
}

// Check checks spec against DefaultPolicy.
func Check(spec domain.KDFSpec) error { return DefaultPolicy().Check(spec) }

// Derive checks spec against DefaultPolicy and derives a key from passphrase.
func Derive(passphrase []byte, spec domain.KDFSpec) (*secret.Key, error) {
	return DefaultPolicy().Derive(passphrase, spec)
}

// NewSpec returns DefaultPolicy's parameters of the named KDF with a fresh salt.
func NewSpec(name string) (domain.KDFSpec, error) { return DefaultPolicy().NewSpec(name) }

func inRange(kdf, param string, v uint32, r Range) error {
	if r.Contains(v) {
		return nil
	}
	return fmt.Errorf("aegis/crypto: %s %s %d out of range [%d, %d]: %w", kdf, param, v, r.Min, r.Max, domain.ErrKDFParams)
}

func unknown(name string) error {
	return fmt.Errorf("aegis/crypto: unknown KDF %q: %w", name, domain.ErrUnsupportedVersion)
}
