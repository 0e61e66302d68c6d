package cli

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

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

// opError is a failed step of a command: "<what>: <why>".
type opError struct {
	what string
	err  error
}

func (e *opError) Error() string { return e.what + ": " + clean(e.err) }
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

// clean turns an error chain into one readable line: the library's own
// "aegis: " prefixes go (the CLI adds one), and the sentinels get a plain
// explanation.
func clean(err error) string {
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
		return "the store did not answer whether the write took effect (" + libPrefix.ReplaceAllString(err.Error(), "") +
			"); nothing was deleted, and the next write settles it: check with `aegis ls` or `aegis get`, and write again if needed"
	}
	s := libPrefix.ReplaceAllString(err.Error(), "")
	if errors.Is(err, domain.ErrIntegrity) && !strings.Contains(s, "integrity") {
		s += " (integrity check failed: stored data was altered or is corrupt)"
	}
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.TrimSuffix(s, ": invalid input")
	return s
}

// libPrefix matches the package prefixes of library errors ("aegis: ",
// "aegis/crypto: ").
var libPrefix = regexp.MustCompile(`\baegis(/[a-z]+)?: `)
