// Package benchmarks holds the cross-module benchmarks of Aegis's hot paths:
// padding and sealing of chunks against a plain AES-256-GCM ceiling, Vault
// Store and Load on the memory and directory stores, batched durable writes
// against a naive one-file-at-a-time writer, one durable commit against one new
// durable file (BenchmarkDurableCommit), ChangePassphrase at two vault sizes, and
// the Cloak's Store of 100 categories on the memory and directory stores.
// Everything is in _test.go files; run
//
//	go test -run='^$' -bench=. -benchmem .
//
// CI runs it with -benchtime=1x as a smoke test.
package benchmarks
