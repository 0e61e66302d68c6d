// Command aegis-relay is the Oblivious HTTP relay (RFC 9458 Oblivious Relay
// Resource) in front of aegisd's gateway: it forwards encrypted requests from
// clients to the gateway without anything that identifies them, and the
// encrypted answers back. It knows client addresses but never sees a request;
// the gateway sees requests but only the relay's address. See docs/deploy.md,
// "Running aegis-relay".
//
//	aegis-relay --gateway URL [--listen ADDR] [--max-body BYTES] [--keys-cache DURATION]
//	            [--rate N] [--burst N] [--max-in-flight N] [--gateway-timeout DURATION]
//	            [--request-timeout DURATION] [--log-format text|json]
//	aegis-relay --version
//
// Every flag falls back to an environment variable (AEGIS_RELAY_GATEWAY,
// AEGIS_RELAY_LISTEN, …). SIGINT and SIGTERM stop it gracefully: in-flight
// requests finish, and it exits 0. Exit codes: 0 stopped cleanly (or
// --version, --help), 1 failure (the address could not be listened on, a
// shutdown that timed out), 2 usage error (a missing --gateway, an unknown
// flag, an argument, a value out of range, a --log-format other than text or
// json).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v3"

	"github.com/ai-pantheon/aegis/apps/internal/buildinfo"
	"github.com/ai-pantheon/aegis/apps/internal/cmdexit"
	"github.com/ai-pantheon/aegis/apps/internal/relay"
	"github.com/ai-pantheon/aegis/apps/internal/server"
)

func main() {
	os.Exit(run(context.Background(), os.Args, os.Stdout, os.Stderr))
}

// run runs aegis-relay with args and returns the exit code; an error is one
// line "aegis-relay: …" on stderr. Settings the relay refuses
// (domain.ErrInvalidInput) are usage errors.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := command()
	cmd.Writer, cmd.ErrWriter = stdout, stderr
	return cmdexit.Run(ctx, cmd, args, true)
}

func command() *cli.Command {
	return &cli.Command{
		Name:    "aegis-relay",
		Usage:   "the Oblivious HTTP relay (RFC 9458) in front of an aegisd gateway",
		Version: buildinfo.Version(),
		Description: `Exit codes: 0 stopped cleanly by SIGINT or SIGTERM (or --version, --help);
1 failure (the address could not be listened on, a shutdown that timed out);
2 usage error (a missing --gateway, an unknown flag, an argument, a value out
of range, a --log-format other than text or json).`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "gateway", Usage: "base URL of the aegisd serving the gateway (http:// or https://; required); requests go to URL" + relay.GatewayPath, Sources: cli.EnvVars("AEGIS_RELAY_GATEWAY")},
			&cli.StringFlag{Name: "listen", Value: relay.DefaultListen, Usage: "TCP address to listen on", Sources: cli.EnvVars("AEGIS_RELAY_LISTEN")},
			&cli.Int64Flag{Name: "max-body", Value: relay.DefaultMaxBody, Usage: "largest encapsulated request and response, in bytes (larger requests get 413)", Sources: cli.EnvVars("AEGIS_RELAY_MAX_BODY")},
			&cli.DurationFlag{Name: "keys-cache", Value: relay.DefaultKeysCache, Usage: "how long the gateway's key configurations are served before being fetched again (0: no cache)", Sources: cli.EnvVars("AEGIS_RELAY_KEYS_CACHE")},
			&cli.Float64Flag{Name: "rate", Value: relay.DefaultRate, Usage: "requests per second per client connection; more get 429 (0: no limit)", Sources: cli.EnvVars("AEGIS_RELAY_RATE")},
			&cli.IntFlag{Name: "burst", Value: relay.DefaultBurst, Usage: "requests a client connection may make at once before --rate applies", Sources: cli.EnvVars("AEGIS_RELAY_BURST")},
			&cli.IntFlag{Name: "max-in-flight", Value: relay.DefaultMaxInFlight, Usage: "requests relayed at once; more get 503", Sources: cli.EnvVars("AEGIS_RELAY_MAX_IN_FLIGHT")},
			&cli.DurationFlag{Name: "gateway-timeout", Value: relay.DefaultGatewayTimeout, Usage: "bound on one round trip to the gateway; past it the client gets 502", Sources: cli.EnvVars("AEGIS_RELAY_GATEWAY_TIMEOUT")},
			&cli.StringFlag{Name: "log-format", Value: server.LogFormatText, Usage: "log line format: text (key=value) or json", Sources: cli.EnvVars("AEGIS_RELAY_LOG_FORMAT")},
			&cli.DurationFlag{Name: "request-timeout", Value: relay.DefaultRequestTimeout, Usage: "bound on one exchange with a client, and on the wait for in-flight requests at shutdown (more than --gateway-timeout)", Sources: cli.EnvVars("AEGIS_RELAY_REQUEST_TIMEOUT")},
		},
		OnUsageError: cmdexit.OnUsageError,
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if cmd.Args().Present() {
				return cmdexit.Usagef("unexpected argument %q: aegis-relay takes flags only", cmd.Args().First())
			}
			// In relay.Options zero means the default; on the command line it
			// would be a mistake.
			for _, f := range []struct {
				name     string
				positive bool
			}{
				{"max-body", cmd.Int64("max-body") > 0}, {"burst", cmd.Int("burst") > 0}, {"max-in-flight", cmd.Int("max-in-flight") > 0},
				{"gateway-timeout", cmd.Duration("gateway-timeout") > 0}, {"request-timeout", cmd.Duration("request-timeout") > 0},
			} {
				if !f.positive {
					return cmdexit.Usagef("--%s %s: want a value above 0", f.name, fmt.Sprint(cmd.Value(f.name)))
				}
			}
			app, err := relay.Initialize(relay.Options{
				Listen:         cmd.String("listen"),
				Gateway:        cmd.String("gateway"),
				MaxBody:        cmd.Int64("max-body"),
				KeysCache:      cmd.Duration("keys-cache"),
				Rate:           cmd.Float64("rate"),
				Burst:          int(cmd.Int("burst")),
				MaxInFlight:    int(cmd.Int("max-in-flight")),
				GatewayTimeout: cmd.Duration("gateway-timeout"),
				RequestTimeout: cmd.Duration("request-timeout"),
				Log:            cmd.ErrWriter,
				LogFormat:      cmd.String("log-format"),
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
