package local_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/ai-pantheon/aegis/adapters/local"
)

// A vault on a directory: create it, store a category, open it again and load.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "aegis-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "vault")
	passphrase := []byte("correct horse battery staple")

	v, err := local.Create(ctx, path, passphrase, nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := v.StoreJSON(ctx, "contacts", map[string]string{"alice": "alice@example.org"}); err != nil {
		log.Fatal(err)
	}
	v.Close()

	v, err = local.Open(ctx, path, passphrase, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	var contacts map[string]string
	if err := v.LoadJSON(ctx, "contacts", &contacts); err != nil {
		log.Fatal(err)
	}
	fmt.Println(contacts["alice"])
	// Output: alice@example.org
}
