package relay

import (
	"fmt"
	"sync/atomic"
)

// The request lines are aegisd's (server.LogRequests, through the privacy
// handler of server.NewLogger): the time truncated to the log window, the
// method, the route pattern ("unmatched" for any other path), the status and
// the size bucket. Nothing about the client is written.

// counts are the requests answered, by status class, for the stop line.
type counts struct{ class [6]atomic.Int64 }

func (n *counts) add(_, _ string, status int) {
	if c := status / 100; c >= 1 && c <= 5 {
		n.class[c].Add(1)
	}
}

// String is "N requests answered (2xx: a, 4xx: b, 5xx: c)".
func (n *counts) String() string {
	var total int64
	for i := range n.class {
		total += n.class[i].Load()
	}
	return fmt.Sprintf("%d requests answered (2xx: %d, 4xx: %d, 5xx: %d)", total, n.class[2].Load(), n.class[4].Load(), n.class[5].Load())
}
