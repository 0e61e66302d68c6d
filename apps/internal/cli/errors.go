package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/ai-pantheon/aegis/adapters/httpblob"
	"github.com/ai-pantheon/aegis/adapters/httpwire"
	"github.com/ai-pantheon/aegis/domain"
)

// Exit codes of aegis (docs/cli.md).
const (
	ExitOK        = 0
	ExitFailure   = 1
	ExitUsage     = 2
	ExitPassword  = 3
	ExitIntegrity = 4
	ExitNotFound  = 5
	// ExitInterrupted: SIGINT or SIGTERM stopped the command (128 + SIGINT).
	ExitInterrupted = 130
)

// usageError is a command-line mistake: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, a ...any) error {
	return &usageError{fmt.Sprintf(format, a...)}
}

// opError is a failed step of a command: "<what>: <why>" ("<why>" alone
// without a what).
type opError struct {
	what string
	err  error
}

func (e *opError) Error() string {
	if e.what == "" {
		return describe(e.err)
	}
	return e.what + ": " + describe(e.err)
}

func (e *opError) Unwrap() error { return e.err }

func wrapErr(what string, err error) error {
	if err == nil {
		return nil
	}
	var u *usageError
	if errors.As(err, &u) {
		return err
	}
	return &opError{what, err}
}

// ExitCode maps an error to its exit code.
func ExitCode(err error) int {
	var u *usageError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, errInterrupted):
		return ExitInterrupted
	case errors.As(err, &u):
		return ExitUsage
	case errors.Is(err, domain.ErrWrongPassphrase):
		return ExitPassword
	case errors.Is(err, domain.ErrIntegrity):
		return ExitIntegrity
	case errors.Is(err, domain.ErrNotFound):
		return ExitNotFound
	}
	return ExitFailure
}

// describe turns an error chain into one readable line. The sentinels get a
// plain explanation; other chains keep their text, which names each step once
// (the domain's sentinels carry no prefix of their own), without a leading
// library "aegis: " (the CLI adds its own).
func describe(err error) string {
	switch {
	case errors.Is(err, domain.ErrBusy):
		return "another aegis process holds the vault's writer lock and did not release it in time (30 s); try again"
	case errors.Is(err, domain.ErrWrongPassphrase):
		return "wrong passphrase"
	case errors.Is(err, domain.ErrExists):
		return "a vault already exists there"
	case errors.Is(err, domain.ErrNotEmpty):
		return "the store already holds objects (perhaps of a vault whose header was lost): refusing to create a vault over them; use an empty directory"
	case errors.Is(err, domain.ErrOutcomeUnknown):
		return "the store did not answer whether the write took effect (" + oneLine(err) +
			"); nothing was deleted, and the next write settles it: check with `aegis ls` or `aegis get`, and write again if needed"
	}
	s := oneLine(err)
	if errors.Is(err, domain.ErrIntegrity) && !strings.Contains(s, domain.ErrIntegrity.Error()) {
		s += " (" + domain.ErrIntegrity.Error() + ": stored data was altered or is corrupt)"
	}
	return strings.TrimSuffix(s, ": "+domain.ErrInvalidInput.Error())
}

func oneLine(err error) string {
	return strings.ReplaceAll(strings.TrimPrefix(err.Error(), "aegis: "), "\n", " ")
}

// remoteProblem is the one sentence that says what went wrong, and what to do,
// when err is a failure to get an answer from the --remote server (reached
// through relay, if set): its issuer refused the attestation secret, it (or
// the relay, or the relay's way to it) could not be reached, or it refused an
// access token it issued. It is "" for any other error.
func remoteProblem(err error, server, relay string) string {
	switch {
	case errors.Is(err, httpblob.ErrAttestationRefused):
		return fmt.Sprintf("the server at %s refused the attestation secret (%s / --attest-secret-file): check it matches aegisd's", server, EnvAttestSecretFile)
	case errors.Is(err, domain.ErrTokenSpent):
		return fmt.Sprintf("the server at %s refused an access token as already spent: run the command again", server)
	case errors.Is(err, domain.ErrTokenInvalid):
		return fmt.Sprintf("the server at %s refused an access token it issued: its issuer key may have changed (aegisd restarted with another issuer directory); run the command again", server)
	}
	var re *httpblob.RelayError
	if errors.As(err, &re) && re.Code == httpwire.CodeGatewayUnreachable {
		return fmt.Sprintf("the relay at %s cannot reach its gateway, aegisd (%s): check that aegisd runs and that aegis-relay's --gateway is right", relay, re.Code)
	}
	why := unreachable(err)
	if why == "" {
		return ""
	}
	if relay != "" {
		return fmt.Sprintf("cannot reach the relay at %s (%s): check that aegis-relay runs there and that --relay (%s) is right", relay, why, EnvRelay)
	}
	return fmt.Sprintf("cannot reach the server at %s (%s): check that aegisd runs there and that --remote (%s) is right", server, why, EnvRemote)
}

// unreachable says why a connection could not be made ("" if err is not
// such a failure).
func unreachable(err error) string {
	var dns *net.DNSError
	var ne net.Error
	var op *net.OpError
	switch {
	case errors.As(err, &dns):
		return "its host name does not resolve"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH):
		return "no route to the host"
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return "no answer in time"
	case errors.As(err, &op) && op.Op == "dial":
		return "the connection could not be made"
	}
	return ""
}
