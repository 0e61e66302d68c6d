// Command aegis-demo runs the Aegis quick start on the embedded default: it creates
// a vault on a temporary directory, stores three categories through the Cloak in
// one batch and prints the Cloak's report, loads and verifies them, shows the
// statistics and what an observer of the directory sees, then removes the
// directory. Run it with `go run ./apps/cmd/aegis-demo`.
package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ai-pantheon/aegis/adapters/local"
	"github.com/ai-pantheon/aegis/domain"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "aegis-demo:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "aegis-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "vault")
	pass := []byte("demo passphrase: never put a real one on a command line")

	data := map[string]any{
		"journal": map[string]any{
			"2026-11-25": "Walked along the river; the herons are back.",
			"2026-11-26": "Finished the quarterly report.",
		},
		"bookmarks": []any{
			map[string]any{"title": "RFC 9578", "url": "https://www.rfc-editor.org/rfc/rfc9578"},
			map[string]any{"title": "Padmé", "url": "https://lbarman.ch/blog/padme/"},
		},
		"settings": map[string]any{"theme": "dark", "language": "en", "notifications": false},
	}

	start := time.Now()
	cloak, err := local.CreateCloak(ctx, dir, pass, nil)
	if err != nil {
		return err
	}
	fmt.Printf("created vault at %s (%s, key derivation %s)\n", dir, cloak.Vault().KDF().Name, time.Since(start).Round(time.Millisecond))

	rep, err := cloak.StoreJSON(ctx, data)
	if err != nil {
		return err
	}
	fmt.Println("\nCloak report:")
	for _, name := range rep.ShuffleOrder {
		c := rep.Categories[name]
		fmt.Printf("  %-10s %5d plaintext -> %5d padded -> %5d stored bytes\n", name, c.PlaintextBytes, c.PaddedBytes, c.StoredBytes)
	}
	fmt.Printf("  shuffle order: %v\n  totals: %d plaintext, %d padded, %d encrypted bytes\n  requests the store received: %d (cover: %d)\n\n",
		rep.ShuffleOrder, rep.TotalPlaintextBytes, rep.TotalPaddedBytes, rep.TotalEncryptedBytes, rep.Requests, rep.Cover)
	fmt.Printf("stored %d categories in one commit\n", len(rep.Categories))
	window := cloak.Layer().Window()
	if err := cloak.Close(); err != nil {
		return err
	}

	v, err := local.Open(ctx, dir, pass, nil)
	if err != nil {
		return err
	}
	defer v.Close()
	if _, err := local.Open(ctx, dir, []byte("wrong passphrase"), nil); !errors.Is(err, domain.ErrWrongPassphrase) {
		return fmt.Errorf("a wrong passphrase was not refused: %v", err)
	}
	fmt.Println("reopened; a wrong passphrase is refused:", domain.ErrWrongPassphrase)

	names, err := v.Categories(ctx)
	if err != nil {
		return err
	}
	fmt.Println("\nload and verify:")
	for _, name := range names {
		got, err := v.Load(ctx, name)
		if err != nil {
			return err
		}
		ok, err := v.VerifyJSON(ctx, name, data[name])
		if err != nil {
			return err
		}
		verdict := "PASS"
		if !ok {
			verdict = "FAIL"
		}
		fmt.Printf("  %-10s %s  %s\n", name, verdict, preview(got))
		if !ok {
			return fmt.Errorf("category %q did not verify", name)
		}
	}

	s, err := v.Stats(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("\nstats: %d categories, %d plaintext bytes, %d objects, %d bytes stored\n", s.Categories, s.PlaintextBytes, s.Objects, s.StoredBytes)

	fmt.Println("\nwhat the directory holds (an observer sees only this):")
	var sizes []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if strings.HasSuffix(rel, ".lock") {
			return nil
		}
		body, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, secret := range []string{"journal", "bookmarks", "settings", "herons", "dark"} {
			if strings.Contains(rel, secret) || strings.Contains(string(body), secret) {
				return fmt.Errorf("%s reveals %q", rel, secret)
			}
		}
		if !domain.DefaultBuckets().Allowed(len(body)) {
			return fmt.Errorf("%s has %d bytes, not a bucket size", rel, len(body))
		}
		mod := info.ModTime()
		if mod.Nanosecond() != 0 || mod.Unix()%int64(window/time.Second) != 0 {
			return fmt.Errorf("%s was modified at %s, not at the start of a %s window", rel, mod.Format(time.RFC3339Nano), window)
		}
		sizes = append(sizes, fmt.Sprintf("  %-80s %8d bytes  %v  %s", rel, info.Size(), info.Mode().Perm(), mod.UTC().Format("15:04:05.000000000")))
		return nil
	})
	if err != nil {
		return err
	}
	slices.Sort(sizes)
	fmt.Println(strings.Join(sizes, "\n"))
	fmt.Printf("\nchecked: no file name or body contains a category name or plaintext, every object is a bucket size,\nand every object was last modified at the start of a %s window.\n", window)
	return nil
}

func preview(b []byte) string {
	s := string(b)
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}
