package cli

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ai-pantheon/aegis/domain"
)

func TestExitCode(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{errors.New("disk full"), ExitFailure},
		{usageErrorf("no command given"), ExitUsage},
		{wrapErr("open", fmt.Errorf("open: %w", domain.ErrWrongPassphrase)), ExitPassword},
		{wrapErr("get", fmt.Errorf("chunk 3: %w", domain.ErrIntegrity)), ExitIntegrity},
		{wrapErr("rm", fmt.Errorf("category: %w", domain.ErrNotFound)), ExitNotFound},
		{wrapErr("store", fmt.Errorf("lock: %w", domain.ErrBusy)), ExitFailure},
		{wrapErr("x", usageErrorf("bad")), ExitUsage},
	}
	for _, c := range cases {
		if got := ExitCode(c.err); got != c.want {
			t.Errorf("ExitCode(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}

func TestErrorLine(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{wrapErr("open", fmt.Errorf("aegis: open: %w", domain.ErrWrongPassphrase)), "open: wrong passphrase"},
		{wrapErr("get \"a\"", fmt.Errorf("category \"a\": %w", domain.ErrNotFound)), `get "a": category "a": not found`},
		{wrapErr("get", fmt.Errorf("chunk 1: aegis/crypto: message authentication failed: %w", domain.ErrIntegrity)),
			"get: chunk 1: message authentication failed: integrity check failed"},
		{wrapErr("store", fmt.Errorf("x: %w", domain.ErrBusy)), "store: another aegis process holds the vault's writer lock and did not release it in time (30 s); try again"},
	}
	for _, c := range cases {
		if got := c.err.Error(); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}

func TestLineCol(t *testing.T) {
	b := []byte("{\n  \"a\": 1,\n  \"b\" 2\n}")
	for _, c := range []struct {
		off  int64
		want string
	}{{0, "1:1"}, {1, "1:2"}, {2, "2:1"}, {18, "3:7"}, {-5, "1:1"}, {1000, "4:2"}} {
		if got := lineCol(b, c.off); got != c.want {
			t.Errorf("lineCol(%d) = %s, want %s", c.off, got, c.want)
		}
	}
}
