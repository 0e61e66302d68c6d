// Command aegis-load is a load generator for aegisd: C concurrent clients send
// a mix of PUTs and GETs for T seconds, each request with its own Privacy Pass
// token, and it prints the requests per second, the latency percentiles
// (p50, p99, p99.9), the error count and what token issuance cost during the
// run. See docs/performance.md.
//
//	aegis-load --server URL --attest-secret-file FILE [--clients 8] [--duration 10s]
//	           [--put-ratio 0.5] [--size 1KiB] [--tokens-batch 64] [--json]
//
// Each client has its own connection and stores objects of --size random bytes
// under random 64-hex ids; it GETs only ids it stored before and checks the
// bytes it gets back. Requests are not retried.
//
// No token is minted before the clock starts. Each client has its own token
// pool (httpblob.NewTokenPool: the server's challenge and issuer directory are
// read beforehand), empty at the start: its first request waits for a batch of
// --tokens-batch tokens (POST /v1/token-requests with the attestation secret),
// and later batches are fetched in the background once the pool runs low, or
// synchronously when it runs out. The report counts these issuance round
// trips and the tokens they brought, sums their durations over all clients
// (fetch_seconds: blinding, round trip and finalization) and divides that by
// the run's wall time (fetch_share). It also sums the time requests waited
// for a token (wait_seconds) and divides that by the clients' time, clients ×
// wall time (wait_share): how much issuance held the requests up. A client
// whose pool fails to fetch counts that request as failed and stops.
//
// Exit codes: 0 success, 1 any error (setup or a single failed request,
// issuance included), 2 usage error.
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
