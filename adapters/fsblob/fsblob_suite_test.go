//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package fsblob_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/adapters/fsblob"
	"github.com/ai-pantheon/aegis/domain"
)

func TestFsblob(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "fsblob")
}

// The cross-process specs re-execute this test binary as a helper process. These
// environment variables tell TestMain to act as the helper instead of running tests.
const (
	helperEnv = "AEGIS_FSBLOB_HELPER" // "lock", "increment" or "get"
	dirEnv    = "AEGIS_FSBLOB_DIR"    // the store directory
	holdEnv   = "AEGIS_FSBLOB_HOLD"   // lock: how long to hold the lock (time.ParseDuration)
	idEnv     = "AEGIS_FSBLOB_ID"     // increment: the counter object's id; get: the object's id
	countEnv  = "AEGIS_FSBLOB_COUNT"  // increment: how many increments
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		if err := runHelper(mode); err != nil {
			fmt.Fprintf(os.Stderr, "fsblob test helper %s: %v\n", mode, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func runHelper(mode string) error {
	store, err := fsblob.Open(os.Getenv(dirEnv), nil)
	if err != nil {
		return err
	}
	ctx := context.Background()
	switch mode {
	case "lock":
		// Take the writer lock, say "locked", hold it, release it, say "unlocked".
		hold, err := time.ParseDuration(os.Getenv(holdEnv))
		if err != nil {
			return err
		}
		unlock, err := store.Lock(ctx)
		if err != nil {
			return err
		}
		fmt.Println("locked")
		time.Sleep(hold)
		if err := unlock(); err != nil {
			return err
		}
		fmt.Println("unlocked")
		return nil

	case "increment":
		// Say "ready", wait for a line on stdin, then increment the decimal counter
		// in the object COUNT times with read-modify-CompareAndSwap, retrying
		// conflicts.
		id, err := domain.ParseObjectID(os.Getenv(idEnv))
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(os.Getenv(countEnv))
		if err != nil {
			return err
		}
		fmt.Println("ready")
		if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
			return fmt.Errorf("waiting for the start signal: %w", err)
		}
		conflicts := 0
		for range n {
			for {
				data, v, err := store.GetVersioned(ctx, id)
				if err != nil {
					return err
				}
				count, err := strconv.Atoi(string(data))
				if err != nil {
					return err
				}
				_, err = store.CompareAndSwap(ctx, id, v, []byte(strconv.Itoa(count+1)))
				if errors.Is(err, domain.ErrConflict) {
					conflicts++
					continue
				}
				if err != nil {
					return err
				}
				break
			}
		}
		fmt.Printf("done after %d conflicts\n", conflicts)
		return nil

	case "get":
		// Get the object and print what came of it as one getResult in JSON.
		id, err := domain.ParseObjectID(os.Getenv(idEnv))
		if err != nil {
			return err
		}
		r := getResult{UID: os.Geteuid()}
		if _, err := store.Get(ctx, id); err != nil {
			r.Err = err.Error()
			r.Permission = errors.Is(err, fs.ErrPermission)
			r.NotFound = errors.Is(err, domain.ErrNotFound)
		}
		return json.NewEncoder(os.Stdout).Encode(r)
	}
	return fmt.Errorf("unknown mode %q", mode)
}

// getResult is what the "get" helper reports of its Get.
type getResult struct {
	UID        int    // the helper's effective user id
	Err        string // Get's error, "" if none
	Permission bool   // errors.Is(err, fs.ErrPermission)
	NotFound   bool   // errors.Is(err, domain.ErrNotFound)
}
