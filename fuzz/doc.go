// Package fuzz holds Aegis's cross-module fuzz targets: one for every decoder of
// untrusted bytes (frames, vault headers, manifests, sealed messages and chunks)
// and a Vault round trip. Everything is in _test.go files; run one target at a
// time, for example
//
//	go test -run='^$' -fuzz='^FuzzDecodeFrame$' -fuzztime=30s .
//
// Plain `go test .` runs every target over its seeds and the committed corpus in
// testdata/fuzz. AEGIS_WRITE_CORPUS=1 go test -run=TestWriteSeedCorpus .
// regenerates the committed seed files.
package fuzz
