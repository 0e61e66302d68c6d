package main

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// maxLine bounds one line of benchmark output.
const maxLine = 1 << 20

// Results is a parsed file of `go test -bench` output: the environment lines
// and every benchmark measurement, in order.
type Results struct {
	// Env holds the "# key: value" header lines bench.sh writes (go, date,
	// count, command, cpu, ...) and the "cpu:", "goos:", "goarch:" lines of the
	// test output (the first value seen of each wins).
	Env map[string]string
	// Runs maps a benchmark key ("pkg.BenchmarkName/sub", without the
	// -GOMAXPROCS suffix) to its measurements, in file order: the k-th run of
	// a benchmark belongs to round k.
	Runs map[string][]Run
	// Commands are the "# $ command" lines, each once, in order: how the
	// results were produced.
	Commands []string
}

// Run is one result line: the iteration count and every "value unit" pair.
type Run struct {
	N       int64
	Metrics map[string]float64
}

// Parse reads `go test -bench` output (several packages, repeated runs,
// comments) and returns its measurements. Lines that are not benchmark
// results are ignored, except the environment lines; a result line that
// cannot be parsed is an error naming its line number.
func Parse(r io.Reader) (*Results, error) {
	res := &Results{Env: map[string]string{}, Runs: map[string][]Run{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	pkg := ""
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		switch {
		case strings.HasPrefix(text, "# $ "):
			if c := strings.TrimSpace(text[len("# $ "):]); c != "" && !slices.Contains(res.Commands, c) {
				res.Commands = append(res.Commands, c)
			}
		case strings.HasPrefix(text, "# "):
			if k, v, ok := strings.Cut(text[2:], ": "); ok && isEnvKey(k) {
				setOnce(res.Env, k, strings.TrimSpace(v))
			}
		case strings.HasPrefix(text, "pkg: "):
			pkg = strings.TrimSpace(text[len("pkg: "):])
			if !isImportPath(pkg) {
				return nil, fmt.Errorf("benchtable: line %d: pkg %q is not a Go import path", line, pkg)
			}
		case strings.HasPrefix(text, "cpu: "), strings.HasPrefix(text, "goos: "), strings.HasPrefix(text, "goarch: "):
			k, v, _ := strings.Cut(text, ": ")
			setOnce(res.Env, k, strings.TrimSpace(v))
		case strings.HasPrefix(text, "Benchmark"):
			name, run, ok, err := parseResult(text)
			if err != nil {
				return nil, fmt.Errorf("benchtable: line %d: %w", line, err)
			}
			if !ok {
				continue
			}
			key := name
			if pkg != "" {
				key = pkg + "." + name
			}
			res.Runs[key] = append(res.Runs[key], run)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("benchtable: line %d: %w", line+1, err)
	}
	return res, nil
}

// isEnvKey accepts the keys of bench.sh's header lines: one lowercase word,
// dashes allowed.
func isEnvKey(k string) bool {
	if k == "" || len(k) > 32 {
		return false
	}
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c == '-') {
			return false
		}
	}
	return true
}

// isImportPath accepts what `go test` prints after "pkg: ": slash-separated
// elements of letters, digits and "-._~", none empty or starting with "-" or ".".
func isImportPath(p string) bool {
	if p == "" || len(p) > 512 {
		return false
	}
	for _, el := range strings.Split(p, "/") {
		if el == "" || el[0] == '-' || el[0] == '.' {
			return false
		}
		for _, c := range el {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-._~", c)) {
				return false
			}
		}
	}
	return true
}

func setOnce(m map[string]string, k, v string) {
	if _, ok := m[k]; !ok {
		m[k] = v
	}
}

// parseResult parses "BenchmarkName-2  1000  123 ns/op  45.6 MB/s ...". A line
// that starts with "Benchmark" but has no iteration count (the name alone, as
// `go test -v` prints it, or a failure message) is skipped (ok false); a line
// with an iteration count but malformed pairs is an error.
func parseResult(text string) (name string, run Run, ok bool, err error) {
	f := strings.Fields(text)
	if len(f) < 2 {
		return "", Run{}, false, nil
	}
	n, perr := strconv.ParseInt(f[1], 10, 64)
	if perr != nil || n <= 0 {
		return "", Run{}, false, nil
	}
	if len(f)%2 != 0 {
		return "", Run{}, false, fmt.Errorf("benchmark %s: odd number of fields after the iteration count", f[0])
	}
	run = Run{N: n, Metrics: make(map[string]float64, (len(f)-2)/2)}
	for i := 2; i < len(f); i += 2 {
		v, perr := strconv.ParseFloat(f[i], 64)
		if perr != nil {
			return "", Run{}, false, fmt.Errorf("benchmark %s: value %q of %s is not a number", f[0], f[i], f[i+1])
		}
		run.Metrics[f[i+1]] = v
	}
	return trimProcs(f[0]), run, true, nil
}

// trimProcs removes the "-GOMAXPROCS" suffix of a benchmark name.
func trimProcs(name string) string {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return name
	}
	if _, err := strconv.Atoi(name[i+1:]); err != nil {
		return name
	}
	return name[:i]
}
