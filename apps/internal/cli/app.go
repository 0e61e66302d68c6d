package cli

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v3"

	"github.com/ai-pantheon/aegis/adapters/httpblob"
	"github.com/ai-pantheon/aegis/adapters/openurl"
	"github.com/ai-pantheon/aegis/anonymize"
	"github.com/ai-pantheon/aegis/apps/internal/buildinfo"
	"github.com/ai-pantheon/aegis/crypto/privacypass"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/vault"
)

// Environment variables of the global flags and passphrases.
const (
	EnvVault             = "AEGIS_VAULT"
	EnvRemote            = "AEGIS_REMOTE"
	EnvVaultName         = "AEGIS_VAULT_NAME"
	EnvPassphraseFile    = "AEGIS_PASSPHRASE_FILE"
	EnvPassphrase        = "AEGIS_PASSPHRASE"
	EnvNewPassphraseFile = "AEGIS_NEW_PASSPHRASE_FILE"
	EnvNewPassphrase     = "AEGIS_NEW_PASSPHRASE"
	EnvAttestSecretFile  = "AEGIS_ATTEST_SECRET_FILE"
	EnvConfigDir         = "AEGIS_CONFIG_DIR"
	EnvWindow            = "AEGIS_WINDOW"
	EnvHold              = "AEGIS_HOLD"
	EnvCover             = "AEGIS_COVER"
	EnvRelay             = "AEGIS_RELAY"
	EnvRelayKeySHA256    = "AEGIS_RELAY_KEY_SHA256"
	// Passphrase of the legacy vault of import-legacy (legacy.go).
	EnvLegacyPassphraseFile = "AEGIS_LEGACY_PASSPHRASE_FILE"
	EnvLegacyPassphrase     = "AEGIS_LEGACY_PASSPHRASE"
)

// app is one run of the tool.
type app struct {
	ctx            context.Context // the run's: done on SIGINT or SIGTERM
	stdin          io.Reader
	stdout, stderr io.Writer
	lookupEnv      func(string) (string, bool)
	// server and relay are the --remote and --relay URLs of the run's back
	// end, once it is made: they name the peer in remoteProblem's messages.
	server, relay string
}

// Main runs aegis with args (args[0] is the program name) and returns the
// exit code. Errors go to stderr as one line "aegis: <what>: <why>".
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, lookupEnv: os.LookupEnv}
	err := interrupted(ctx, a.command().Run(ctx, args))
	if err != nil {
		fmt.Fprintln(stderr, "aegis: "+a.message(err))
	}
	return ExitCode(err)
}

// message is the error line of err, after the "aegis: " prefix: a failure to
// reach the remote server in one sentence of its own, else the error's text.
// A write whose outcome is unknown keeps its own explanation (describe),
// whatever cut the answer short.
func (a *app) message(err error) string {
	if a.server != "" && !errors.Is(err, domain.ErrOutcomeUnknown) {
		if m := remoteProblem(err, a.server, a.relay); m != "" {
			return m
		}
	}
	return oneLine(err)
}

func (a *app) onUsageError(_ context.Context, cmd *ucli.Command, err error, _ bool) error {
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		msg = "unknown flag --" + f
	}
	// urfave/cli reports a flag value that does not parse as
	// `invalid value "V" for flag -NAME: <the parser's error>`.
	var val, name string
	if _, serr := fmt.Sscanf(msg, "invalid value %q for flag -%s", &val, &name); serr == nil {
		name = strings.TrimSuffix(name, ":")
		return usageErrorf("--%s %q: %s", name, val, wantOf(cmd, name))
	}
	return usageErrorf("%s", msg)
}

// wantOf says what kind of value flag name of cmd (or of a command above it) takes.
func wantOf(cmd *ucli.Command, name string) string {
	for _, c := range cmd.Lineage() {
		for _, f := range c.Flags {
			if !slices.Contains(f.Names(), name) {
				continue
			}
			switch f.(type) {
			case *ucli.IntFlag:
				return "want a whole number"
			case *ucli.DurationFlag:
				return "want a duration, such as 30s or 5m"
			case *ucli.BoolFlag:
				return "want true or false"
			}
		}
	}
	return "not a valid value (see aegis --help)"
}

func (a *app) command() *ucli.Command {
	root := &ucli.Command{
		Name:      "aegis",
		Usage:     "an encrypted, anonymized vault on a local directory or an aegisd server",
		UsageText: "aegis [global options] command [arguments]",
		Reader:    a.stdin,
		Writer:    a.stdout,
		ErrWriter: a.stderr,
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "vault", Value: DefaultVault, Usage: "directory of the local vault", Sources: ucli.EnvVars(EnvVault)},
			&ucli.StringFlag{Name: "remote", Usage: "base URL of an aegisd: use the vault there instead of a local one", Sources: ucli.EnvVars(EnvRemote)},
			&ucli.StringFlag{Name: "relay", Usage: "URL of an Oblivious HTTP relay (aegis-relay): every request to the --remote server goes through it, encapsulated, and no connection is made to the --remote host", Sources: ucli.EnvVars(EnvRelay)},
			&ucli.StringSliceFlag{Name: "relay-key-sha256", Usage: "pin the gateway key configuration offered through --relay to this SHA-256 (hex, as aegisd logs it at start; repeat for several) instead of trusting it on first use", Sources: ucli.EnvVars(EnvRelayKeySHA256)},
			&ucli.StringFlag{Name: "vault-name", Value: DefaultVaultName, Usage: "name of the vault on the --remote server", Sources: ucli.EnvVars(EnvVaultName)},
			&ucli.StringFlag{Name: "passphrase-file", Usage: "file holding the passphrase (else " + EnvPassphrase + ", else a prompt)", Sources: ucli.EnvVars(EnvPassphraseFile)},
			&ucli.StringFlag{Name: "new-passphrase-file", Usage: "file holding the new passphrase of passwd (else " + EnvNewPassphrase + ", else a prompt)", Sources: ucli.EnvVars(EnvNewPassphraseFile)},
			&ucli.StringFlag{Name: "attest-secret-file", Usage: "file holding the token-issuance secret of the --remote server", Sources: ucli.EnvVars(EnvAttestSecretFile)},
			&ucli.StringFlag{Name: "config-dir", Usage: "configuration directory: the keys of --remote vaults (default: the user configuration directory's aegis)", Sources: ucli.EnvVars(EnvConfigDir)},
			&ucli.DurationFlag{Name: "window", Value: anonymize.DefaultWindow, Usage: "the Cloak's time window, whole seconds from 1s to 1h: local object files are dated to its start; with --hold, requests to a --remote server leave at its boundaries", Sources: ucli.EnvVars(EnvWindow)},
			&ucli.BoolFlag{Name: "hold", Usage: "hold every request to a --remote server until the next window boundary (each step of a command then waits for one)", Sources: ucli.EnvVars(EnvHold)},
			&ucli.IntFlag{Name: "cover", Usage: fmt.Sprintf("cover requests sent with every window that carries requests, 0 to %d", anonymize.MaxCover), Sources: ucli.EnvVars(EnvCover)},
			&ucli.BoolFlag{Name: "json", Usage: "machine-readable (JSON) output"},
		},
		Commands:     a.commands(),
		Version:      buildinfo.Version(),
		OnUsageError: a.onUsageError,
		// `aegis completion bash|zsh|fish|pwsh` prints urfave/cli's script.
		EnableShellCompletion:           true,
		ConfigureShellCompletionCommand: a.configureCompletion,
		ExitErrHandler:                  func(context.Context, *ucli.Command, error) {},
		HideHelpCommand:                 true,
		Action: func(_ context.Context, cmd *ucli.Command) error {
			if cmd.Args().Present() {
				return usageErrorf("unknown command %q (see aegis --help)", cmd.Args().First())
			}
			_ = ucli.ShowRootCommandHelp(cmd)
			return usageErrorf("no command given")
		},
	}
	return root
}

// completionShells are the shells `aegis completion` writes a script for.
var completionShells = []string{"bash", "zsh", "fish", "pwsh"}

// configureCompletion shows urfave/cli's completion command in the help and
// makes a missing or unknown shell a usage error.
func (a *app) configureCompletion(c *ucli.Command) {
	c.Hidden = false
	c.Usage = "print the shell completion script of " + strings.Join(completionShells, ", ") + " (for example: source <(aegis completion bash))"
	c.ArgsUsage = strings.Join(completionShells, "|")
	c.Action = func(_ context.Context, cmd *ucli.Command) error {
		if cmd.Args().Present() {
			return usageErrorf("completion: unknown shell %q: want one of %s", cmd.Args().First(), strings.Join(completionShells, ", "))
		}
		return usageErrorf("completion: name the shell: %s", strings.Join(completionShells, ", "))
	}
	a.sub(c)
}

func (a *app) sub(c *ucli.Command) *ucli.Command {
	c.OnUsageError = a.onUsageError
	for _, s := range c.Commands {
		a.sub(s)
	}
	return c
}

func (a *app) commands() []*ucli.Command {
	kdf := &ucli.StringFlag{Name: "kdf", Value: "pbkdf2", Usage: "passphrase KDF: pbkdf2 (PBKDF2-SHA256) or argon2id"}
	allowWeak := &ucli.BoolFlag{Name: allowWeakFlag, Usage: fmt.Sprintf("accept a new passphrase that zxcvbn scores below %d of 4", MinPassphraseScore)}
	cmds := []*ucli.Command{
		{Name: "init", Usage: "create a new vault", Flags: []ucli.Flag{kdf, allowWeak}, Action: a.cmdInit},
		{Name: "put", Usage: "store a file (or standard input) as a category, streamed", ArgsUsage: "CATEGORY [FILE|-]", Action: a.cmdPut},
		{Name: "get", Usage: "write a category to standard output or a file, streamed", ArgsUsage: "CATEGORY",
			Flags: []ucli.Flag{&ucli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` (atomically) instead of standard output"}}, Action: a.cmdGet},
		{Name: "store", Usage: "store every category of a JSON object {category: value} in one batch", ArgsUsage: "FILE.json|-", Action: a.cmdStore},
		{Name: "load", Usage: "print categories as a JSON object {category: value} (all if none named)", ArgsUsage: "[CATEGORY...]", Action: a.cmdLoad},
		{Name: "ls", Usage: "list the categories, one per line", Action: a.cmdLs},
		{Name: "rm", Usage: "delete a category", ArgsUsage: "CATEGORY", Action: a.cmdRm},
		{Name: "verify", Usage: "check the vault against a JSON object {category: value}: PASS or FAIL each", ArgsUsage: "FILE.json|-", Action: a.cmdVerify},
		{Name: "stats", Usage: "what the vault holds and what the store sees", Action: a.cmdStats},
		a.checkCommand(),
		{Name: "passwd", Usage: "change the passphrase (re-wraps the keys only; --rotate: new keys, all data re-encrypted)", Flags: []ucli.Flag{
			&ucli.BoolFlag{Name: "rotate", Usage: "also replace every key and the vault id and re-encrypt all data, so an old copy of the store opened with the old passphrase reads nothing written afterwards (takes time in proportion to the vault's size)"},
			allowWeak,
		}, Action: a.cmdPasswd},
		{Name: "rotate", Usage: "give categories new data keys and re-encrypt them (all if none named)", ArgsUsage: "[CATEGORY...]", Action: a.cmdRotate},
		a.importLegacyCommand(),
		{Name: "vault-key", Usage: "the key of a --remote vault, kept in the configuration directory: copy it to reach the vault from another machine", Commands: []*ucli.Command{
			{Name: "export", Usage: "print the key of the --remote vault (keep it secret)", Action: a.cmdVaultKeyExport},
			{Name: "import", Usage: "record the key of the --remote vault, as printed by export on another machine", ArgsUsage: "[KEY|-]", Action: a.cmdVaultKeyImport},
		}, Action: func(_ context.Context, cmd *ucli.Command) error {
			return usageErrorf("vault-key: give a command: export or import")
		}},
		{Name: "tokens", Usage: "Privacy Pass tokens of the --remote server", Commands: []*ucli.Command{
			{Name: "fetch", Usage: "fetch tokens from the issuer and report the rate: token type, count, seconds, tokens/s", Flags: []ucli.Flag{
				&ucli.IntFlag{Name: "count", Value: DefaultFetchCount, Usage: fmt.Sprintf("number of tokens (1 to %d)", MaxTokens)},
				&ucli.IntFlag{Name: "batch", Value: DefaultFetchBatch, Usage: fmt.Sprintf("tokens per issuance request (1 to %d)", privacypass.MaxBatch)},
				&ucli.StringFlag{Name: "out", Usage: "also write the tokens, one per line, base64url (RFC 9577), to `FILE` (mode 0600; - for standard output, the report then goes to standard error)"},
			}, Action: a.cmdTokensFetch},
		}, Action: func(_ context.Context, cmd *ucli.Command) error {
			if cmd.Args().Present() {
				return usageErrorf("tokens: unknown command %q", cmd.Args().First())
			}
			return usageErrorf("tokens: give a command: fetch")
		}},
	}
	for _, c := range cmds {
		a.sub(c)
	}
	return cmds
}

// session is an open vault and its Cloak.
type session struct {
	v *vault.Vault
	c *anonymize.Cloak
	b Backend
}

func (a *app) backend(cmd *ucli.Command) (Backend, error) {
	w := cmd.Duration("window")
	if w < time.Second || w > anonymize.MaxWindow || w%time.Second != 0 {
		return nil, usageErrorf("--window %s: want a whole number of seconds from 1s to %s", w, anonymize.MaxWindow)
	}
	if c := cmd.Int("cover"); c < 0 || c > anonymize.MaxCover {
		return nil, usageErrorf("--cover %d: want 0 to %d", c, anonymize.MaxCover)
	}
	remote := cmd.String("remote")
	if remote != "" {
		if err := httpblob.CheckBaseURL(remote); err != nil {
			return nil, usageErrorf("--remote %q: want the http(s) base URL of an aegisd, without user, query or fragment: it starts with http:// or https:// (for example http://127.0.0.1:8080)", openurl.Redact(remote))
		}
	}
	relay := cmd.String("relay")
	if relay != "" {
		if cmd.String("remote") == "" {
			return nil, usageErrorf("--relay needs --remote: the relay carries the requests to a remote server")
		}
		if err := httpblob.CheckRelayURL(relay); err != nil {
			return nil, usageErrorf("--relay %q: want an http(s) URL without user, query or fragment", relay)
		}
	}
	pins, err := parsePins(cmd.StringSlice("relay-key-sha256"))
	if err != nil {
		return nil, err
	}
	if len(pins) > 0 && relay == "" {
		return nil, usageErrorf("--relay-key-sha256 needs --relay")
	}
	b, err := Initialize(Options{
		Relay:            relay,
		RelayPins:        pins,
		Window:           w,
		Hold:             cmd.Bool("hold"),
		Cover:            int(cmd.Int("cover")),
		Vault:            cmd.String("vault"),
		Remote:           cmd.String("remote"),
		VaultName:        cmd.String("vault-name"),
		AttestSecretFile: cmd.String("attest-secret-file"),
		ConfigDir:        cmd.String("config-dir"),
	})
	switch b := b.(type) {
	case *Remote:
		b.Notices = a.stderr
		a.server, a.relay = b.URL, b.Relay
	case *Local:
		b.Notices = a.stderr
	}
	return b, err
}

// parsePins reads --relay-key-sha256 values: 64 hex digits each.
func parsePins(vals []string) ([][sha256.Size]byte, error) {
	var pins [][sha256.Size]byte
	for _, v := range vals {
		v = strings.TrimPrefix(strings.TrimSpace(v), "sha256:")
		b, err := hex.DecodeString(v)
		if err != nil || len(b) != sha256.Size {
			return nil, usageErrorf("--relay-key-sha256 %q: want a SHA-256 in hex (64 digits, optionally after \"sha256:\")", v)
		}
		pins = append(pins, [sha256.Size]byte(b))
	}
	return pins, nil
}

func (a *app) current(cmd *ucli.Command) passSource {
	return passSource{file: cmd.String("passphrase-file"), fileOpt: "passphrase-file", env: EnvPassphrase, prompt: "Passphrase"}
}

// open opens the vault of the global flags and a Cloak in front of it.
func (a *app) open(ctx context.Context, cmd *ucli.Command) (*session, error) {
	b, err := a.backend(cmd)
	if err != nil {
		return nil, err
	}
	pass, err := a.passphrase(a.current(cmd), false)
	if err != nil {
		return nil, err
	}
	c, err := b.Open(ctx, pass)
	clear(pass)
	if errors.Is(err, domain.ErrWrongPassphrase) {
		return nil, wrapErr("open "+b.Where(), err)
	}
	if err != nil {
		// The vault's own errors say "open: …" already.
		return nil, wrapErr("", err)
	}
	return &session{v: c.Vault(), c: c, b: b}, nil
}

// openWrite is open for the commands that write. It first tidies the store
// (Backend.Tidy: on a local vault, what a write killed before it finished left
// behind), so that no debris of a crash survives the next write.
func (a *app) openWrite(ctx context.Context, cmd *ucli.Command) (*session, error) {
	s, err := a.open(ctx, cmd)
	if err != nil {
		return nil, err
	}
	if err := s.b.Tidy(ctx, s.v); err != nil {
		s.close()
		return nil, wrapErr("open: removing what an interrupted write left", err)
	}
	return s, nil
}

func (s *session) close() { _ = s.v.Close() }

func args(cmd *ucli.Command, min, max int) ([]string, error) {
	got := cmd.Args().Slice()
	if len(got) < min || (max >= 0 && len(got) > max) {
		u := cmd.ArgsUsage
		if u == "" {
			u = "(no arguments)"
		}
		return nil, usageErrorf("usage: aegis %s %s", cmd.Name, u)
	}
	return got, nil
}

func isStdio(name string) bool { return name == "" || name == "-" }

func (a *app) out() *bufio.Writer { return bufio.NewWriter(a.stdout) }

// input returns standard input as a reader whose reads end when ctx is done
// (SIGINT), even while a pipe or terminal has no data.
func (a *app) input(ctx context.Context) io.Reader { return newCtxReader(ctx, a.stdin) }
