package legacytest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// NamesSuffix names the manifest of a committed fixture directory: DIR+NamesSuffix
// maps the names some of DIR's files are committed under to the names aegis-cloak
// wrote them with.
//
// A category name is a file name in the legacy layout, and the committed fixture
// has one with an emoji ("notes über café 📝"), which a Go module zip does not allow
// in a file name (a proxy would refuse the whole adapters module). So such files are
// committed under plain ASCII names, and CopyFixture gives them their real names in
// a test's own directory.
const NamesSuffix = ".names.json"

// CopyFixture copies the committed fixture directory src into dst (created if
// needed), renaming the files that src+NamesSuffix lists, if it exists, to their
// real names. It fails if the manifest names a file src does not have, or a real
// name that would collide with another file.
func CopyFixture(src, dst string) error {
	names := map[string]string{}
	switch raw, err := os.ReadFile(src + NamesSuffix); {
	case err == nil:
		if err := json.Unmarshal(raw, &names); err != nil {
			return fmt.Errorf("legacytest: %s: %w", src+NamesSuffix, err)
		}
	case !os.IsNotExist(err):
		return fmt.Errorf("legacytest: %w", err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("legacytest: %w", err)
	}
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return fmt.Errorf("legacytest: %w", err)
	}
	var stored, written []string
	for _, e := range entries {
		if !e.Type().IsRegular() {
			return fmt.Errorf("legacytest: %s: not a regular file", filepath.Join(src, e.Name()))
		}
		stored = append(stored, e.Name())
		name := e.Name()
		if real, ok := names[name]; ok {
			name = real
		}
		if name != filepath.Base(name) || name == "." || name == ".." {
			return fmt.Errorf("legacytest: %s: %q is not a file name", src+NamesSuffix, name)
		}
		if slices.Contains(written, name) {
			return fmt.Errorf("legacytest: %s: two files would be named %q", src, name)
		}
		written = append(written, name)
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return fmt.Errorf("legacytest: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dst, name), b, 0o600); err != nil {
			return fmt.Errorf("legacytest: %w", err)
		}
	}
	for s := range names {
		if !slices.Contains(stored, s) {
			return fmt.Errorf("legacytest: %s names %q, which %s does not hold", src+NamesSuffix, s, src)
		}
	}
	return nil
}
