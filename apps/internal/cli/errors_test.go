package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/ai-pantheon/aegis/adapters/httpblob"
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
			"get: chunk 1: aegis/crypto: message authentication failed: integrity check failed"},
		{wrapErr("", fmt.Errorf("aegis: open: %w", domain.ErrWrongPassphrase)), "wrong passphrase"},
		{wrapErr("put", fmt.Errorf("aegis: x: %w", domain.ErrInvalidInput)), "put: x"},
		{wrapErr("store", fmt.Errorf("x: %w", domain.ErrBusy)), "store: another aegis process holds the vault's writer lock and did not release it in time (30 s); try again"},
	}
	for _, c := range cases {
		if got := c.err.Error(); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}

func TestRemoteProblem(t *testing.T) {
	const server, relay = "http://aegisd.example:8080", "http://relay.example"
	refused := fmt.Errorf("aegis: open: get x: %w", &url.Error{Op: "Get", URL: server, Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}})
	cases := []struct {
		err   error
		relay string
		want  string // "" for none
	}{
		{fmt.Errorf("aegis: open: token: privacypass: fetch tokens: aegis/httpblob: token request: attestation_required: %w", httpblob.ErrAttestationRefused), "",
			"the server at " + server + " refused the attestation secret (AEGIS_ATTEST_SECRET_FILE / --attest-secret-file): check it matches aegisd's"},
		{refused, "", "cannot reach the server at " + server + " (connection refused): check that aegisd runs there and that --remote (AEGIS_REMOTE) is right"},
		{refused, relay, "cannot reach the relay at " + relay + " (connection refused): check that aegis-relay runs there and that --relay (AEGIS_RELAY) is right"},
		{fmt.Errorf("dial: %w", &net.DNSError{Err: "no such host", Name: "aegisd.example", IsNotFound: true}), "",
			"cannot reach the server at " + server + " (its host name does not resolve): check that aegisd runs there and that --remote (AEGIS_REMOTE) is right"},
		{fmt.Errorf("get: %w", context.DeadlineExceeded), "", "cannot reach the server at " + server + " (no answer in time): check that aegisd runs there and that --remote (AEGIS_REMOTE) is right"},
		{fmt.Errorf("get: server refused the token (token_spent): %w", domain.ErrTokenSpent), "", "the server at " + server + " refused an access token as already spent: run the command again"},
		{fmt.Errorf("get: server refused the token (token_invalid): %w", domain.ErrTokenInvalid), "", "the server at " + server +
			" refused an access token it issued: its issuer key may have changed (aegisd restarted with another issuer directory); run the command again"},
		{fmt.Errorf("relay %s: aegis/httpblob: relay key configurations: %w", relay, &httpblob.RelayError{Status: 502, Code: "gateway_unreachable"}), relay,
			"the relay at " + relay + " cannot reach its gateway, aegisd (gateway_unreachable): check that aegisd runs and that aegis-relay's --gateway is right"},
		{&httpblob.RelayError{Status: 502, Code: "gateway_error"}, relay, ""},
		{fmt.Errorf("open: %w", domain.ErrWrongPassphrase), "", ""},
		{errors.New("gave up after 4 attempts: server unavailable (busy)"), "", ""},
		{context.Canceled, "", ""},
	}
	for _, c := range cases {
		if got := remoteProblem(c.err, server, c.relay); got != c.want {
			t.Errorf("remoteProblem(%v, relay %q) = %q, want %q", c.err, c.relay, got, c.want)
		}
	}
}

func TestMessageKeepsOutcomeUnknown(t *testing.T) {
	a := &app{server: "http://aegisd.example:8080"}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	if got := a.message(wrapErr("put", refused)); !strings.HasPrefix(got, "cannot reach the server at http://aegisd.example:8080") {
		t.Errorf("refused: %q", got)
	}
	got := a.message(wrapErr("put", fmt.Errorf("%w: %w", domain.ErrOutcomeUnknown, refused)))
	if !strings.HasPrefix(got, "put: the store did not answer whether the write took effect") {
		t.Errorf("outcome unknown after a refused connection: %q", got)
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
