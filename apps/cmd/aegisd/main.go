// Command aegisd is the Aegis server: a blob store whose every request is
// authorized by a single-use Privacy Pass token, the token issuer (behind a
// bearer attestation secret) and the issuer directory. See docs/http-api.md
// and docs/deploy.md.
//
//	aegisd [--listen ADDR] [--store file://DIR|memory://|s3://BUCKET[/PREFIX]?endpoint=HOST:PORT&region=R&tls=false]
//	       [--ledger file://DIR|memory://|redis://HOST:PORT/DB] [--key-lifetime DURATION]
//	       [--issuer-dir DIR] [--attest-secret-file FILE] [--token-type blind-rsa|voprf-ristretto255|voprf]
//	       [--issuer-name NAME] [--max-in-flight N] [--ohttp=false] [--log-format text|json]
//	       [--tls-cert-file FILE --tls-key-file FILE]
//	aegisd --version
//
// Every flag falls back to an environment variable (AEGISD_LISTEN, AEGISD_STORE,
// …). An s3:// store takes its credentials from AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY, a redis:// ledger its password from
// AEGISD_REDIS_PASSWORD; neither is ever read from a flag or URL. SIGINT and
// SIGTERM stop it gracefully: in-flight requests finish, and it exits 0.
// SIGHUP reloads the TLS certificate and key (a pair that fails to load is
// logged and the previous one kept).
//
// Exit codes: 0 stopped cleanly (or --version, --help); 1 failure (a store,
// ledger, key directory, secret or TLS file that cannot be used, an address
// that cannot be listened on, a shutdown that timed out); 2 usage error (an
// unknown flag or a malformed value, an argument, a --log-format other than
// text or json, one of --tls-cert-file and --tls-key-file without the other).
// Nothing is created before the usage is checked.
package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v3"

	"github.com/ai-pantheon/aegis/adapters/openurl"
	"github.com/ai-pantheon/aegis/apps/internal/aegisd"
	"github.com/ai-pantheon/aegis/apps/internal/buildinfo"
	"github.com/ai-pantheon/aegis/apps/internal/cmdexit"
	"github.com/ai-pantheon/aegis/apps/internal/server"
)

func main() {
	cmd := command()
	cmd.Writer, cmd.ErrWriter = os.Stdout, os.Stderr
	os.Exit(cmdexit.Run(context.Background(), cmd, os.Args, false))
}

const description = `Exit codes: 0 stopped cleanly by SIGINT or SIGTERM (or --version, --help);
1 failure (a store, ledger, key directory, secret or TLS file that cannot be used,
an address that cannot be listened on, a shutdown that timed out);
2 usage error (an unknown flag or malformed value, an argument, a --log-format
other than text or json, one of --tls-cert-file and --tls-key-file without the other).

SIGHUP reloads the TLS certificate and key; a pair that fails to load is logged
and the previous one kept. Without TLS, aegisd warns at start when it listens
beyond loopback.`

func command() *cli.Command {
	return &cli.Command{
		Name:        "aegisd",
		Usage:       "the Aegis blob store, Privacy Pass issuer and origin",
		Version:     buildinfo.Version(),
		Description: description,
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
			&cli.StringFlag{Name: "log-format", Value: server.LogFormatText, Usage: "log line format: text (key=value) or json", Sources: cli.EnvVars("AEGISD_LOG_FORMAT")},
			&cli.StringFlag{Name: "tls-cert-file", Usage: "PEM certificate chain to serve HTTPS with (with --tls-key-file; reloaded on SIGHUP)", Sources: cli.EnvVars("AEGISD_TLS_CERT_FILE")},
			&cli.StringFlag{Name: "tls-key-file", Usage: "PEM private key of --tls-cert-file", Sources: cli.EnvVars("AEGISD_TLS_KEY_FILE")},
		},
		OnUsageError: cmdexit.OnUsageError,
		Action: func(ctx context.Context, cmd *cli.Command) error {
			// Usage first: nothing is created (no store, ledger or key
			// directory) for a command line that is wrong.
			if cmd.Args().Present() {
				return cmdexit.Usagef("unexpected argument %q: aegisd takes flags only (aegisd --help)", cmd.Args().First())
			}
			if err := server.CheckLogFormat(cmd.String("log-format")); err != nil {
				return &cmdexit.UsageError{Err: err}
			}
			var cert *aegisd.Certificate
			if c, k := cmd.String("tls-cert-file"), cmd.String("tls-key-file"); c != "" || k != "" {
				if c == "" || k == "" {
					return cmdexit.Usagef("--tls-cert-file and --tls-key-file go together: give both or neither")
				}
				var err error
				if cert, err = aegisd.LoadCertificate(c, k); err != nil {
					return err
				}
			}
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
				Log:              cmd.ErrWriter,
				LogFormat:        cmd.String("log-format"),
				TLS:              cert,
			})
			if errors.Is(err, openurl.ErrUnknownScheme) || errors.Is(err, openurl.ErrNotURL) {
				// ProvideURLs, the injector's first step, checks --store and
				// --ledger before anything is opened: a mistyped value.
				return &cmdexit.UsageError{Err: err}
			}
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			go func() {
				<-ctx.Done()
				stop() // a second signal kills the process at once
			}()
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			go func() {
				for {
					select {
					case <-hup:
						app.ReloadTLS()
					case <-ctx.Done():
						return
					}
				}
			}()
			return app.Run(ctx)
		},
	}
}
