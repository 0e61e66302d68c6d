// Command aegis-demo runs the Aegis quick start on the embedded default: it creates
// a vault on a temporary directory, stores three categories through the Cloak in
// one batch and prints the Cloak's report, loads and verifies them, shows the
// statistics and what an observer of the directory sees, then removes the
// directory. `make run` runs it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ai-pantheon/aegis/adapters/local"
	"github.com/ai-pantheon/aegis/anonymize"
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
	v, err := local.Create(ctx, dir, pass, nil)
	if err != nil {
		return err
	}
	fmt.Printf("created vault at %s (%s, key derivation %s)\n", dir, v.KDF().Name, time.Since(start).Round(time.Millisecond))

	cloak, err := local.NewCloak(v, anonymize.Config{})
	if err != nil {
		return err
	}
	// Requests as an application would make them, with the metadata a client
	// tends to leak; the Cloak strips everything but its allow-list.
	var batch anonymize.Batch
	for _, name := range slices.Sorted(maps.Keys(data)) {
		payload, err := json.Marshal(data[name])
		if err != nil {
			return err
		}
		batch = append(batch, anonymize.Request{
			Category:  name,
			Payload:   payload,
			Timestamp: time.Now(),
			Metadata: map[string]string{
				"action": "store", "user_agent": "aegis-demo/1.0 (X11; Linux x86_64)",
				"client_ip": "203.0.113.7", "session_id": "s-4242",
			},
		})
	}
	rep, err := cloak.StoreBatch(ctx, batch)
	if err != nil {
		return err
	}
	fmt.Println("\nCloak report:")
	for _, name := range rep.ShuffleOrder {
		c := rep.Categories[name]
		fmt.Printf("  %-10s %5d plaintext -> %5d padded -> %5d stored bytes; metadata stripped: %v\n",
			name, c.PlaintextBytes, c.PaddedBytes, c.StoredBytes, c.MetadataStripped)
	}
	fmt.Printf("  shuffle order: %v\n  tokens used: %d; totals: %d plaintext, %d padded, %d encrypted bytes\n\n",
		rep.ShuffleOrder, rep.TokensUsed, rep.TotalPlaintextBytes, rep.TotalPaddedBytes, rep.TotalEncryptedBytes)
	fmt.Printf("stored %d categories in one commit\n", len(batch))
	v.Close()

	v, err = local.Open(ctx, dir, pass, nil)
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
		sizes = append(sizes, fmt.Sprintf("  %-80s %8d bytes  %v", rel, info.Size(), info.Mode().Perm()))
		return nil
	})
	if err != nil {
		return err
	}
	slices.Sort(sizes)
	fmt.Println(strings.Join(sizes, "\n"))
	fmt.Println("\nchecked: no file name or body contains a category name or plaintext, and every object is a bucket size.")
	return nil
}

func preview(b []byte) string {
	s := string(b)
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}
