// Command aegis-load is a load generator for aegisd: C concurrent clients send
// a mix of PUTs and GETs for T seconds, each request with its own Privacy Pass
// token, and it prints the requests per second, the latency percentiles
// (p50, p99, p99.9) and the error count. See docs/performance.md.
//
//	aegis-load --server URL --attest-secret-file FILE [--clients 8] [--duration 10s]
//	           [--put-ratio 0.5] [--size 1KiB] [--tokens-batch 64] [--tokens N]
//	           [--warmup 2s] [--issuers 2] [--json]
//
// Each client has its own connection and stores objects of --size random bytes
// under random 64-hex ids; it GETs only ids it stored before and checks the
// bytes it gets back. Requests are not retried. Tokens are fetched from the
// server's issuer (POST /v1/token-requests with the attestation secret, through
// httpblob.NewTokenPool) before the clock starts: --tokens of them, or, by
// default, as many as a warm-up of --warmup suggests the run will spend, plus
// a margin. Should the run spend them all, the rest are fetched during the run
// and the report says how many.
//
// Exit codes: 0 success, 1 any error (setup, issuance or a single failed
// request), 2 usage error.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := Main(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
