//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package fileledger_test

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/adapters/fileledger"
)

func TestFileledger(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "fileledger")
}

// The cross-process spec re-executes this test binary as a helper process.
const (
	helperEnv = "AEGIS_FILELEDGER_HELPER" // "mark"
	dirEnv    = "AEGIS_FILELEDGER_DIR"
	countEnv  = "AEGIS_FILELEDGER_COUNT"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "mark" {
		if err := runMarkHelper(); err != nil {
			fmt.Fprintf(os.Stderr, "fileledger test helper: %v\n", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runMarkHelper says "ready", waits for a line on stdin, marks the nonces
// 0..COUNT-1 (as 32-byte big-endian counters) and prints how many it found fresh.
func runMarkHelper() error {
	l, err := fileledger.Open(os.Getenv(dirEnv), nil)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(os.Getenv(countEnv))
	if err != nil {
		return err
	}
	fmt.Println("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return err
	}
	fresh := 0
	for i := range n {
		spent, err := l.MarkSpent(context.Background(), "c0ffee", counterNonce(i))
		if err != nil {
			return err
		}
		if !spent {
			fresh++
		}
	}
	fmt.Printf("fresh %d\n", fresh)
	return nil
}

func counterNonce(i int) []byte {
	b := make([]byte, 32)
	s := fmt.Sprintf("%064x", i)
	if _, err := hex.Decode(b, []byte(s)); err != nil {
		panic(err)
	}
	return b
}
