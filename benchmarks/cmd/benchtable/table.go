package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"
)

// Import paths of the packages whose benchmarks the table reads.
const (
	pkgBench   = "github.com/ai-pantheon/aegis/benchmarks"
	pkgCloak   = "github.com/ai-pantheon/aegis/benchmarks"
	pkgPP      = "github.com/ai-pantheon/aegis/crypto/privacypass"
	pkgHMAC    = "github.com/ai-pantheon/aegis/crypto/hmactoken"
	pkgMemLed  = "github.com/ai-pantheon/aegis/adapters/memledger"
	pkgFileLed = "github.com/ai-pantheon/aegis/adapters/fileledger"
	pkgAegisd  = "github.com/ai-pantheon/aegis/apps/internal/aegisd"
)

func key(pkg, name string) string { return pkg + "." + name }

// Row is one line of the console table.
type Row struct {
	Section  string // printed once, above its first row
	Figure   string // what is measured
	Value    string // its median
	Spread   string // ± of the runs around the median
	Baseline string // what it is compared with, and that median
	Ratio    string // per-round ratio: median (min–max)
	Of       string // what the ratio divides
}

// Report is every figure of the table and of docs/performance.md.
type Report struct {
	Rows []Row
	// MD holds one Markdown table per section, by section id.
	MD map[string]string
	// F holds single figures the prose of docs/performance.md quotes.
	F map[string]string
	// Missing lists the benchmarks (and units) that the results lack.
	Missing []string
}

// chunkSizes are the bucket sizes of the chunk benchmarks (benchmarks/helpers_test.go).
var chunkSizes = []string{"1KiB", "4KiB", "16KiB", "64KiB", "256KiB", "1MiB"}

// Build computes the report from parsed results.
func Build(res *Results) *Report {
	f := &fig{res: res}
	r := &Report{MD: map[string]string{}, F: map[string]string{}}
	r.chunk(f)
	r.vault(f)
	r.storeAll(f)
	r.durableCommit(f)
	r.cloak(f)
	r.tokens(f)
	r.issuance(f)
	r.aegisd(f)
	r.changePassphrase(f)
	r.Missing = f.missing
	return r
}

// md renders a Markdown table.
func md(header []string, rows [][]string) string {
	var b strings.Builder
	b.WriteString("| " + strings.Join(header, " | ") + " |\n|")
	for range header {
		b.WriteString("---|")
	}
	b.WriteByte('\n')
	for _, row := range rows {
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	return b.String()
}

// spaced writes a size as prose does: "1KiB" becomes "1 KiB".
func spaced(s string) string {
	for _, u := range []string{"KiB", "MiB"} {
		if i := strings.Index(s, u); i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
			return s[:i] + " " + s[i:]
		}
	}
	return s
}

func mbs(s Stat) string { return fmtNum(s.Med) + " MB/s" }

func bold(s string) string { return "**" + s + "**" }

func (r *Report) chunk(f *fig) {
	var rows [][]string
	allocs, padLo, padHi := 0.0, math.Inf(1), math.Inf(-1)
	for i, sz := range chunkSizes {
		sub := "/size=" + sz
		raw := key(pkgBench, "BenchmarkRawGCM"+sub)
		pad := key(pkgBench, "BenchmarkPad"+sub)
		seal := key(pkgBench, "BenchmarkPadSeal"+sub)
		open := key(pkgBench, "BenchmarkOpenChunk"+sub)
		rawS, padS, sealS, openS := f.stat(raw, "MB/s"), f.stat(pad, "MB/s"), f.stat(seal, "MB/s"), f.stat(open, "MB/s")
		padR, sealR := f.ratio(pad, raw, "ns/op"), f.ratio(seal, raw, "ns/op")
		sealAllocs := f.stat(seal, "allocs/op")
		sec := ""
		if i == 0 {
			sec = "Pad and pad+seal against raw AES-256-GCM (throughput of the payload; ratio = time / raw time)"
		}
		r.Rows = append(r.Rows,
			Row{Section: sec, Figure: "raw AES-256-GCM seal " + sz, Value: mbs(rawS), Spread: rawS.SpreadString()},
			Row{Figure: "pad " + sz, Value: mbs(padS), Spread: padS.SpreadString(), Baseline: "raw " + mbs(rawS), Ratio: padR.RatioString(), Of: "pad / raw"},
			Row{Figure: "pad+seal " + sz, Value: fmt.Sprintf("%s, %s allocs", mbs(sealS), fmtInt(sealAllocs.Med)), Spread: sealS.SpreadString(), Baseline: "raw " + mbs(rawS), Ratio: sealR.RatioString(), Of: "pad+seal / raw"},
		)
		speed := 0.0
		if sealR.Med != 0 {
			speed = 1 / sealR.Med
		}
		rows = append(rows, []string{spaced(sz), fmtNum(rawS.Med), fmtNum(padS.Med), padR.RatioString(),
			fmtNum(sealS.Med), bold(sealR.RatioString()), fmtRatio(speed), fmtInt(sealAllocs.Med), fmtNum(openS.Med)})
		allocs = max(allocs, sealAllocs.Med, f.stat(pad, "allocs/op").Med, f.stat(open, "allocs/op").Med)
		padLo, padHi = min(padLo, padR.Med), max(padHi, padR.Med)
		r.F["padseal_ratio_"+sz] = sealR.RatioString()
	}
	r.F["pad_ratio_range"] = fmt.Sprintf("%s–%s×", fmtRatio(padLo), fmtRatio(padHi))
	r.F["chunk_allocs"] = "No path allocates per operation."
	if allocs > 0 {
		r.F["chunk_allocs"] = fmt.Sprintf("Some path allocates per operation (up to %s allocations: see the raw results).", fmtInt(allocs))
	}
	r.MD["chunk"] = md([]string{"Bucket", "Raw GCM MB/s", "Pad MB/s", "Pad time / raw", "Pad+seal MB/s", "**Pad+seal time / raw**", "Pad+seal speed / raw", "Pad+seal allocs/op", "Open+unpad MB/s"}, rows)
}

var vaultSizes = []string{"1KiB", "64KiB", "1MiB"}

func (r *Report) vault(f *fig) {
	var rows [][]string
	first := true
	for _, op := range []string{"Store", "Load"} {
		for _, sz := range vaultSizes {
			mem := key(pkgBench, "BenchmarkVault"+op+"/store=mem/size="+sz)
			fs := key(pkgBench, "BenchmarkVault"+op+"/store=fs/size="+sz)
			memOps, fsOps := f.stat(mem, "ops/s"), f.stat(fs, "ops/s")
			memMB, fsMB := f.stat(mem, "MB/s"), f.stat(fs, "MB/s")
			memA, fsA := f.stat(mem, "allocs/op"), f.stat(fs, "allocs/op")
			ratio := f.ratio(fs, mem, "ns/op")
			sec := ""
			if first {
				sec, first = "Vault Store/Load, memblob and fsblob (durable)", false
			}
			r.Rows = append(r.Rows,
				Row{Section: sec, Figure: fmt.Sprintf("%s %s memblob", op, sz), Value: fmt.Sprintf("%s ops/s, %s allocs", fmtNum(memOps.Med), fmtInt(memA.Med)), Spread: memOps.SpreadString()},
				Row{Figure: fmt.Sprintf("%s %s fsblob", op, sz), Value: fmt.Sprintf("%s ops/s, %s allocs", fmtNum(fsOps.Med), fmtInt(fsA.Med)), Spread: fsOps.SpreadString(),
					Baseline: "memblob " + fmtNum(memOps.Med) + " ops/s", Ratio: ratio.RatioString(), Of: "fs time / mem time"},
			)
			rows = append(rows, []string{op, spaced(sz),
				fmt.Sprintf("%s ops/s (%s MB/s), %s allocs", fmtNum(memOps.Med), fmtNum(memMB.Med), fmtInt(memA.Med)),
				fmt.Sprintf("%s ops/s (%s MB/s), %s allocs", fmtNum(fsOps.Med), fmtNum(fsMB.Med), fmtInt(fsA.Med)),
				ratio.RatioString()})
		}
	}
	r.F["fs_store_1k_ops"] = fmtNum(f.stat(key(pkgBench, "BenchmarkVaultStore/store=fs/size=1KiB"), "ops/s").Med)
	r.MD["vault"] = md([]string{"Operation", "Payload", "memblob", "fsblob (durable)", "fsblob time / memblob time"}, rows)
}

func (r *Report) storeAll(f *fig) {
	all := key(pkgBench, "BenchmarkStoreAll100x1KiB/fs")
	fsync := key(pkgBench, "BenchmarkOneByOneFsync100x1KiB")
	atomic := key(pkgBench, "BenchmarkOneByOneAtomic100x1KiB")
	allS, fsyncS, atomicS := f.stat(all, "ns/op"), f.stat(fsync, "ns/op"), f.stat(atomic, "ns/op")
	rF, rA := f.ratio(all, fsync, "ns/op"), f.ratio(all, atomic, "ns/op")
	r.Rows = append(r.Rows,
		Row{Section: "StoreAll of 100 × 1 KiB against one-by-one durable writes (time per batch of 100)", Figure: "StoreAll 100×1KiB (fsblob)", Value: fmtDur(allS.Med), Spread: allS.SpreadString()},
		Row{Figure: "StoreAll vs one-by-one write+fsync", Value: fmtDur(allS.Med), Spread: allS.SpreadString(), Baseline: "write+fsync " + fmtDur(fsyncS.Med) + " " + fsyncS.SpreadString(), Ratio: rF.RatioString(), Of: "StoreAll / one-by-one"},
		Row{Figure: "StoreAll vs one-by-one atomic (tmp, fsync, rename, dir fsync)", Value: fmtDur(allS.Med), Spread: allS.SpreadString(), Baseline: "atomic " + fmtDur(atomicS.Med) + " " + atomicS.SpreadString(), Ratio: rA.RatioString(), Of: "StoreAll / one-by-one"},
	)
	r.MD["storeall"] = md([]string{"Benchmark", "Time per batch of 100 (median)", "Spread", "StoreAll time / this"}, [][]string{
		{"`StoreAll100x1KiB/fs`", bold(fmtDur(allS.Med)), allS.SpreadString(), "—"},
		{"`OneByOneFsync100x1KiB`", fmtDur(fsyncS.Med), fsyncS.SpreadString(), bold(rF.RatioString())},
		{"`OneByOneAtomic100x1KiB`", fmtDur(atomicS.Med), atomicS.SpreadString(), bold(rA.RatioString())},
	})
	r.F["storeall_vs_fsync"] = fmtRatio(rF.Med) + "×"
	r.F["storeall_vs_atomic"] = fmtRatio(rA.Med) + "×"
}

func (r *Report) durableCommit(f *fig) {
	vault := key(pkgBench, "BenchmarkDurableCommit/path=vault")
	floor := key(pkgBench, "BenchmarkDurableCommit/path=newfile")
	vS, fS := f.stat(vault, "ns/op"), f.stat(floor, "ns/op")
	vA, fA := f.stat(vault, "allocs/op"), f.stat(floor, "allocs/op")
	round := f.ratio(vault, floor, "ns/op")
	inter := f.stat(vault, "x-newfile")
	r.Rows = append(r.Rows,
		Row{Section: "Durable commit: one Store of a new 1 KiB category on fsblob against one new durable file (time per op)", Figure: "new file: temp, fsync, rename, dir fsync", Value: fmtDur(fS.Med), Spread: fS.SpreadString()},
		Row{Figure: "vault Store of a new 1 KiB category", Value: fmt.Sprintf("%s, %s allocs", fmtDur(vS.Med), fmtInt(vA.Med)), Spread: vS.SpreadString(),
			Baseline: "new file " + fmtDur(fS.Med), Ratio: round.RatioString(), Of: "vault / new file"},
		Row{Figure: "the same, interleaved in one run (x-newfile)", Value: inter.RatioString(), Spread: inter.SpreadString()},
	)
	r.MD["durable"] = md([]string{"Path", "Time per op (median)", "Spread", "Allocs/op"}, [][]string{
		{"`path=newfile`: a new 1 KiB file (temp file, `fsync`, rename, directory `fsync`)", fmtDur(fS.Med), fS.SpreadString(), fmtInt(fA.Med)},
		{"`path=vault`: `Store` of a new 1 KiB category on `fsblob`", bold(fmtDur(vS.Med)), vS.SpreadString(), fmtInt(vA.Med)},
	})
	r.F["durable_round"] = round.RatioString()
	r.F["durable_interleaved"] = inter.RatioString()
}

func (r *Report) cloak(f *fig) {
	mem := key(pkgCloak, "BenchmarkCloakStore100x1300B/store=mem")
	fs := key(pkgCloak, "BenchmarkCloakStore100x1300B/store=fs")
	memS, fsS := f.stat(mem, "ns/op"), f.stat(fs, "ns/op")
	memA, fsA := f.stat(mem, "allocs/op"), f.stat(fs, "allocs/op")
	ratio := f.ratio(fs, mem, "ns/op")
	r.Rows = append(r.Rows,
		Row{Section: "Cloak.Store of 100 categories (~1.3 KB JSON each, time per batch)", Figure: "Cloak.Store 100 memblob", Value: fmtDur(memS.Med), Spread: memS.SpreadString()},
		Row{Figure: "Cloak.Store 100 fsblob (durable)", Value: fmtDur(fsS.Med), Spread: fsS.SpreadString(), Baseline: "memblob " + fmtDur(memS.Med), Ratio: ratio.RatioString(), Of: "fs / mem"},
	)
	r.MD["cloak"] = md([]string{"Store", "Time per batch of 100 (median)", "Spread", "Allocs per batch", "Against the Python original (36–47 ms, no fsync)"}, [][]string{
		{"memblob", bold(fmtDur(memS.Med)), memS.SpreadString(), fmtInt(memA.Med), pythonCompare(memS.Med)},
		{"fsblob, durable", bold(fmtDur(fsS.Med)), fsS.SpreadString(), fmtInt(fsA.Med), pythonCompare(fsS.Med)},
	})
	r.F["cloak_fs_mem"] = ratio.RatioString()

	vault := key(pkgCloak, "BenchmarkCloakOverhead/path=vault")
	cloak := key(pkgCloak, "BenchmarkCloakOverhead/path=cloak")
	vS, cS := f.stat(vault, "ns/op"), f.stat(cloak, "ns/op")
	vA, cA := f.stat(vault, "allocs/op"), f.stat(cloak, "allocs/op")
	over := f.ratio(cloak, vault, "ns/op")
	r.Rows = append(r.Rows,
		Row{Section: "The Cloak's layer at rest: 100 x 1 KiB in one batch on memblob, Window 0 (default, released at once) and Cover 0", Figure: "Vault.StoreAll", Value: fmtDur(vS.Med), Spread: vS.SpreadString()},
		Row{Figure: "Cloak.Store through the layer", Value: fmtDur(cS.Med), Spread: cS.SpreadString(), Baseline: "Vault.StoreAll " + fmtDur(vS.Med), Ratio: over.RatioString(), Of: "cloak / vault (target <= 1.2x)"},
	)
	r.MD["cloak_overhead"] = md([]string{"Path", "Time per batch of 100 (median)", "Spread", "Allocs per batch"}, [][]string{
		{"`path=vault`: `Vault.StoreAll` on `memblob`", fmtDur(vS.Med), vS.SpreadString(), fmtInt(vA.Med)},
		{"`path=cloak`: `Cloak.Store` through the layer over `memblob`", fmtDur(cS.Med), cS.SpreadString(), fmtInt(cA.Med)},
	})
	r.F["cloak_overhead"] = over.RatioString()
}

// pythonCompare states a batch time against the Python original's 36–47 ms.
func pythonCompare(ns float64) string {
	if ns <= 0 {
		return "—"
	}
	lo, hi := 36e6/ns, 47e6/ns
	if lo >= 1 {
		return fmt.Sprintf("%s–%s× faster", fmtRatio(lo), fmtRatio(hi))
	}
	return fmt.Sprintf("%s–%s× the time", fmtRatio(ns/47e6), fmtRatio(ns/36e6))
}

// tokenSteps are the privacypass sub-benchmarks, per token type.
var tokenSteps = []struct{ sub, label string }{
	{"ClientBlind", "client blind"},
	{"IssuerIssue", "issuer sign / evaluate, one token"},
	{"IssuerIssueBatch32", "issuer, batch of 32"},
	{"ClientFinalize", "client finalize"},
	{"OriginVerify", "origin verify"},
}

func (r *Report) tokens(f *fig) {
	var rows [][]string
	for i, st := range tokenSteps {
		rsa := key(pkgPP, "BenchmarkPrivacyPass/Type2BlindRSA/"+st.sub)
		voprf := key(pkgPP, "BenchmarkPrivacyPass/Type1VOPRF/"+st.sub)
		rsaS, voprfS := f.stat(rsa, "ns/op"), f.stat(voprf, "ns/op")
		ratio := f.ratio(voprf, rsa, "ns/op")
		sec := ""
		if i == 0 {
			sec = "Privacy Pass tokens, per step and type (time per operation)"
		}
		r.Rows = append(r.Rows,
			Row{Section: sec, Figure: "type 0x0002 blind RSA: " + st.label, Value: fmtDur(rsaS.Med), Spread: rsaS.SpreadString()},
			Row{Figure: "type 0x0001 VOPRF: " + st.label, Value: fmtDur(voprfS.Med), Spread: voprfS.SpreadString(), Baseline: "blind RSA " + fmtDur(rsaS.Med), Ratio: ratio.RatioString(), Of: "VOPRF / blind RSA"},
		)
		rows = append(rows, []string{st.label, fmtDur(rsaS.Med) + " " + rsaS.SpreadString(), fmtDur(voprfS.Med) + " " + voprfS.SpreadString(), ratio.RatioString()})
	}
	r.MD["tokens"] = md([]string{"Step", "Type 0x0002 blind RSA 2048", "Type 0x0001 VOPRF P-384", "VOPRF / blind RSA"}, rows)

	issue, check := f.stat(key(pkgHMAC, "BenchmarkIssue"), "ns/op"), f.stat(key(pkgHMAC, "BenchmarkCheck"), "ns/op")
	memK, fileK := key(pkgMemLed, "BenchmarkMarkSpent"), key(pkgFileLed, "BenchmarkMarkSpent")
	memL, fileL := f.stat(memK, "ns/op"), f.stat(fileK, "ns/op")
	led := f.ratio(fileK, memK, "ns/op")
	r.Rows = append(r.Rows,
		Row{Figure: "HMAC token issue (crypto/hmactoken)", Value: fmtDur(issue.Med), Spread: issue.SpreadString()},
		Row{Figure: "HMAC token check", Value: fmtDur(check.Med), Spread: check.SpreadString()},
		Row{Figure: "mark a nonce spent, memledger", Value: fmtDur(memL.Med), Spread: memL.SpreadString()},
		Row{Figure: "mark a nonce spent, fileledger (fsync)", Value: fmtDur(fileL.Med), Spread: fileL.SpreadString(), Baseline: "memledger " + fmtDur(memL.Med), Ratio: led.RatioString(), Of: "file / mem"},
	)
	r.MD["tokens_other"] = md([]string{"Operation", "Time (median)", "Spread"}, [][]string{
		{"HMAC token issue (`crypto/hmactoken`)", fmtDur(issue.Med), issue.SpreadString()},
		{"HMAC token check", fmtDur(check.Med), check.SpreadString()},
		{"Mark a nonce spent, `memledger`", fmtDur(memL.Med), memL.SpreadString()},
		{"Mark a nonce spent, `fileledger` (an `fsync` per mark)", fmtDur(fileL.Med), fileL.SpreadString()},
	})
	r.F["verify_rsa"] = fmtDur(f.stat(key(pkgPP, "BenchmarkPrivacyPass/Type2BlindRSA/OriginVerify"), "ns/op").Med)
}

// tokenTypes are the token types of the issuance benchmarks: the number in
// their names (type=N) and a label.
var tokenTypes = []struct{ num, label string }{
	{"2", "type 0x0002 blind RSA 2048"},
	{"1", "type 0x0001 VOPRF P-384"},
	{"5", "type 0x0005 VOPRF ristretto255"},
}

// issuance reads the per-token cost of issuance (BenchmarkIssue,
// BenchmarkIssueParallel, BenchmarkFinalize: batches of 64), of verification
// (BenchmarkVerify) and the end-to-end fetch rate over HTTP
// (BenchmarkTokensFetch), for each type, with type 5 against type 2.
func (r *Report) issuance(f *fig) {
	const batch = "/batch=64"
	var rows [][]string
	for i, tt := range tokenTypes {
		iss := key(pkgPP, "BenchmarkIssue/type="+tt.num+batch)
		par := key(pkgPP, "BenchmarkIssueParallel/type="+tt.num+batch)
		fin := key(pkgPP, "BenchmarkFinalize/type="+tt.num+batch)
		ver := key(pkgPP, "BenchmarkVerify/type="+tt.num)
		fetch := key(pkgAegisd, "BenchmarkTokensFetch/type="+tt.num)
		issS, parS, finS, verS := f.stat(iss, "ns/token"), f.stat(par, "ns/token"), f.stat(fin, "ns/token"), f.stat(ver, "ns/token")
		fetchS := f.stat(fetch, "tokens/s")
		sec := ""
		if i == 0 {
			sec = "Privacy Pass issuance per token (batches of 64) and verification, per type"
		}
		r.Rows = append(r.Rows,
			Row{Section: sec, Figure: tt.label + ": issue, per token", Value: fmtDur(issS.Med), Spread: issS.SpreadString()},
			Row{Figure: tt.label + ": verify", Value: fmtDur(verS.Med), Spread: verS.SpreadString()},
			Row{Figure: tt.label + ": tokens fetch over HTTP", Value: fmtNum(fetchS.Med) + " tokens/s", Spread: fetchS.SpreadString()},
		)
		rows = append(rows, []string{tt.label, fmtDur(issS.Med) + " " + issS.SpreadString(), fmtDur(parS.Med) + " " + parS.SpreadString(),
			fmtDur(finS.Med) + " " + finS.SpreadString(), fmtDur(verS.Med) + " " + verS.SpreadString(), fmtNum(fetchS.Med) + " " + fetchS.SpreadString()})
	}
	r.MD["issuance"] = md([]string{"Type", "Issue, per token (1 core)", "Issue, per token (a batch per core)", "Client finalize, per token", "Origin verify", "`aegis tokens fetch` path, tokens/s"}, rows)

	iss5, iss2 := key(pkgPP, "BenchmarkIssue/type=5"+batch), key(pkgPP, "BenchmarkIssue/type=2"+batch)
	f5, f2 := key(pkgAegisd, "BenchmarkTokensFetch/type=5"), key(pkgAegisd, "BenchmarkTokensFetch/type=2")
	issR, fetchR := f.ratio(iss5, iss2, "ns/token"), f.ratio(f5, f2, "tokens/s")
	ver5 := f.stat(key(pkgPP, "BenchmarkVerify/type=5"), "ns/token")
	r.Rows = append(r.Rows,
		Row{Figure: "type 5 issue / type 2 sign, per token (goal ≤ 0.05)", Value: fmtRatio(issR.Med), Baseline: "type 2", Ratio: issR.RatioString(), Of: "type 5 / type 2"},
		Row{Figure: "tokens fetch rate, type 5 / type 2 (goal ≥ 8)", Value: fmtRatio(fetchR.Med), Baseline: "type 2", Ratio: fetchR.RatioString(), Of: "type 5 / type 2"},
	)
	r.F["issue_ratio_5_2"] = issR.RatioString()
	r.F["fetch_ratio_5_2"] = fetchR.RatioString()
	r.F["verify_5"] = fmtDur(ver5.Med)
	if issR.N > 0 {
		r.F["issue_ratio_5_2_inv"] = fmtRatio(1 / issR.Med)
	}
}

func (r *Report) aegisd(f *fig) {
	var rows [][]string
	first := true
	for _, op := range []string{"Put", "Get"} {
		for _, sz := range []string{"1KiB", "64KiB"} {
			a := key(pkgAegisd, "Benchmark"+op+"/size="+sz+"/server=aegisd")
			b := key(pkgAegisd, "Benchmark"+op+"/size="+sz+"/server=bare")
			rl := key(pkgAegisd, "Benchmark"+op+"/size="+sz+"/server=relay")
			aS, bS, rS := f.stat(a, "ns/op"), f.stat(b, "ns/op"), f.stat(rl, "ns/op")
			aR, bR, rR := f.stat(a, "req/s"), f.stat(b, "req/s"), f.stat(rl, "req/s")
			aB, bB, rB := f.stat(a, "B/op"), f.stat(b, "B/op"), f.stat(rl, "B/op")
			aA, bA, rA := f.stat(a, "allocs/op"), f.stat(b, "allocs/op"), f.stat(rl, "allocs/op")
			ratio := f.ratio(a, b, "ns/op")
			relayRatio := f.ratio(rl, a, "ns/op") // per round: the relay's cost over the direct request
			sec := ""
			if first {
				sec, first = "aegisd PUT/GET with a token each, against a bare Echo handler and through aegis-relay (Oblivious HTTP; one client, loopback)", false
			}
			name := strings.ToUpper(op) + " " + sz
			r.Rows = append(r.Rows,
				Row{Section: sec, Figure: name + " aegisd", Value: fmt.Sprintf("%s (%s req/s)", fmtDur(aS.Med), fmtNum(aR.Med)), Spread: aS.SpreadString(),
					Baseline: fmt.Sprintf("bare %s (%s req/s)", fmtDur(bS.Med), fmtNum(bR.Med)), Ratio: ratio.RatioString(), Of: "aegisd / bare"},
				Row{Figure: name + " through the relay", Value: fmt.Sprintf("%s (%s req/s)", fmtDur(rS.Med), fmtNum(rR.Med)), Spread: rS.SpreadString(),
					Baseline: fmt.Sprintf("aegisd %s (%s req/s)", fmtDur(aS.Med), fmtNum(aR.Med)), Ratio: relayRatio.RatioString(), Of: "relay / aegisd"},
			)
			rows = append(rows, []string{spaced(name), fmtDur(aS.Med), fmtDur(bS.Med), bold(ratio.RatioString()), fmtDur(rS.Med), bold(relayRatio.RatioString()),
				fmtNum(aR.Med), fmtNum(bR.Med), fmtNum(rR.Med),
				fmt.Sprintf("%s, %s", fmtInt(aB.Med), fmtInt(aA.Med)), fmt.Sprintf("%s, %s", fmtInt(bB.Med), fmtInt(bA.Med)), fmt.Sprintf("%s, %s", fmtInt(rB.Med), fmtInt(rA.Med))})
			if op == "Put" && sz == "1KiB" {
				r.F["relay_put1k_ratio"] = relayRatio.RatioString()
				r.F["relay_put1k_goal"] = relayGoal(relayRatio)
			}
		}
	}
	put1a, put1b := key(pkgAegisd, "BenchmarkPut/size=1KiB/server=aegisd"), key(pkgAegisd, "BenchmarkPut/size=1KiB/server=bare")
	r.F["aegisd_put1k_extra"] = fmtDur(f.stat(put1a, "ns/op").Med - f.stat(put1b, "ns/op").Med)
	put64a, put64b := key(pkgAegisd, "BenchmarkPut/size=64KiB/server=aegisd"), key(pkgAegisd, "BenchmarkPut/size=64KiB/server=bare")
	r.F["aegisd_put64k_bytes"] = fmtRatio(f.stat(put64a, "B/op").Med/max(f.stat(put64b, "B/op").Med, 1)) + "×"
	r.MD["aegisd"] = md([]string{"Request", "aegisd per request", "bare per request", "aegisd / bare", "relay per request", "**relay / aegisd**",
		"aegisd req/s", "bare req/s", "relay req/s", "aegisd B/op, allocs", "bare B/op, allocs", "relay B/op, allocs"}, rows)

	iss := key(pkgAegisd, "BenchmarkTokenIssuance/batch=64")
	batch, perTok, rate := f.stat(iss, "ns/op"), f.stat(iss, "ns/token"), f.stat(iss, "tokens/s")
	r.Rows = append(r.Rows, Row{Figure: "token issuance over HTTP, batch of 64", Value: fmt.Sprintf("%s per batch, %s per token (%s tokens/s)", fmtDur(batch.Med), fmtDur(perTok.Med), fmtNum(rate.Med)), Spread: batch.SpreadString()})
	r.F["issuance_batch"] = fmtDur(batch.Med)
	r.F["issuance_token"] = fmtDur(perTok.Med)
	r.F["issuance_rate"] = fmtNum(rate.Med)
}

// relayGoalMax is the project's goal: a 1 KiB PUT through the relay takes at
// most twice the time of a direct one.
const relayGoalMax = 2.0

// relayGoal says whether the per-round ratios relay / aegisd meet the goal.
func relayGoal(s Stat) string {
	switch {
	case s.N == 0:
		return "not measured in this run"
	case s.Max <= relayGoalMax:
		return "met in every round"
	case s.Med <= relayGoalMax:
		return "met by the median but not in every round"
	}
	return "not met"
}

func (r *Report) changePassphrase(f *fig) {
	small := key(pkgBench, "BenchmarkChangePassphrase/vault=1MiB")
	large := key(pkgBench, "BenchmarkChangePassphrase/vault=100MiB")
	def := key(pkgBench, "BenchmarkChangePassphraseDefaultKDF/vault=1MiB")
	sS, lS, dS := f.stat(small, "ns/op"), f.stat(large, "ns/op"), f.stat(def, "ns/op")
	sM, lM, dM := f.stat(small, "stored-MiB"), f.stat(large, "stored-MiB"), f.stat(def, "stored-MiB")
	ratio := f.ratio(large, small, "ns/op")
	r.Rows = append(r.Rows,
		Row{Section: "ChangePassphrase, 10 categories on fsblob (time per change)", Figure: "ChangePassphrase 1 MiB vault", Value: fmtDur(sS.Med), Spread: sS.SpreadString()},
		Row{Figure: "ChangePassphrase 100 MiB vault", Value: fmtDur(lS.Med), Spread: lS.SpreadString(), Baseline: "1 MiB " + fmtDur(sS.Med), Ratio: ratio.RatioString(), Of: "100 MiB / 1 MiB"},
		Row{Figure: "ChangePassphrase 1 MiB, default KDF (PBKDF2 600k)", Value: fmtDur(dS.Med), Spread: dS.SpreadString()},
	)
	r.MD["changepass"] = md([]string{"Vault (10 categories, on fsblob)", "Stored", "Time per change (median)", "Spread"}, [][]string{
		{"1 MiB of data", fmtNum(sM.Med) + " MiB", fmtDur(sS.Med), sS.SpreadString()},
		{"100 MiB of data", fmtNum(lM.Med) + " MiB", fmtDur(lS.Med), lS.SpreadString()},
		{"1 MiB of data, default KDF (PBKDF2, 600,000 iterations)", fmtNum(dM.Med) + " MiB", fmtDur(dS.Med), dS.SpreadString()},
	})
	r.F["changepass_ratio"] = ratio.RatioString()
	r.F["changepass_data_ratio"] = fmtRatio(lM.Med/max(sM.Med, 1e-9)) + "×"
}

// WriteTable prints the report as one table, columns aligned; a section's
// title is a line of its own above its rows.
func (r *Report) WriteTable(w io.Writer) error {
	header := []string{"FIGURE", "MEDIAN", "SPREAD", "BASELINE (MEDIAN)", "RATIO PER ROUND: MEDIAN (MIN–MAX)", "RATIO OF"}
	cells := [][]string{header}
	for _, row := range r.Rows {
		cells = append(cells, []string{"  " + row.Figure, row.Value, row.Spread, dash(row.Baseline), dash(row.Ratio), row.Of})
	}
	width := make([]int, len(header))
	for _, c := range cells {
		for i, s := range c {
			width[i] = max(width[i], utf8.RuneCountInString(s))
		}
	}
	var b strings.Builder
	line := func(c []string) {
		var l strings.Builder
		for i, s := range c {
			l.WriteString(s)
			if i < len(c)-1 {
				l.WriteString(strings.Repeat(" ", width[i]-utf8.RuneCountInString(s)+2))
			}
		}
		b.WriteString(strings.TrimRight(l.String(), " ") + "\n")
	}
	line(header)
	for i, row := range r.Rows {
		if row.Section != "" {
			b.WriteString("— " + row.Section + "\n")
		}
		line(cells[i+1])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
