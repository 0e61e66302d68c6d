// Command benchtable turns the raw output of `make bench` (go test -bench
// output of several packages, repeated in rounds) into one table on standard
// output and, with -doc, into docs/performance.md.
//
//	benchtable -results benchmarks/results-latest.txt [-load benchmarks/load-latest.json] [-doc docs/performance.md]
//
// Every figure is the median of its runs, with the spread (the largest
// distance of a run from the median, in percent). A comparison is the median
// of per-round ratios: the k-th run of one benchmark divided by the k-th run
// of its baseline, which scripts/bench.sh runs in the same round, close in
// time. The document is generated whole from performance.md.tmpl (prose and
// tables), so after a run it states that run's figures, command, Go version,
// CPU and date. It is written atomically: a failed run leaves the old one.
//
// Exit status: 0 on success, 1 when the results lack a benchmark the table
// needs or a file cannot be read or written, 2 on bad flags.
package main

import (
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/template"
)

//go:embed performance.md.tmpl
var docTemplate string

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("benchtable", flag.ContinueOnError)
	fl.SetOutput(stderr)
	results := fl.String("results", "", "raw benchmark output to read (required)")
	load := fl.String("load", "", "JSON result of scripts/load.sh to include (optional; a missing file is reported in the document)")
	doc := fl.String("doc", "", "Markdown file to write (optional)")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if *results == "" || fl.NArg() != 0 {
		fmt.Fprintln(stderr, "benchtable: usage: benchtable -results FILE [-load FILE] [-doc FILE]")
		return 2
	}
	if err := generate(*results, *load, *doc, stdout); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

func generate(resultsPath, loadPath, docPath string, stdout io.Writer) error {
	f, err := os.Open(resultsPath)
	if err != nil {
		return fmt.Errorf("benchtable: %w", err)
	}
	res, err := Parse(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("benchtable: %s: %w", resultsPath, err)
	}
	rep := Build(res)
	if len(rep.Missing) > 0 {
		return fmt.Errorf("benchtable: %s lacks %d benchmark figures the table needs (run `make bench`):\n  %s",
			resultsPath, len(rep.Missing), strings.Join(rep.Missing, "\n  "))
	}
	var lf *LoadFile
	if loadPath != "" {
		lf, err = readLoad(loadPath)
		if err != nil {
			return err
		}
	}
	if err := rep.WriteTable(stdout); err != nil {
		return fmt.Errorf("benchtable: %w", err)
	}
	if docPath == "" {
		return nil
	}
	var b strings.Builder
	if err := renderDoc(&b, res, rep, lf); err != nil {
		return err
	}
	if err := writeAtomic(docPath, []byte(b.String())); err != nil {
		return fmt.Errorf("benchtable: %w", err)
	}
	fmt.Fprintf(stdout, "\nbenchtable: wrote %s\n", docPath)
	return nil
}

// LoadFile is what scripts/load.sh records: how it ran aegis-load and what
// aegis-load reported (its --json output).
type LoadFile struct {
	Command string     `json:"command"`
	Aegisd  string     `json:"aegisd"`
	CPU     string     `json:"cpu"`
	Nproc   int        `json:"nproc"`
	Result  LoadResult `json:"result"`
	// Relay is how scripts/load.sh ran aegis-relay, and RelayResult the
	// second aegis-load of the same invocation, through it (LOAD_RELAY=1);
	// both are absent from a direct-only run.
	Relay       string      `json:"relay,omitempty"`
	RelayResult *LoadResult `json:"relay_result,omitempty"`
}

// RelayShare is the relayed run's requests/s over the direct run's (0
// without a relayed run).
func (lf *LoadFile) RelayShare() float64 {
	if lf.RelayResult == nil || lf.Result.RequestsPerS <= 0 {
		return 0
	}
	return lf.RelayResult.RequestsPerS / lf.Result.RequestsPerS
}

// LoadResult mirrors the JSON output of apps/cmd/aegis-load. A result
// recorded before aegis-load fetched its tokens during the run has no token
// type (TokenType 0) and no issuance figures.
type LoadResult struct {
	Server          string  `json:"server"`
	Relay           bool    `json:"relay"`
	Clients         int     `json:"clients"`
	DurationS       float64 `json:"duration_s"`
	PutRatio        float64 `json:"put_ratio"`
	Size            int     `json:"size"`
	TokenType       uint16  `json:"token_type"`
	TokenTypeName   string  `json:"token_type_name"`
	TokensBatch     int     `json:"tokens_batch"`
	FetchRoundTrips int64   `json:"fetch_round_trips"`
	TokensFetched   int64   `json:"tokens_fetched"`
	FetchSeconds    float64 `json:"fetch_seconds"`
	FetchShare      float64 `json:"fetch_share"`
	WaitSeconds     float64 `json:"wait_seconds"`
	WaitShare       float64 `json:"wait_share"`
	Requests        int64   `json:"requests"`
	Puts            int64   `json:"puts"`
	Gets            int64   `json:"gets"`
	Errors          int64   `json:"errors"`
	ElapsedS        float64 `json:"elapsed_s"`
	RequestsPerS    float64 `json:"requests_per_s"`
	Latency         Latency `json:"latency_ms"`
	PutLatency      Latency `json:"put_latency_ms"`
	GetLatency      Latency `json:"get_latency_ms"`
	Go              string  `json:"go"`
	GOMAXPROCS      int     `json:"gomaxprocs"`
	NumCPU          int     `json:"num_cpu"`
	Started         string  `json:"started"`
}

// Latency holds percentiles in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
}

// readLoad reads the load result; a missing file is not an error (the
// document then says how to produce it).
func readLoad(path string) (*LoadFile, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("benchtable: %w", err)
	}
	var lf LoadFile
	if err := json.Unmarshal(b, &lf); err != nil {
		return nil, fmt.Errorf("benchtable: %s: not a load result: %w", path, err)
	}
	if lf.Result.Requests <= 0 || lf.Result.Clients <= 0 {
		return nil, fmt.Errorf("benchtable: %s: not a load result: no requests or no clients", path)
	}
	return &lf, nil
}

// docData is what performance.md.tmpl sees.
type docData struct {
	Env      map[string]string
	Go       string
	CPU      string
	Commands []string
	R        *Report
	Load     *LoadFile
}

func renderDoc(w io.Writer, res *Results, rep *Report, lf *LoadFile) error {
	d := docData{Env: res.Env, Go: res.Env["go"], CPU: res.Env["cpu-model"], Commands: res.Commands, R: rep, Load: lf}
	if d.Go == "" {
		d.Go = runtime.Version()
	}
	if d.CPU == "" {
		d.CPU = res.Env["cpu"]
	}
	funcs := template.FuncMap{
		"num":   fmtNum,
		"ratio": fmtRatio,
		"pct":   func(v float64) float64 { return v * 100 },
		"env": func(k string) string {
			if v := res.Env[k]; v != "" {
				return v
			}
			return "(not recorded)"
		},
	}
	t, err := template.New("performance.md").Funcs(funcs).Option("missingkey=error").Parse(docTemplate)
	if err != nil {
		return fmt.Errorf("benchtable: template: %w", err)
	}
	if err := t.Execute(w, d); err != nil {
		return fmt.Errorf("benchtable: template: %w", err)
	}
	return nil
}

// writeAtomic replaces path with data: a temporary file in the same
// directory, synced, then renamed over it.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".benchtable-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
