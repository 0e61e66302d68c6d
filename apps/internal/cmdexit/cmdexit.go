// Package cmdexit runs the urfave/cli command of a server binary (aegisd,
// aegis-relay) and turns its outcome into an exit code and one error line:
// 0 success, 1 failure, 2 usage error.
package cmdexit

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/ai-pantheon/aegis/domain"
)

// Exit codes.
const (
	OK      = 0
	Failure = 1
	Usage   = 2
)

// UsageError is a command-line mistake: exit code Usage.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef returns a UsageError with the formatted message.
func Usagef(format string, a ...any) error { return &UsageError{fmt.Errorf(format, a...)} }

// OnUsageError is the cli.Command OnUsageError of the binaries: a flag the
// command does not know reads "unknown flag --NAME"; every flag error is a
// UsageError.
func OnUsageError(_ context.Context, _ *cli.Command, err error, _ bool) error {
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		msg = "unknown flag --" + f
	}
	return &UsageError{errors.New(msg)}
}

// Run runs cmd with args and returns the exit code. An error is written to
// cmd.ErrWriter as one line "NAME: …" (NAME is cmd.Name, not repeated when
// the error starts with it; a trailing domain.ErrInvalidInput is left out).
// A UsageError is Usage, and so is an error wrapping domain.ErrInvalidInput
// when invalidIsUsage; any other error is Failure.
func Run(ctx context.Context, cmd *cli.Command, args []string, invalidIsUsage bool) int {
	err := cmd.Run(ctx, args)
	if err == nil {
		return OK
	}
	prefix := cmd.Name + ": "
	msg := strings.TrimPrefix(err.Error(), prefix)
	msg = strings.TrimSuffix(msg, ": "+domain.ErrInvalidInput.Error()) // the sentinel adds nothing to the line
	fmt.Fprintln(cmd.ErrWriter, prefix+msg)
	var u *UsageError
	if errors.As(err, &u) || (invalidIsUsage && errors.Is(err, domain.ErrInvalidInput)) {
		return Usage
	}
	return Failure
}
