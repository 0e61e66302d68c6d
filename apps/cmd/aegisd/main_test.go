package main

import (
	"context"
	"strings"
	"testing"
)

// TestFlagsAndEnvironment checks that bad settings are refused before the
// server starts, from flags and from their AEGISD_ environment fallbacks.
func TestFlagsAndEnvironment(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"store flag", nil, []string{"--store", "gopher://bucket"}, `store "gopher://bucket"`},
		{"s3 store without credentials", map[string]string{"AEGISD_STORE": "s3://bucket?endpoint=127.0.0.1:1&tls=false", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}, nil, "AWS_ACCESS_KEY_ID"},
		{"ledger flag", nil, []string{"--ledger", "sql://x"}, `ledger "sql://x"`},
		{"redis ledger without an address", nil, []string{"--ledger", "redis://x"}, "redis://x"},
		{"redis ledger without a key lifetime", nil, []string{"--ledger", "redis://127.0.0.1:1/0"}, "--key-lifetime"},
		{"key lifetime too short", map[string]string{"AEGISD_KEY_LIFETIME": "1m"}, nil, "shorter than"},
		{"store from the environment", map[string]string{"AEGISD_STORE": "ftp://x"}, nil, `store "ftp://x"`},
		{"token type from the environment", map[string]string{"AEGISD_TOKEN_TYPE": "hmac"}, nil, `token type "hmac"`},
		{"missing secret file", nil, []string{"--attest-secret-file", dir + "/absent"}, "attestation secret"},
		{"unknown flag", nil, []string{"--nope"}, "nope"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			args := append([]string{"aegisd", "--listen", "127.0.0.1:0", "--store", "memory://", "--ledger", "memory://",
				"--issuer-dir", dir + "/issuer", "--token-type", "voprf"}, c.args...)
			if c.env != nil {
				// Let the environment supply what the flags would.
				args = []string{"aegisd", "--listen", "127.0.0.1:0", "--issuer-dir", dir + "/issuer"}
				if _, ok := c.env["AEGISD_STORE"]; !ok {
					args = append(args, "--store", "memory://", "--ledger", "memory://")
				} else {
					args = append(args, "--ledger", "memory://")
				}
			}
			cmd := command()
			cmd.Writer, cmd.ErrWriter = &strings.Builder{}, &strings.Builder{}
			err := cmd.Run(context.Background(), args)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Run(%q) = %v, want an error mentioning %q", args, err, c.want)
			}
		})
	}
}
