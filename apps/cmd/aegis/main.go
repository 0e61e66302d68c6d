// Command aegis is the Aegis command-line tool: an encrypted vault whose
// writes go through the Cloak, on a local directory or on an aegisd server.
// See docs/cli.md.
//
//	aegis [--vault DIR | --remote URL --vault-name NAME --attest-secret-file F
//	      [--relay URL [--relay-key-sha256 HEX]]] [--passphrase-file F] [--json] COMMAND [ARGS]
//
// Exit codes: 0 success, 1 failure, 2 usage error, 3 wrong passphrase,
// 4 integrity failure, 5 not found, 130 interrupted (SIGINT or SIGTERM).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ai-pantheon/aegis/apps/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	// The first signal cancels ctx: the command stops, changes nothing it had
	// not committed, and exits 130. A second one ends the process at once.
	context.AfterFunc(ctx, stop)
	code := cli.Main(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
