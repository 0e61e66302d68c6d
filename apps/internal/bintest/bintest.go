// Package bintest builds and runs the binaries of apps/cmd for their
// end-to-end specs.
package bintest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Build builds the main package pkg (an import path, or "." for the
// package of the calling test) into a new temporary directory and returns
// the binary's path; Remove deletes it.
func Build(pkg, name string) (string, error) {
	dir, err := os.MkdirTemp("", name+"-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, name)
	if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("go build %s: %w: %s", pkg, err, out)
	}
	return bin, nil
}

// Remove deletes a binary Build made, with its directory.
func Remove(bin string) {
	if bin != "" {
		_ = os.RemoveAll(filepath.Dir(bin))
	}
}

// Process is a started binary.
type Process struct {
	Cmd *exec.Cmd
	// Exited is closed when the process has exited; Err is then what Wait
	// returned.
	Exited chan struct{}
	Err    error
}

// Start starts cmd and waits for it in the background.
func Start(cmd *exec.Cmd) (*Process, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Process{Cmd: cmd, Exited: make(chan struct{})}
	go func() { p.Err = cmd.Wait(); close(p.Exited) }()
	return p, nil
}

// Kill kills the process unless it has exited, and waits for its end (a
// spec's cleanup).
func (p *Process) Kill() {
	select {
	case <-p.Exited:
	default:
		_ = p.Cmd.Process.Kill()
		<-p.Exited
	}
}

// Result is one finished run of a binary.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// Cmd is one run of a binary: its arguments, environment (exactly Env),
// working directory and standard input.
type Cmd struct {
	Bin   string
	Args  []string
	Env   []string
	Dir   string
	Stdin []byte
}

// Run runs c to its end, at most timeout, and returns its output and exit
// code. An error means it could not be run or did not end in time.
func (c Cmd) Run(timeout time.Duration) (Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Bin, c.Args...)
	cmd.Env, cmd.Dir = c.Env, c.Dir
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(c.Stdin), &stdout, &stderr
	err := cmd.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return res, fmt.Errorf("%s %q did not end within %v", c.Bin, c.Args, timeout)
	case errors.As(err, &ee):
		res.Code = ee.ExitCode()
	case err != nil:
		return res, err
	}
	return res, nil
}
