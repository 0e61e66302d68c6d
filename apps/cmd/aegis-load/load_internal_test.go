package main

import (
	"time"

	g "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = g.Describe("percentiles", func() {
	g.It("takes the nearest rank of the sorted latencies", func() {
		ds := make([]time.Duration, 0, 1000)
		for i := 1000; i >= 1; i-- { // unsorted on purpose
			ds = append(ds, time.Duration(i)*time.Millisecond)
		}
		l := percentiles(ds)
		Expect(l.P50).To(Equal(500.0))
		Expect(l.P99).To(Equal(990.0))
		Expect(l.P999).To(Equal(999.0))
		Expect(l.Max).To(Equal(1000.0))
		Expect(ds[0]).To(Equal(1000*time.Millisecond), "the caller's slice is not reordered")
	})

	g.It("reports zeros for no requests and the one value for one", func() {
		Expect(percentiles(nil)).To(Equal(Latency{}))
		Expect(percentiles([]time.Duration{3 * time.Millisecond})).To(Equal(Latency{P50: 3, P99: 3, P999: 3, Max: 3}))
	})
})

var _ = g.DescribeTable("parseSize accepts the bucket sizes only",
	func(in string, want int, ok bool) {
		got, err := parseSize(in)
		if !ok {
			Expect(err).To(MatchError(ContainSubstring("--size must be a bucket size")))
			return
		}
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(Equal(want))
	},
	g.Entry(nil, "1KiB", 1024, true),
	g.Entry(nil, "4096", 4096, true),
	g.Entry(nil, "256KiB", 256*1024, true),
	g.Entry(nil, "1MiB", 1<<20, true),
	g.Entry(nil, "2KiB", 0, false),
	g.Entry(nil, "0", 0, false),
	g.Entry(nil, "-1KiB", 0, false),
	g.Entry(nil, "99999999999MiB", 0, false),
	g.Entry(nil, "1 KiB", 0, false),
	g.Entry(nil, "", 0, false),
)
