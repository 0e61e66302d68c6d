// Command aegisd is the Aegis server: a blob store whose every request is
// authorized by a single-use Privacy Pass token, the token issuer (behind a
// bearer attestation secret) and the issuer directory. See docs/http-api.md.
//
//	aegisd [--listen ADDR] [--store file://DIR|memory://|s3://BUCKET[/PREFIX]?endpoint=HOST:PORT&region=R&tls=false]
//	       [--ledger file://DIR|memory://|redis://HOST:PORT/DB] [--key-lifetime DURATION]
//	       [--issuer-dir DIR] [--attest-secret-file FILE] [--token-type blind-rsa|voprf-ristretto255|voprf]
//	       [--issuer-name NAME] [--max-in-flight N] [--ohttp=false]
//
// Every flag falls back to an environment variable (AEGISD_LISTEN, AEGISD_STORE,
// …). An s3:// store takes its credentials from AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY, a redis:// ledger its password from
// AEGISD_REDIS_PASSWORD; neither is ever read from a flag or URL. SIGINT and SIGTERM stop it gracefully: in-flight requests finish, and it
// exits 0.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/urfave/cli/v3"

	"github.com/ai-pantheon/aegis/apps/internal/aegisd"
	"github.com/ai-pantheon/aegis/apps/internal/server"
)

func main() {
	if err := command().Run(context.Background(), os.Args); err != nil {
		msg := err.Error()
		if !strings.HasPrefix(msg, "aegisd: ") {
			msg = "aegisd: " + msg
		}
		fmt.Fprintln(os.Stderr, msg)
		os.Exit(1)
	}
}

func command() *cli.Command {
	return &cli.Command{
		Name:  "aegisd",
		Usage: "the Aegis blob store, Privacy Pass issuer and origin",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Value: aegisd.DefaultListen, Usage: "TCP address to listen on", Sources: cli.EnvVars("AEGISD_LISTEN")},
			&cli.StringFlag{Name: "store", Value: aegisd.DefaultStore, Usage: "blob store: file://DIR, memory:// or s3://BUCKET[/PREFIX]?endpoint=HOST:PORT&region=R&tls=false", Sources: cli.EnvVars("AEGISD_STORE")},
			&cli.StringFlag{Name: "ledger", Value: aegisd.DefaultLedger, Usage: "spent-token ledger: file://DIR, memory:// or redis://HOST:PORT/DB (password from AEGISD_REDIS_PASSWORD)", Sources: cli.EnvVars("AEGISD_LEDGER")},
			&cli.DurationFlag{Name: "key-lifetime", Usage: "how long an issuer key is accepted (0: without end; required with a redis:// ledger, whose marks expire with the key)", Sources: cli.EnvVars("AEGISD_KEY_LIFETIME")},
			&cli.StringFlag{Name: "issuer-dir", Value: aegisd.DefaultIssuerDir, Usage: "issuer key directory (created with a key on first start)", Sources: cli.EnvVars("AEGISD_ISSUER_DIR")},
			&cli.StringFlag{Name: "attest-secret-file", Usage: "file holding the bearer secret of POST /v1/token-requests (none: issuance disabled)", Sources: cli.EnvVars("AEGISD_ATTEST_SECRET_FILE")},
			&cli.StringFlag{Name: "token-type", Value: aegisd.DefaultTokenType, Usage: "token type: blind-rsa (0x0002, publicly verifiable), voprf-ristretto255 (0x0005, privately verifiable, cheapest to issue) or voprf (0x0001, privately verifiable, P-384)", Sources: cli.EnvVars("AEGISD_TOKEN_TYPE")},
			&cli.StringFlag{Name: "issuer-name", Value: aegisd.DefaultIssuerName, Usage: "issuer_name of the token challenge", Sources: cli.EnvVars("AEGISD_ISSUER_NAME")},
			&cli.BoolFlag{Name: "ohttp", Value: true, Usage: "serve the Oblivious HTTP gateway (RFC 9458) at " + server.GatewayPath + ", its keys in the issuer directory's " + aegisd.GatewayKeyDir + "/ (--ohttp=false: off, 404)", Sources: cli.EnvVars("AEGISD_OHTTP")},
			&cli.IntFlag{Name: "max-in-flight", Value: server.DefaultMaxInFlight, Usage: "concurrent requests served; more get 503", Sources: cli.EnvVars("AEGISD_MAX_IN_FLIGHT")},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			app, err := aegisd.Initialize(aegisd.Options{
				Listen:           cmd.String("listen"),
				Store:            cmd.String("store"),
				Ledger:           cmd.String("ledger"),
				RedisPassword:    os.Getenv("AEGISD_REDIS_PASSWORD"),
				KeyLifetime:      cmd.Duration("key-lifetime"),
				IssuerDir:        cmd.String("issuer-dir"),
				AttestSecretFile: cmd.String("attest-secret-file"),
				TokenType:        cmd.String("token-type"),
				IssuerName:       cmd.String("issuer-name"),
				MaxInFlight:      int(cmd.Int("max-in-flight")),
				DisableOHTTP:     !cmd.Bool("ohttp"),
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
