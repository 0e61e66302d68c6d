package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sample = `# command: make bench BENCHCOUNT=2
# date: 2026-11-26 22:00 UTC
# go: go1.26.8 linux/amd64
# cpu-model: AMD EPYC
# nproc: 2
# $ cd benchmarks && go test -run='^$' -bench='^BenchmarkRawGCM$' -benchmem -benchtime=200ms -count=1 .
goos: linux
goarch: amd64
pkg: github.com/ai-pantheon/aegis/benchmarks
cpu: AMD EPYC
BenchmarkRawGCM/size=1KiB-2         	 3394652	       400 ns/op	2700.37 MB/s	       0 B/op	       0 allocs/op
BenchmarkPadSeal/size=1KiB-2        	 2121585	       600 ns/op	1654.91 MB/s	       0 B/op	       0 allocs/op
PASS
# $ cd benchmarks && go test -run='^$' -bench='^BenchmarkRawGCM$' -benchmem -benchtime=200ms -count=1 .
pkg: github.com/ai-pantheon/aegis/benchmarks
BenchmarkRawGCM/size=1KiB-2         	 3394652	       200 ns/op	2700.37 MB/s	       0 B/op	       0 allocs/op
BenchmarkPadSeal/size=1KiB-2        	 2121585	       400 ns/op	1654.91 MB/s	       0 B/op	       0 allocs/op
BenchmarkVaultStore/store=mem/size=1KiB-16 	  1000	  7850 ns/op	127388 ops/s	     70 allocs/op
BenchmarkVaultStore/store=mem/size=1KiB
--- FAIL: BenchmarkSomething
`

func TestParse(t *testing.T) {
	res, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"command": "make bench BENCHCOUNT=2", "go": "go1.26.8 linux/amd64", "cpu": "AMD EPYC", "cpu-model": "AMD EPYC", "nproc": "2", "goos": "linux"} {
		if got := res.Env[k]; got != want {
			t.Errorf("Env[%q] = %q, want %q", k, got, want)
		}
	}
	if len(res.Commands) != 1 {
		t.Errorf("Commands = %q, want the one command once", res.Commands)
	}
	raw := res.Runs[pkgBench+".BenchmarkRawGCM/size=1KiB"]
	if len(raw) != 2 || raw[0].Metrics["ns/op"] != 400 || raw[1].Metrics["ns/op"] != 200 || raw[0].Metrics["MB/s"] != 2700.37 || raw[0].N != 3394652 {
		t.Errorf("RawGCM runs = %+v", raw)
	}
	vs := res.Runs[pkgBench+".BenchmarkVaultStore/store=mem/size=1KiB"]
	if len(vs) != 1 || vs[0].Metrics["ops/s"] != 127388 || vs[0].Metrics["allocs/op"] != 70 {
		t.Errorf("VaultStore runs = %+v (the -16 suffix must go, the name-only line must be skipped)", vs)
	}
	f := &fig{res: res}
	// Per-round ratios: 600/400 = 1.5 and 400/200 = 2; their median is 1.75,
	// not the ratio of the medians (500/300).
	r := f.ratio(pkgBench+".BenchmarkPadSeal/size=1KiB", pkgBench+".BenchmarkRawGCM/size=1KiB", "ns/op")
	if r.N != 2 || r.Med != 1.75 || r.Min != 1.5 || r.Max != 2 {
		t.Errorf("ratio = %+v, want median 1.75 of 1.5 and 2", r)
	}
	if s := f.stat(pkgBench+".BenchmarkRawGCM/size=1KiB", "ns/op"); s.Med != 300 || math.Abs(s.Spread()-33.333) > 0.01 {
		t.Errorf("stat = %+v, spread %v", s, s.Spread())
	}
	if len(f.missing) != 0 {
		t.Errorf("missing = %q", f.missing)
	}
	f.stat("nope", "ns/op")
	f.stat("nope", "ns/op")
	if len(f.missing) != 1 {
		t.Errorf("a missing benchmark is reported once, got %q", f.missing)
	}
}

func TestParseRejectsMalformedResults(t *testing.T) {
	for _, in := range []string{
		"BenchmarkX-2 100 12 ns/op 5\n",
		"BenchmarkX-2 100 twelve ns/op\n",
	} {
		if _, err := Parse(strings.NewReader("pkg: p\n\n" + in)); err == nil || !strings.Contains(err.Error(), "line 3") {
			t.Errorf("Parse(%q) = %v, want an error naming line 3", in, err)
		}
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{fmtNum(127388), "127,000"}, {fmtNum(1148.4), "1,150"}, {fmtNum(910.2), "910"}, {fmtNum(35.14), "35.1"},
		{fmtNum(1.874), "1.87"}, {fmtNum(0.0123), "0.0123"}, {fmtNum(0), "0"},
		{fmtDur(355.5), "356 ns"}, {fmtDur(94800), "94.8 µs"}, {fmtDur(1.87e6), "1.87 ms"}, {fmtDur(2.5e9), "2.50 s"},
		{Stat{Med: 1.59, Min: 1.55, Max: 1.62, N: 5}.RatioString(), "1.59× (1.55–1.62)"},
		{Stat{Med: 2, Min: 2, Max: 2, N: 1}.RatioString(), "2.00×"},
		{Stat{}.RatioString(), "—"},
		{Stat{Med: 100, Min: 97, Max: 104, N: 5}.SpreadString(), "±4.0%"},
		{Stat{Med: 100, Min: 50, Max: 104, N: 5}.SpreadString(), "±50%"},
		{Stat{Med: 100, N: 1}.SpreadString(), "(1 run)"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// fullResults renders two rounds of every benchmark the table needs, every
// metric present, round 2 twice as slow as round 1 throughout.
func fullResults(t *testing.T) string {
	t.Helper()
	// The keys are those an empty run reports missing.
	probe := Build(&Results{Env: map[string]string{}, Runs: map[string][]Run{}})
	var b strings.Builder
	b.WriteString("# command: make bench BENCHCOUNT=2\n# date: 2026-11-26 22:00 UTC\n# go: go1.26.8 linux/amd64\n# cpu-model: Test CPU\n# nproc: 2\n# count: 2\n# kernel: Linux 6.18\n# loadavg-start: 0.50\n")
	b.WriteString("# $ cd benchmarks && go test -bench=. .\n")
	keys := map[string]bool{}
	for _, m := range probe.Missing {
		k, _, _ := strings.Cut(m, " (")
		keys[k] = true
	}
	for round := 1; round <= 2; round++ {
		for k := range keys {
			i := strings.LastIndex(k, ".Benchmark")
			ns := 1000.0 * float64(round)
			fmt.Fprintf(&b, "pkg: %s\n%s-2 100 %g ns/op 10 MB/s 5 B/op 1 allocs/op 3 ops/s 4 req/s 6 ns/token 7 tokens/s 2.5 stored-MiB 1.5 x-newfile\n", k[:i], k[i+1:], ns)
		}
	}
	b.WriteString("# loadavg-end: 0.70\n")
	return b.String()
}

func TestGenerate(t *testing.T) {
	dir := t.TempDir()
	results := filepath.Join(dir, "results.txt")
	if err := os.WriteFile(results, []byte(fullResults(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	doc := filepath.Join(dir, "performance.md")
	var out bytes.Buffer
	if err := generate(results, filepath.Join(dir, "absent.json"), doc, &out); err != nil {
		t.Fatal(err)
	}
	table := out.String()
	for _, want := range []string{"FIGURE", "pad+seal 1KiB", "pad+seal 256KiB", "StoreAll vs one-by-one write+fsync", "vault Store of a new 1 KiB category", "PUT 64KiB aegisd", "PUT 1KiB through the relay", "ChangePassphrase 100 MiB vault", "type 0x0001 VOPRF: origin verify", "1.00×", "wrote " + doc} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	b, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	for _, want := range []string{"go1.26.8 linux/amd64", "Test CPU, 2 vCPUs", "2026-11-26 22:00 UTC", "make bench BENCHCOUNT=2", "median of 2 runs", "cd benchmarks && go test -bench=. .", "| 256 KiB |", "Not measured yet on this machine",
		"**A 1 KiB PUT through the relay takes 1.00× the time of a direct one**", "met in every round"} {
		if !strings.Contains(md, want) {
			t.Errorf("document lacks %q", want)
		}
	}
	for _, bad := range []string{"<no value>", "(not recorded)", "{{"} {
		if strings.Contains(md, bad) {
			t.Errorf("document contains %q", bad)
		}
	}

	// With a load result, the document quotes it: requests/s and the fetch share.
	load := filepath.Join(dir, "load.json")
	if err := os.WriteFile(load, []byte(`{"command":"make load LOAD_CLIENTS=8","aegisd":"aegisd --store file://x","cpu":"Test CPU","nproc":2,
		"result":{"clients":8,"duration_s":20,"put_ratio":0.5,"size":1024,"requests":1234,"puts":600,"gets":634,"errors":0,"elapsed_s":20.01,
		"token_type":1,"token_type_name":"VOPRF(P-384, SHA-384) (0x0001)","tokens_batch":64,"fetch_round_trips":20,"tokens_fetched":1280,
		"fetch_seconds":1.5,"fetch_share":0.07496,"wait_seconds":0.32,"wait_share":0.002,
		"requests_per_s":61.7,"latency_ms":{"p50":1.5,"p99":9.25,"p999":20,"max":31},"go":"go1.26.8","started":"2026-11-26T22:00:00Z"},
		"relay":"aegis-relay --rate 0",
		"relay_result":{"relay":true,"clients":8,"duration_s":20,"put_ratio":0.5,"size":1024,"requests":617,"puts":300,"gets":317,"errors":0,"elapsed_s":20.01,
		"requests_per_s":30.85,"latency_ms":{"p50":3,"p99":18.5,"p999":40,"max":62}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := generate(results, load, doc, &out); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(doc)
	for _, want := range []string{"make load LOAD_CLIENTS=8", "**61.7**", "| direct | 8 | 20.0 s | 50.0 % PUT | 1024 B | 1234 (600 PUT, 634 GET) | 0 |", "9.25 ms",
		"| through aegis-relay | 8 | 20.0 s | 50.0 % PUT | 1024 B | 617 (300 PUT, 317 GET) | 0 | **30.9** |", "**Through the relay: 30.9 requests/s, 50.0 % of the direct\n61.7**", "`aegis-relay --rate 0`",
		"| VOPRF(P-384, SHA-384) (0x0001) | 64 | 20 | 1280 | 1.50 s | **7.50 %** | 0.32 s | **0.2 %** |"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("document with a load result lacks %q", want)
		}
	}
	if strings.Contains(string(b), "earlier aegis-load") {
		t.Error("document with issuance figures says the result has none")
	}

	// A result of the aegis-load that minted its tokens before the clock has no
	// issuance figures, and the document says so.
	if err := os.WriteFile(load, []byte(`{"command":"make load","aegisd":"aegisd","cpu":"Test CPU","nproc":2,
		"result":{"clients":8,"duration_s":20,"put_ratio":0.5,"size":1024,"tokens_prefetched":54929,"requests":1234,"puts":600,"gets":634,
		"errors":0,"elapsed_s":20.01,"requests_per_s":61.7,"go":"go1.26.8","started":"2026-11-26T22:00:00Z"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := generate(results, load, doc, &out); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(doc)
	if !strings.Contains(string(b), "earlier aegis-load, which minted its tokens before the clock started") || strings.Contains(string(b), "| Token type |") ||
		strings.Contains(string(b), "through aegis-relay |") {
		t.Error("document with an old load result does not say it has no issuance figures")
	}
}

func TestGenerateRefusesIncompleteResults(t *testing.T) {
	dir := t.TempDir()
	results := filepath.Join(dir, "results.txt")
	if err := os.WriteFile(results, []byte(sample), 0o644); err != nil {
		t.Fatal(err)
	}
	doc := filepath.Join(dir, "performance.md")
	if err := os.WriteFile(doc, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := generate(results, "", doc, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "BenchmarkOneByOneFsync100x1KiB") {
		t.Fatalf("generate = %v, want an error naming the missing benchmarks", err)
	}
	if b, _ := os.ReadFile(doc); string(b) != "old" {
		t.Error("the old document was replaced")
	}
	if code := run([]string{"-results", results}, &bytes.Buffer{}, &bytes.Buffer{}); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if code := run([]string{}, &bytes.Buffer{}, &bytes.Buffer{}); code != 2 {
		t.Errorf("exit code without -results %d, want 2", code)
	}
	if code := run([]string{"-bogus"}, &bytes.Buffer{}, &bytes.Buffer{}); code != 2 {
		t.Errorf("exit code with an unknown flag %d, want 2", code)
	}
}

func TestReadLoadRejectsOtherJSON(t *testing.T) {
	p := filepath.Join(t.TempDir(), "l.json")
	for _, in := range []string{`{"result":{"requests":0,"clients":1}}`, `[1,2]`, `{`} {
		if err := os.WriteFile(p, []byte(in), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := readLoad(p); err == nil || !strings.Contains(err.Error(), "not a load result") {
			t.Errorf("readLoad(%s) = %v", in, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(sample)
	f.Add("pkg: p\nBenchmarkX-2 1 2 ns/op\n")
	f.Add("BenchmarkX 5 NaN ns/op Inf MB/s\n# a: b\n# $ c\n")
	f.Fuzz(func(t *testing.T, in string) {
		res, err := Parse(strings.NewReader(in))
		if err != nil {
			return
		}
		rep := Build(res)
		var b bytes.Buffer
		if err := rep.WriteTable(&b); err != nil {
			t.Fatal(err)
		}
		for k, runs := range res.Runs {
			if len(runs) == 0 || strings.HasPrefix(k, "-") {
				t.Fatalf("key %q with %d runs", k, len(runs))
			}
		}
	})
}
