package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Stat summarises repeated measurements of one figure: the median and the
// range, over N runs (or N rounds, for a ratio).
type Stat struct {
	Med, Min, Max float64
	N             int
}

// summarize returns the median and the range of vs (which must not be empty).
func summarize(vs []float64) Stat {
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return Stat{Med: med, Min: s[0], Max: s[n-1], N: n}
}

// Spread is the largest distance of a run from the median, in percent of the
// median.
func (s Stat) Spread() float64 {
	if s.Med == 0 {
		return 0
	}
	return math.Max(s.Max-s.Med, s.Med-s.Min) / math.Abs(s.Med) * 100
}

// SpreadString renders Spread as "±3%" (one decimal below 10 %).
func (s Stat) SpreadString() string {
	if s.N < 2 {
		return "(1 run)"
	}
	p := s.Spread()
	if p < 10 {
		return fmt.Sprintf("±%.1f%%", p)
	}
	return fmt.Sprintf("±%.0f%%", p)
}

// fig is a set of parsed results with the keys of the benchmarks the table
// needs; a figure that is absent is recorded as missing (and reads as zero),
// so that one run reports every missing benchmark at once.
type fig struct {
	res     *Results
	missing []string
}

func (f *fig) need(key, unit string) []float64 {
	runs := f.res.Runs[key]
	var vs []float64
	for _, r := range runs {
		if v, ok := r.Metrics[unit]; ok {
			vs = append(vs, v)
		}
	}
	if m := fmt.Sprintf("%s (%s)", key, unit); len(vs) == 0 && !slices.Contains(f.missing, m) {
		f.missing = append(f.missing, m)
	}
	return vs
}

// stat summarises unit of benchmark key over its runs.
func (f *fig) stat(key, unit string) Stat {
	vs := f.need(key, unit)
	if len(vs) == 0 {
		return Stat{}
	}
	return summarize(vs)
}

// ratio summarises unit(a)/unit(b) per round: the k-th run of a against the
// k-th run of b, which bench.sh makes run close together in time (one round
// runs every benchmark once). Per-round ratios cancel most of the drift of a
// shared machine that would distort a ratio of two medians.
func (f *fig) ratio(a, b, unit string) Stat {
	va, vb := f.need(a, unit), f.need(b, unit)
	n := min(len(va), len(vb))
	if n == 0 {
		return Stat{}
	}
	rs := make([]float64, 0, n)
	for k := range n {
		if vb[k] != 0 {
			rs = append(rs, va[k]/vb[k])
		}
	}
	if len(rs) == 0 {
		return Stat{}
	}
	return summarize(rs)
}

// RatioString renders a ratio as "1.59× (1.55–1.62)".
func (s Stat) RatioString() string {
	if s.N == 0 {
		return "—"
	}
	if s.N < 2 || s.Min == s.Max {
		return fmtRatio(s.Med) + "×"
	}
	return fmt.Sprintf("%s× (%s–%s)", fmtRatio(s.Med), fmtRatio(s.Min), fmtRatio(s.Max))
}

func fmtRatio(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// fmtNum renders v with three significant digits and thousands separators:
// 0.0123, 1.23, 12.3, 123, 1,234, 127,000.
func fmtNum(v float64) string {
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0"
	case a < 1:
		return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3g", v), "0"), ".")
	case a < 10:
		return fmt.Sprintf("%.2f", v)
	case a < 100:
		return fmt.Sprintf("%.1f", v)
	case a < 1000:
		return fmt.Sprintf("%.0f", v)
	}
	// Three significant digits, then separators.
	p := math.Pow(10, math.Floor(math.Log10(a))-2)
	return thousands(int64(math.Round(v/p) * p))
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// fmtDur renders nanoseconds in the unit that suits them: 355 ns, 94.8 µs,
// 1.87 ms, 1.20 s.
func fmtDur(ns float64) string {
	switch a := math.Abs(ns); {
	case a >= 1e9:
		return fmtNum(ns/1e9) + " s"
	case a >= 1e6:
		return fmtNum(ns/1e6) + " ms"
	case a >= 1e3:
		return fmtNum(ns/1e3) + " µs"
	default:
		return fmtNum(ns) + " ns"
	}
}

// fmtInt renders a count: 0, 70, 1,148.
func fmtInt(v float64) string { return thousands(int64(math.Round(v))) }
