// Command adapters uses the adapters module as the embedded default: a vault on a local directory
// (adapters/local) with a Cloak in front of it; it stores categories, opens the vault again and
// checks the bytes it loads.
package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ai-pantheon/aegis/adapters/local"
	"github.com/ai-pantheon/aegis/anonymize"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "consumer/adapters:", err)
		os.Exit(1)
	}
	fmt.Println("consumer/adapters: ok")
}

func run() error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "aegis-consumer")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "vault")
	passphrase := []byte("correct horse battery staple")
	journal := []byte("dear diary: the modules build from a proxy")

	cloak, err := local.CreateCloak(ctx, path, passphrase, &local.Options{Cloak: anonymize.Config{Cover: 1}})
	if err != nil {
		return err
	}
	v := cloak.Vault()
	if err := v.Store(ctx, "journal", journal); err != nil {
		return err
	}
	if _, err := cloak.Store(ctx, map[string][]byte{"settings": []byte(`{"theme":"dark"}`)}); err != nil {
		return err
	}
	if err := cloak.Close(); err != nil {
		return err
	}

	v, err = local.Open(ctx, path, passphrase, nil)
	if err != nil {
		return err
	}
	defer v.Close()
	got, err := v.Load(ctx, "journal")
	if err != nil {
		return err
	}
	if !bytes.Equal(got, journal) {
		return fmt.Errorf("loaded %q, stored %q", got, journal)
	}
	settings, err := v.Load(ctx, "settings")
	if err != nil || string(settings) != `{"theme":"dark"}` {
		return fmt.Errorf("settings through the Cloak: %q, %v", settings, err)
	}
	return nil
}
