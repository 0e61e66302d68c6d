package suite_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ai-pantheon/aegis/crypto/kdf"
	"github.com/ai-pantheon/aegis/crypto/suite"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/vault"
)

// vectorDirs is where the format vectors are: domain/vault's testdata, written by
// domain/vault's TestFormatVectorVault with a standard-library copy of this suite
// (domain imports only the standard library). They are read from the working tree
// through a relative path, so this test runs only in the repository.
const vectorDirs = "../../domain/vault/testdata"

// TestFormatVectorOpensWithTheSuite opens every committed format vector with the
// real suite under kdf.InsecureTestPolicy (the vectors use 1,000 PBKDF2
// iterations) and checks what vault.json says it holds: the suite and the copy
// domain/vault's tests write the vectors with agree.
func TestFormatVectorOpensWithTheSuite(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(vectorDirs, "vault-*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		if _, err := os.Stat("../../go.work"); errors.Is(err, os.ErrNotExist) {
			t.Skip("not in the repository: the format vectors are in the domain module's testdata")
		}
		t.Fatalf("no format vectors in %s", vectorDirs)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			ctx := context.Background()
			var spec struct {
				VaultName  string `json:"vault_name"`
				Passphrase string `json:"passphrase"`
				KDF        struct {
					Name       string `json:"name"`
					Iterations uint32 `json:"iterations"`
					Salt       string `json:"salt"`
				} `json:"kdf"`
				Padding    []int  `json:"padding"`
				Epoch      uint64 `json:"epoch"`
				Objects    int    `json:"objects"`
				Categories []struct {
					Name   string `json:"name"`
					Size   int    `json:"size"`
					SHA256 string `json:"sha256"`
				} `json:"categories"`
			}
			b, err := os.ReadFile(filepath.Join(dir, "vault.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &spec); err != nil {
				t.Fatal(err)
			}
			store := readOnlyStore{}
			entries, err := os.ReadDir(filepath.Join(dir, "objects"))
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				id, err := domain.ParseObjectID(e.Name())
				if err != nil {
					t.Fatal(err)
				}
				if store[id], err = os.ReadFile(filepath.Join(dir, "objects", e.Name())); err != nil {
					t.Fatal(err)
				}
			}
			policy, err := domain.NewBuckets(spec.Padding)
			if err != nil {
				t.Fatal(err)
			}
			cfg := vault.Config{Store: store, Crypto: suite.New(kdf.InsecureTestPolicy()), Padding: policy, Name: spec.VaultName}

			// The product's policy refuses the vectors' cheap KDF before deriving anything.
			def := cfg
			def.Crypto = suite.Default()
			if _, err := vault.Open(ctx, def, []byte(spec.Passphrase)); !errors.Is(err, domain.ErrKDFParams) {
				t.Fatalf("Open under the default policy: %v, want ErrKDFParams", err)
			}

			v, err := vault.Open(ctx, cfg, []byte(spec.Passphrase))
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer func() { _ = v.Close() }()
			got := v.KDF()
			if got.Name != spec.KDF.Name || got.Iterations != spec.KDF.Iterations || hex.EncodeToString(got.Salt) != spec.KDF.Salt {
				t.Fatalf("KDF = %+v, vault.json says %+v", got, spec.KDF)
			}
			var names []string
			for _, c := range spec.Categories {
				names = append(names, c.Name)
				data, err := v.Load(ctx, c.Name)
				if err != nil {
					t.Fatalf("Load(%q): %v", c.Name, err)
				}
				sum := sha256.Sum256(data)
				if len(data) != c.Size || hex.EncodeToString(sum[:]) != c.SHA256 {
					t.Fatalf("%q: %d bytes, SHA-256 %x; vault.json says %d bytes, %s", c.Name, len(data), sum, c.Size, c.SHA256)
				}
			}
			if cats, err := v.Categories(ctx); err != nil || !slices.Equal(cats, names) {
				t.Fatalf("Categories = %q, %v; want %q", cats, err, names)
			}
			rep, err := v.Check(ctx, vault.CheckOptions{ReadData: true})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Damaged() || len(rep.Warnings) != 0 || rep.Objects != spec.Objects || rep.Epoch != spec.Epoch {
				t.Fatalf("Check: %+v", rep)
			}
		})
	}
}

// readOnlyStore is a domain.BlobStore over a map that refuses every write: opening,
// loading and checking a vault write nothing.
type readOnlyStore map[domain.ObjectID][]byte

var errReadOnly = errors.New("read-only store")

func (s readOnlyStore) Get(ctx context.Context, id domain.ObjectID) ([]byte, error) {
	b, _, err := s.GetVersioned(ctx, id)
	return b, err
}

func (s readOnlyStore) GetVersioned(_ context.Context, id domain.ObjectID) ([]byte, domain.Version, error) {
	b, ok := s[id] // concurrent reads of a map nobody writes need no lock
	if !ok {
		return nil, "", fmt.Errorf("object %s: %w", id, domain.ErrNotFound)
	}
	sum := sha256.Sum256(b)
	return bytes.Clone(b), domain.Version(hex.EncodeToString(sum[:])), nil
}

func (s readOnlyStore) List(_ context.Context, fn func(domain.ObjectID) error) error {
	ids := make([]domain.ObjectID, 0, len(s))
	for id := range s {
		ids = append(ids, id)
	}
	for _, id := range ids {
		if err := fn(id); err != nil {
			return err
		}
	}
	return nil
}

func (readOnlyStore) Put(context.Context, domain.ObjectID, []byte) error { return errReadOnly }
func (readOnlyStore) Delete(context.Context, domain.ObjectID) error      { return errReadOnly }
func (readOnlyStore) CompareAndSwap(context.Context, domain.ObjectID, domain.Version, []byte) (domain.Version, error) {
	return "", errReadOnly
}
