// Command aegisd is the Aegis server: a blob store whose every request is
// authorized by a single-use Privacy Pass token, the token issuer (behind a
// bearer attestation secret) and the issuer directory. See docs/http-api.md.
//
//	aegisd [--listen ADDR] [--store file://DIR|memory://] [--ledger file://DIR|memory://]
//	       [--issuer-dir DIR] [--attest-secret-file FILE] [--token-type blind-rsa|voprf]
//	       [--issuer-name NAME] [--max-in-flight N]
//
// Every flag falls back to an environment variable (AEGISD_LISTEN, AEGISD_STORE,
// …). SIGINT and SIGTERM stop it gracefully: in-flight requests finish, and it
// exits 0.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v3"

	"github.com/ai-pantheon/aegis/apps/internal/aegisd"
	"github.com/ai-pantheon/aegis/apps/internal/server"
)

func main() {
	if err := command().Run(context.Background(), os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "aegisd:", err)
		os.Exit(1)
	}
}

func command() *cli.Command {
	return &cli.Command{
		Name:  "aegisd",
		Usage: "the Aegis blob store, Privacy Pass issuer and origin",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Value: aegisd.DefaultListen, Usage: "TCP address to listen on", Sources: cli.EnvVars("AEGISD_LISTEN")},
			&cli.StringFlag{Name: "store", Value: aegisd.DefaultStore, Usage: "blob store: file://DIR or memory://", Sources: cli.EnvVars("AEGISD_STORE")},
			&cli.StringFlag{Name: "ledger", Value: aegisd.DefaultLedger, Usage: "spent-token ledger: file://DIR or memory://", Sources: cli.EnvVars("AEGISD_LEDGER")},
			&cli.StringFlag{Name: "issuer-dir", Value: aegisd.DefaultIssuerDir, Usage: "issuer key directory (created with a key on first start)", Sources: cli.EnvVars("AEGISD_ISSUER_DIR")},
			&cli.StringFlag{Name: "attest-secret-file", Usage: "file holding the bearer secret of POST /v1/token-requests (none: issuance disabled)", Sources: cli.EnvVars("AEGISD_ATTEST_SECRET_FILE")},
			&cli.StringFlag{Name: "token-type", Value: aegisd.DefaultTokenType, Usage: "token type: blind-rsa (0x0002) or voprf (0x0001)", Sources: cli.EnvVars("AEGISD_TOKEN_TYPE")},
			&cli.StringFlag{Name: "issuer-name", Value: aegisd.DefaultIssuerName, Usage: "issuer_name of the token challenge", Sources: cli.EnvVars("AEGISD_ISSUER_NAME")},
			&cli.IntFlag{Name: "max-in-flight", Value: server.DefaultMaxInFlight, Usage: "concurrent requests served; more get 503", Sources: cli.EnvVars("AEGISD_MAX_IN_FLIGHT")},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			app, err := aegisd.Initialize(aegisd.Options{
				Listen:           cmd.String("listen"),
				Store:            cmd.String("store"),
				Ledger:           cmd.String("ledger"),
				IssuerDir:        cmd.String("issuer-dir"),
				AttestSecretFile: cmd.String("attest-secret-file"),
				TokenType:        cmd.String("token-type"),
				IssuerName:       cmd.String("issuer-name"),
				MaxInFlight:      int(cmd.Int("max-in-flight")),
			})
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			go func() {
				<-ctx.Done()
				stop() // a second signal kills the process at once
			}()
			return app.Run(ctx)
		},
	}
}
