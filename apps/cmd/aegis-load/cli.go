package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v3"

	"github.com/ai-pantheon/aegis/adapters/httpblob"
	"github.com/ai-pantheon/aegis/apps/internal/buildinfo"
	"github.com/ai-pantheon/aegis/crypto/privacypass"
	"github.com/ai-pantheon/aegis/domain"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// usageError is a command-line mistake: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// Main runs aegis-load with args (args[0] is the program name) and returns
// the exit code. The report goes to stdout; errors go to stderr, each line
// starting with "aegis-load: ".
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var rep *Report
	cmd := &ucli.Command{
		Name:      "aegis-load",
		Usage:     "load generator for aegisd: concurrent clients, mixed PUT/GET with Privacy Pass tokens",
		UsageText: "aegis-load --server URL --attest-secret-file FILE [options]",
		Version:   buildinfo.Version(),
		Writer:    stdout,
		ErrWriter: stderr,
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "server", Usage: "base URL of the aegisd, e.g. http://127.0.0.1:8080", Sources: ucli.EnvVars("AEGIS_LOAD_SERVER")},
			&ucli.StringFlag{Name: "relay", Usage: "base URL of an aegis-relay in front of the server's gateway: every request, token requests included, goes through it (Oblivious HTTP); the --server host is then never dialled", Sources: ucli.EnvVars("AEGIS_LOAD_RELAY")},
			&ucli.StringFlag{Name: "attest-secret-file", Usage: "file holding the server's token-issuance secret", Sources: ucli.EnvVars("AEGIS_LOAD_ATTEST_SECRET_FILE")},
			&ucli.IntFlag{Name: "clients", Value: 8, Usage: "concurrent clients, each with its own connection (1 to 1024)"},
			&ucli.DurationFlag{Name: "duration", Value: 10 * time.Second, Usage: "how long the measured run lasts"},
			&ucli.FloatFlag{Name: "put-ratio", Value: 0.5, Usage: "share of PUTs among the requests, 0 to 1 (a client's first request is always a PUT)"},
			&ucli.StringFlag{Name: "size", Value: "1KiB", Usage: "object size: a bucket size (1KiB, 4KiB, 16KiB, 64KiB, 256KiB, 1MiB) or its byte count"},
			&ucli.IntFlag{Name: "tokens-batch", Value: 64, Usage: fmt.Sprintf("tokens per issuance request of each client's pool, fetched during the run (1 to %d)", privacypass.MaxBatch)},
			&ucli.BoolFlag{Name: "json", Usage: "print the report as JSON"},
		},
		HideHelpCommand: true,
		OnUsageError: func(_ context.Context, _ *ucli.Command, err error, _ bool) error {
			msg := err.Error()
			if f, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
				msg = "unknown flag --" + f
			}
			return usagef("%s", msg)
		},
		ExitErrHandler: func(context.Context, *ucli.Command, error) {},
		Action: func(ctx context.Context, cmd *ucli.Command) error {
			if cmd.Args().Present() {
				return usagef("unexpected argument %q (every setting is a flag; see --help)", cmd.Args().First())
			}
			cfg, err := configFrom(cmd)
			if err != nil {
				return err
			}
			// Progress goes to stderr, also with --json: stdout holds the report only.
			rep, err = Run(ctx, cfg, stderr)
			if err != nil {
				return err
			}
			if cmd.Bool("json") {
				return rep.WriteJSON(stdout)
			}
			return rep.WriteText(stdout)
		},
	}
	err := cmd.Run(ctx, args)
	if err == nil && rep != nil && rep.Errors > 0 {
		for _, e := range rep.FirstErrors {
			fmt.Fprintln(stderr, "aegis-load: request failed:", e)
		}
		err = fmt.Errorf("%d of %d requests failed", rep.Errors, rep.Requests)
	}
	if err != nil {
		fmt.Fprintln(stderr, "aegis-load: "+strings.TrimPrefix(err.Error(), "aegis-load: "))
		var u *usageError
		if errors.As(err, &u) {
			return exitUsage
		}
		return exitFailure
	}
	return exitOK
}

// configFrom checks the flags.
func configFrom(cmd *ucli.Command) (Config, error) {
	c := Config{
		Server:      strings.TrimSpace(cmd.String("server")),
		Relay:       strings.TrimSpace(cmd.String("relay")),
		Clients:     cmd.Int("clients"),
		Duration:    cmd.Duration("duration"),
		PutRatio:    cmd.Float("put-ratio"),
		TokensBatch: cmd.Int("tokens-batch"),
	}
	switch {
	case c.Server == "":
		return c, usagef("--server is required (the base URL of an aegisd)")
	case cmd.String("attest-secret-file") == "":
		return c, usagef("--attest-secret-file is required (the server's token-issuance secret)")
	case c.Clients < 1 || c.Clients > 1024:
		return c, usagef("--clients must be 1 to 1024, got %d", c.Clients)
	case c.Duration <= 0:
		return c, usagef("--duration must be positive, got %s", c.Duration)
	case math.IsNaN(c.PutRatio) || c.PutRatio < 0 || c.PutRatio > 1:
		return c, usagef("--put-ratio must be 0 to 1, got %v", c.PutRatio)
	case c.TokensBatch < 1 || c.TokensBatch > privacypass.MaxBatch:
		return c, usagef("--tokens-batch must be 1 to %d, got %d", privacypass.MaxBatch, c.TokensBatch)
	}
	if c.Relay != "" {
		if err := httpblob.CheckRelayURL(c.Relay); err != nil {
			return c, usagef("--relay must be an http(s) URL without user, query or fragment, got %q", c.Relay)
		}
	}
	size, err := parseSize(cmd.String("size"))
	if err != nil {
		return c, err
	}
	c.Size = size
	secret, err := os.ReadFile(cmd.String("attest-secret-file"))
	if err != nil {
		return c, fmt.Errorf("attestation secret: %w", err)
	}
	c.AttestSecret = []byte(strings.TrimSpace(string(secret)))
	if len(c.AttestSecret) == 0 {
		return c, fmt.Errorf("attestation secret in %s is empty: %w", cmd.String("attest-secret-file"), domain.ErrInvalidInput)
	}
	return c, nil
}

// parseSize accepts a default bucket size as "1KiB" … "1MiB" or as a byte count.
func parseSize(s string) (int, error) {
	t := strings.TrimSpace(s)
	mult := 1
	switch {
	case strings.HasSuffix(t, "KiB"):
		t, mult = strings.TrimSuffix(t, "KiB"), domain.KiB
	case strings.HasSuffix(t, "MiB"):
		t, mult = strings.TrimSuffix(t, "MiB"), domain.MiB
	}
	n, err := strconv.Atoi(t)
	if err == nil && n > 0 && n <= domain.MaxObjectSize/mult {
		n *= mult
		for _, b := range domain.DefaultBucketSizes {
			if n == b {
				return n, nil
			}
		}
	}
	return 0, usagef("--size must be a bucket size (1KiB, 4KiB, 16KiB, 64KiB, 256KiB, 1MiB or its byte count), got %q", s)
}
