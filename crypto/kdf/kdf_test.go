package kdf

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/domain"
)

type vectorFile struct {
	PBKDF2 struct {
		Source  string
		Vectors []struct {
			Password, Salt, Key string
			Iterations          uint32
		}
	} `json:"pbkdf2_sha256"`
	Argon2id struct {
		Source  string
		Vectors []struct {
			Password, Salt, Key string
			Time                uint32
			MemoryKiB           uint32 `json:"memory_kib"`
			Threads             uint8
		}
	} `json:"argon2id"`
}

func loadVectors(t *testing.T) vectorFile {
	t.Helper()
	data, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var f vectorFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.PBKDF2.Vectors) == 0 || len(f.Argon2id.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	return f
}

func TestPBKDF2KnownAnswers(t *testing.T) {
	for _, v := range loadVectors(t).PBKDF2.Vectors {
		want, _ := hex.DecodeString(v.Key)
		spec := domain.KDFSpec{Name: domain.KDFPBKDF2SHA256, Iterations: v.Iterations, Salt: []byte(v.Salt)}
		got, err := derive([]byte(v.Password), spec, len(want))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("PBKDF2(%q, %q, %d) = %x, want %x", v.Password, v.Salt, v.Iterations, got, want)
		}
	}
}

func TestArgon2idKnownAnswers(t *testing.T) {
	for _, v := range loadVectors(t).Argon2id.Vectors {
		name := fmt.Sprintf("%s/%s/t=%d/m=%d/p=%d", v.Password, v.Salt, v.Time, v.MemoryKiB, v.Threads)
		t.Run(name, func(t *testing.T) {
			if v.MemoryKiB > 65536 && (testing.Short() || raceEnabled) {
				t.Skip("256 MiB vector skipped in -short mode and under the race detector")
			}
			t.Parallel()
			want, _ := hex.DecodeString(v.Key)
			spec := domain.KDFSpec{Name: domain.KDFArgon2id, Time: v.Time, MemoryKiB: v.MemoryKiB, Threads: v.Threads, Salt: []byte(v.Salt)}
			got, err := derive([]byte(v.Password), spec, len(want))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Argon2id = %x, want %x", got, want)
			}
		})
	}
}

func salt(n int) []byte { return bytes.Repeat([]byte{0xa5}, n) }

func pbkdf2Spec(iter uint32, saltLen int) domain.KDFSpec {
	return domain.KDFSpec{Name: domain.KDFPBKDF2SHA256, Iterations: iter, Salt: salt(saltLen)}
}

func argonSpec(t, m uint32, p uint8, saltLen int) domain.KDFSpec {
	return domain.KDFSpec{Name: domain.KDFArgon2id, Time: t, MemoryKiB: m, Threads: p, Salt: salt(saltLen)}
}

// TestDefaultPolicyBounds walks every floor and ceiling of DefaultPolicy, just
// inside and just outside.
func TestDefaultPolicyBounds(t *testing.T) {
	tests := []struct {
		name    string
		spec    domain.KDFSpec
		wantErr error  // nil: accepted
		wantMsg string // substring of the error message
	}{
		{"pbkdf2 defaults", pbkdf2Spec(600_000, 16), nil, ""},
		{"pbkdf2 iterations below floor", pbkdf2Spec(599_999, 16), domain.ErrKDFParams, "iterations 599999 out of range [600000, 10000000]"},
		{"pbkdf2 iterations at ceiling", pbkdf2Spec(10_000_000, 16), nil, ""},
		{"pbkdf2 iterations above ceiling", pbkdf2Spec(10_000_001, 16), domain.ErrKDFParams, "iterations 10000001 out of range"},
		{"pbkdf2 iterations zero", pbkdf2Spec(0, 16), domain.ErrKDFParams, "iterations 0"},
		{"pbkdf2 iterations max uint32", pbkdf2Spec(1<<32-1, 16), domain.ErrKDFParams, "iterations 4294967295"},
		{"pbkdf2 salt below floor", pbkdf2Spec(600_000, 15), domain.ErrKDFParams, "salt length 15 out of range [16, 64]"},
		{"pbkdf2 salt at ceiling", pbkdf2Spec(600_000, 64), nil, ""},
		{"pbkdf2 salt above ceiling", pbkdf2Spec(600_000, 65), domain.ErrKDFParams, "salt length 65 out of range [16, 64]"},
		{"pbkdf2 no salt", pbkdf2Spec(600_000, 0), domain.ErrKDFParams, "salt length 0"},
		{"pbkdf2 with argon2 fields", domain.KDFSpec{Name: domain.KDFPBKDF2SHA256, Iterations: 600_000, Time: 3, Salt: salt(16)}, domain.ErrKDFParams, "carries Argon2id parameters"},

		{"argon2id defaults", argonSpec(3, 65536, 4, 16), nil, ""},
		{"argon2id time below floor", argonSpec(0, 65536, 4, 16), domain.ErrKDFParams, "time 0"},
		{"argon2id time at floor", argonSpec(1, 65536, 4, 16), nil, ""},
		{"argon2id time at ceiling", argonSpec(10, 65536, 4, 16), nil, ""},
		{"argon2id time above ceiling", argonSpec(11, 65536, 4, 16), domain.ErrKDFParams, "time 11 out of range [1, 10]"},
		{"argon2id memory below floor", argonSpec(3, 19455, 4, 16), domain.ErrKDFParams, "memory (KiB) 19455 out of range [19456, 1048576]"},
		{"argon2id memory at floor", argonSpec(2, 19456, 4, 16), nil, ""},
		{"argon2id memory at ceiling", argonSpec(1, 1<<20, 4, 16), nil, ""},
		{"argon2id memory above ceiling", argonSpec(1, 1<<20+1, 4, 16), domain.ErrKDFParams, "memory (KiB) 1048577 out of range [19456, 1048576]"},
		{"argon2id time×memory below floor", argonSpec(1, 19456, 4, 16), domain.ErrKDFParams, "time × memory 19456 (1 × 19456 KiB) below the floor 38912"},
		{"argon2id time×memory just below floor", argonSpec(1, 38911, 4, 16), domain.ErrKDFParams, "time × memory 38911"},
		{"argon2id time×memory at floor", argonSpec(1, 38912, 4, 16), nil, ""},
		{"argon2id threads below floor", argonSpec(3, 65536, 0, 16), domain.ErrKDFParams, "threads 0"},
		{"argon2id threads at floor", argonSpec(3, 65536, 1, 16), nil, ""},
		{"argon2id threads at ceiling", argonSpec(3, 65536, 16, 16), nil, ""},
		{"argon2id threads above ceiling", argonSpec(3, 65536, 17, 16), domain.ErrKDFParams, "threads 17 out of range [1, 16]"},
		{"argon2id salt below floor", argonSpec(3, 65536, 4, 15), domain.ErrKDFParams, "salt length 15 out of range [16, 64]"},
		{"argon2id salt at ceiling", argonSpec(3, 65536, 4, 64), nil, ""},
		{"argon2id salt above ceiling", argonSpec(3, 65536, 4, 65), domain.ErrKDFParams, "salt length 65"},
		{"argon2id with pbkdf2 field", domain.KDFSpec{Name: domain.KDFArgon2id, Iterations: 1, Time: 3, MemoryKiB: 65536, Threads: 4, Salt: salt(16)}, domain.ErrKDFParams, "carries a PBKDF2 iteration count"},

		{"unknown name", domain.KDFSpec{Name: "scrypt", Salt: salt(16)}, domain.ErrUnsupportedVersion, `unknown KDF "scrypt"`},
		{"empty name", domain.KDFSpec{Iterations: 600_000, Salt: salt(16)}, domain.ErrUnsupportedVersion, `unknown KDF ""`},
		{"wrong case", domain.KDFSpec{Name: "PBKDF2-SHA256", Iterations: 600_000, Salt: salt(16)}, domain.ErrUnsupportedVersion, "unknown KDF"},
	}
	p := DefaultPolicy()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Check(tt.spec)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Check() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Check() = %v, want an error wrapping %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) || !strings.HasPrefix(err.Error(), "aegis/crypto: ") {
				t.Fatalf("Check() message %q does not contain %q", err, tt.wantMsg)
			}
			if errors.Is(tt.wantErr, domain.ErrKDFParams) && errors.Is(err, domain.ErrUnsupportedVersion) ||
				errors.Is(tt.wantErr, domain.ErrUnsupportedVersion) && errors.Is(err, domain.ErrKDFParams) {
				t.Fatalf("Check() = %v wraps both sentinels", err)
			}
			// The package-level Check is DefaultPolicy's.
			if err2 := Check(tt.spec); err2 == nil || err2.Error() != err.Error() {
				t.Fatalf("package Check() = %v, policy Check() = %v", err2, err)
			}
		})
	}
}

// TestArgon2Requirements checks the limits Argon2 itself imposes, which hold
// even under a policy that would allow more.
func TestArgon2Requirements(t *testing.T) {
	p := InsecureTestPolicy()
	p.Argon2Time.Min, p.Argon2Threads.Min, p.Argon2MemoryKiB.Min = 0, 0, 0
	for name, spec := range map[string]domain.KDFSpec{
		"zero time":              argonSpec(0, 64, 1, 16),
		"zero threads":           argonSpec(1, 64, 0, 16),
		"memory below 8×threads": argonSpec(1, 31, 4, 16),
	} {
		if err := p.Check(spec); !errors.Is(err, domain.ErrKDFParams) {
			t.Errorf("%s: Check() = %v, want ErrKDFParams", name, err)
		}
	}
	p.PBKDF2Iterations.Min = 0
	if err := p.Check(pbkdf2Spec(0, 16)); !errors.Is(err, domain.ErrKDFParams) {
		t.Errorf("zero iterations: Check() = %v, want ErrKDFParams", err)
	}
}

func TestZeroPolicyAcceptsNothing(t *testing.T) {
	for _, spec := range []domain.KDFSpec{pbkdf2Spec(600_000, 16), argonSpec(3, 65536, 4, 16)} {
		if err := (Policy{}).Check(spec); !errors.Is(err, domain.ErrKDFParams) {
			t.Errorf("zero Policy accepted %+v: %v", spec, err)
		}
	}
}

func TestNewSpec(t *testing.T) {
	p := DefaultPolicy()
	tests := []struct {
		name string
		want domain.KDFSpec
	}{
		{"", domain.KDFSpec{Name: domain.KDFPBKDF2SHA256, Iterations: 600_000}},
		{domain.KDFPBKDF2SHA256, domain.KDFSpec{Name: domain.KDFPBKDF2SHA256, Iterations: 600_000}},
		{domain.KDFArgon2id, domain.KDFSpec{Name: domain.KDFArgon2id, Time: 3, MemoryKiB: 65536, Threads: 4}},
	}
	for _, tt := range tests {
		got, err := p.NewSpec(tt.name)
		if err != nil {
			t.Fatalf("NewSpec(%q): %v", tt.name, err)
		}
		if len(got.Salt) != SaltSize {
			t.Fatalf("NewSpec(%q) salt length %d", tt.name, len(got.Salt))
		}
		again, _ := p.NewSpec(tt.name)
		if bytes.Equal(got.Salt, again.Salt) {
			t.Fatalf("NewSpec(%q) salt repeated", tt.name)
		}
		if got.Name != tt.want.Name || got.Iterations != tt.want.Iterations || got.Time != tt.want.Time ||
			got.MemoryKiB != tt.want.MemoryKiB || got.Threads != tt.want.Threads {
			t.Fatalf("NewSpec(%q) = %+v, want %+v", tt.name, got, tt.want)
		}
	}
	if _, err := p.NewSpec("bcrypt"); !errors.Is(err, domain.ErrUnsupportedVersion) {
		t.Fatalf("NewSpec(bcrypt) error = %v", err)
	}
	// A policy whose defaults break its own bounds is refused.
	bad := DefaultPolicy()
	bad.DefaultPBKDF2Iterations = 1000
	if _, err := bad.NewSpec(""); !errors.Is(err, domain.ErrKDFParams) {
		t.Fatalf("NewSpec under a bad policy: %v", err)
	}
	bad = DefaultPolicy()
	bad.DefaultSaltLen = 8
	if _, err := bad.NewSpec(""); !errors.Is(err, domain.ErrKDFParams) {
		t.Fatalf("NewSpec with a short default salt: %v", err)
	}
	if spec, err := NewSpec(domain.KDFArgon2id); err != nil || spec.MemoryKiB != DefaultArgon2MemoryKiB {
		t.Fatalf("package NewSpec = %+v, %v", spec, err)
	}
}

func TestInsecureTestPolicyDefaultsRefusedByDefaultPolicy(t *testing.T) {
	for _, name := range []string{domain.KDFPBKDF2SHA256, domain.KDFArgon2id} {
		spec, err := InsecureTestPolicy().NewSpec(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := DefaultPolicy().Check(spec); !errors.Is(err, domain.ErrKDFParams) {
			t.Errorf("DefaultPolicy accepted the test policy's %s spec: %v", name, err)
		}
	}
}

func TestDerive(t *testing.T) {
	p := InsecureTestPolicy()
	pass := []byte("correct horse battery staple")
	for _, name := range []string{domain.KDFPBKDF2SHA256, domain.KDFArgon2id} {
		t.Run(name, func(t *testing.T) {
			spec, err := p.NewSpec(name)
			if err != nil {
				t.Fatal(err)
			}
			k1, err := p.Derive(pass, spec)
			if err != nil {
				t.Fatal(err)
			}
			k2, _ := p.Derive(pass, spec)
			if k1.Len() != KeySize || !bytes.Equal(k1.Bytes(), k2.Bytes()) {
				t.Fatal("Derive is not deterministic or has the wrong size")
			}
			other, _ := p.Derive([]byte("correct horse battery stapler"), spec)
			if bytes.Equal(k1.Bytes(), other.Bytes()) {
				t.Fatal("different passphrases give the same key")
			}
			spec2 := spec
			spec2.Salt = bytes.Clone(spec.Salt)
			spec2.Salt[0] ^= 1
			salted, _ := p.Derive(pass, spec2)
			if bytes.Equal(k1.Bytes(), salted.Bytes()) {
				t.Fatal("different salts give the same key")
			}
			// The derived key is the KDF's output, checked independently.
			want, err := derive(pass, spec, KeySize)
			if err != nil || !bytes.Equal(k1.Bytes(), want) {
				t.Fatal("Derive differs from the raw KDF")
			}
		})
	}
}

// TestDeriveChecksFirst asks for absurd work; had Derive started the KDF before
// checking, the test would not finish.
func TestDeriveChecksFirst(t *testing.T) {
	start := time.Now()
	for _, spec := range []domain.KDFSpec{
		pbkdf2Spec(1<<32-1, 16),
		argonSpec(1<<32-1, 1<<32-1, 255, 16),
		pbkdf2Spec(1000, 16), // below DefaultPolicy's floor
	} {
		k, err := Derive([]byte("pass"), spec)
		if !errors.Is(err, domain.ErrKDFParams) || k != nil {
			t.Fatalf("Derive(%+v) = %v, %v", spec, k, err)
		}
	}
	if _, err := Derive([]byte("pass"), domain.KDFSpec{Name: "md5"}); !errors.Is(err, domain.ErrUnsupportedVersion) {
		t.Fatalf("unknown KDF: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("rejecting specs took %v", d)
	}
}
