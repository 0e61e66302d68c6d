package cli

// The adapters the CLI offers: importing one registers its URL schemes with
// openurl, through which the back ends open their stores. A local vault
// (--vault DIR) is the store file://DIR; a remote one (--remote URL) is the
// store at URL, whose http and https schemes httpblob registers (providers.go
// imports it for its token pool and relay client too).
import (
	_ "github.com/ai-pantheon/aegis/adapters/fsblob" // store file://DIR
)
