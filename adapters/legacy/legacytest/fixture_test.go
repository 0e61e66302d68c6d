package legacytest_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ai-pantheon/aegis/adapters/legacy/legacytest"
)

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func TestCopyFixtureRenames(t *testing.T) {
	src := filepath.Join(t.TempDir(), "v")
	write(t, filepath.Join(src, "plain.vault"), "p")
	write(t, filepath.Join(src, "stand-in.vault"), "s")
	write(t, src+legacytest.NamesSuffix, `{"stand-in.vault": "café 📝.vault"}`)
	dst := filepath.Join(t.TempDir(), "copy")
	if err := legacytest.CopyFixture(src, dst); err != nil {
		t.Fatal(err)
	}
	if got := names(t, dst); !slices.Equal(got, []string{"café 📝.vault", "plain.vault"}) {
		t.Fatalf("copied %q", got)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "café 📝.vault")); string(b) != "s" {
		t.Fatalf("renamed file holds %q", b)
	}
}

func TestCopyFixtureRefuses(t *testing.T) {
	for name, manifest := range map[string]string{
		"an entry for a file that is not there": `{"absent.vault": "x.vault"}`,
		"a collision":                           `{"a.vault": "b.vault"}`,
		"a path":                                `{"a.vault": "../a.vault"}`,
		"bad JSON":                              `{`,
	} {
		t.Run(name, func(t *testing.T) {
			src := filepath.Join(t.TempDir(), "v")
			write(t, filepath.Join(src, "a.vault"), "a")
			write(t, filepath.Join(src, "b.vault"), "b")
			write(t, src+legacytest.NamesSuffix, manifest)
			err := legacytest.CopyFixture(src, filepath.Join(t.TempDir(), "copy"))
			if err == nil || !strings.Contains(err.Error(), "legacytest: ") {
				t.Fatalf("CopyFixture = %v, want an error", err)
			}
		})
	}
}
