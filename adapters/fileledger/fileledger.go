//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

// Package fileledger is a durable domain.SpentLedger over a local directory: a
// spent token stays spent across crashes and restarts, and several processes
// may share the directory.
//
// # Layout
//
// Each partition is one append-only file, "<partition>.log" (the partition is
// lowercase hex, so the name is safe), mode 0600 in a directory of mode 0700.
// A file is a sequence of records:
//
//	0xA5 | len (1 byte, 1..255) | nonce (len bytes) | CRC-32C of the preceding bytes (4 bytes, big endian)
//
// # Durability and atomicity
//
// MarkSpent holds an exclusive flock(2) on the partition file while it reads
// the records other processes appended since its last look, checks the nonce,
// appends one record and fsyncs the file; it returns only after the fsync (and,
// for a new file, an fsync of the directory). A crash can therefore leave at
// most one partial record, at the end of a file. The next process to lock the
// file truncates such a torn tail: it is never read as a nonce, because a
// record counts only when it is complete and its CRC matches. Damage anywhere
// else is reported as domain.ErrIntegrity, never skipped.
//
// DropPartition removes the file. A process that still has the old file open
// notices (the path names another file, or none) and starts afresh.
package fileledger

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/ai-pantheon/aegis/adapters/internal/durable"
	"github.com/ai-pantheon/aegis/domain"
)

var _ domain.SpentLedger = (*Ledger)(nil)

// Permissions of everything the ledger creates.
const (
	dirPerm  fs.FileMode = 0o700
	filePerm fs.FileMode = 0o600
)

const (
	logSuffix   = ".log"
	recordMagic = 0xA5
	recordFixed = 2 + 4 // magic, length, CRC
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Options configure Open. The zero value (or a nil *Options) opens an existing
// directory.
type Options struct {
	// Create makes the ledger directory (mode 0700, with missing parents) if it
	// does not exist. Without it, a missing directory is an error wrapping
	// domain.ErrNotFound.
	Create bool
}

// Ledger is a domain.SpentLedger over a directory. It is safe for concurrent
// use; several Ledgers, in one process or many, may share a directory. It holds
// no open files between calls, so it needs no Close.
type Ledger struct {
	dir string // absolute

	mu    sync.Mutex
	parts map[string]*partition
}

// partition is this process's view of one partition file. sem (one slot)
// serialises the goroutines of this process; the flock serialises processes.
type partition struct {
	sem    chan struct{}
	file   os.FileInfo // identity of the file the set was read from; nil: none yet
	offset int64       // bytes of that file already read into set
	set    map[string]struct{}
}

// Open opens the ledger in dir and loads every partition file in it, truncating
// torn tails. A damaged file makes Open fail with an error wrapping
// domain.ErrIntegrity.
func Open(dir string, opts *Options) (*Ledger, error) {
	if opts == nil {
		opts = &Options{}
	}
	abs, err := durable.OpenDir(dir, opts.Create, dirPerm, "ledger")
	if err != nil {
		return nil, fmt.Errorf("aegis/fileledger: %w", err)
	}
	l := &Ledger{dir: abs, parts: make(map[string]*partition)}
	entries, err := os.ReadDir(abs)
	if err != nil {
		return nil, fmt.Errorf("aegis/fileledger: open %s: %w", abs, err)
	}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), logSuffix)
		if !ok || !e.Type().IsRegular() || domain.CheckPartition(name) != nil {
			continue
		}
		if err := l.load(context.Background(), name); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// Dir returns the ledger's absolute directory.
func (l *Ledger) Dir() string { return l.dir }

func (l *Ledger) path(name string) string { return filepath.Join(l.dir, name+logSuffix) }

func (l *Ledger) partition(name string) *partition {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.parts[name]
	if p == nil {
		p = &partition{sem: make(chan struct{}, 1)}
		l.parts[name] = p
	}
	return p
}

// acquire takes the in-process slot of p, honouring ctx.
func acquire(ctx context.Context, p *partition) error {
	select {
	case p.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// load reads the partition file (if any) into this process's view.
func (l *Ledger) load(ctx context.Context, name string) error {
	p := l.partition(name)
	if err := acquire(ctx, p); err != nil {
		return err
	}
	defer func() { <-p.sem }()
	f, err := os.OpenFile(l.path(name), os.O_RDWR|os.O_APPEND, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("aegis/fileledger: load partition %s: %w", name, err)
	}
	defer f.Close()
	if err := flock(ctx, f); err != nil {
		return fmt.Errorf("aegis/fileledger: load partition %s: %w", name, err)
	}
	defer unflock(f)
	if err := l.catchUp(p, f); err != nil {
		return fmt.Errorf("aegis/fileledger: load partition %s: %w", name, err)
	}
	return nil
}

// MarkSpent records nonce as spent in partition and reports whether it already
// was. A nil error with alreadySpent false means the record is on stable storage.
func (l *Ledger) MarkSpent(ctx context.Context, name string, nonce []byte) (alreadySpent bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if err := domain.CheckLedgerArgs(name, nonce); err != nil {
		return false, err
	}
	p := l.partition(name)
	if err := acquire(ctx, p); err != nil {
		return false, err
	}
	defer func() { <-p.sem }()
	defer func() {
		if err != nil {
			err = fmt.Errorf("aegis/fileledger: mark spent in partition %s: %w", name, err)
		}
	}()

	f, err := l.openLocked(ctx, name)
	if err != nil {
		return false, err
	}
	defer func() {
		if uerr := unflock(f); err == nil {
			err = uerr
		}
	}()
	if err := l.catchUp(p, f); err != nil {
		return false, err
	}
	if _, spent := p.set[string(nonce)]; spent {
		return true, nil
	}
	rec := encodeRecord(nonce)
	if _, err := f.Write(rec); err != nil {
		// Leave no partial record behind if we can help it; the next reader
		// truncates it otherwise.
		_ = f.Truncate(p.offset)
		return false, err
	}
	if err := f.Sync(); err != nil {
		return false, err
	}
	p.set[string(nonce)] = struct{}{}
	p.offset += int64(len(rec))
	return false, nil
}

// openLocked opens (creating it if needed) the partition file and takes an
// exclusive flock on it, retrying if the file was removed or replaced between
// the open and the lock (a concurrent DropPartition).
func (l *Ledger) openLocked(ctx context.Context, name string) (*os.File, error) {
	path := l.path(name)
	for {
		created := false
		f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_EXCL, filePerm)
		if err == nil {
			created = true
		} else if errors.Is(err, fs.ErrExist) {
			f, err = os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
		}
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed between the two opens
		}
		if err != nil {
			return nil, err
		}
		if created {
			if err := durable.SyncDir(l.dir); err != nil {
				f.Close()
				return nil, err
			}
		}
		if err := flock(ctx, f); err != nil {
			f.Close()
			return nil, err
		}
		held, err := f.Stat()
		if err != nil {
			unflock(f)
			return nil, err
		}
		cur, err := os.Stat(path)
		if err == nil && os.SameFile(held, cur) {
			return f, nil
		}
		unflock(f)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

// catchUp brings p up to date with the locked file f: it starts afresh if f is
// not the file p was read from (or shrank), reads the records appended since,
// and truncates a torn tail.
func (l *Ledger) catchUp(p *partition, f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if p.file == nil || !os.SameFile(p.file, fi) || fi.Size() < p.offset {
		p.file, p.offset, p.set = fi, 0, make(map[string]struct{})
		// The file's directory entry must be durable before a record in it is
		// acknowledged. Its creator synced the directory, but may have crashed
		// first: sync once per file and process.
		if err := durable.SyncDir(l.dir); err != nil {
			return err
		}
	}
	size := fi.Size()
	if size == p.offset {
		return nil
	}
	buf := make([]byte, size-p.offset)
	if _, err := f.ReadAt(buf, p.offset); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	good, err := decodeRecords(buf, func(nonce []byte) { p.set[string(nonce)] = struct{}{} })
	if err != nil {
		return fmt.Errorf("%s at offset %d: %w", f.Name(), p.offset+int64(good), err)
	}
	p.offset += int64(good)
	if p.offset < size {
		// A torn tail left by a crash mid-append: cut it off so that the next
		// record starts on a record boundary.
		if err := f.Truncate(p.offset); err != nil {
			return err
		}
		if err := f.Sync(); err != nil {
			return err
		}
	}
	return nil
}

// DropPartition removes partition's file and forgets its nonces.
func (l *Ledger) DropPartition(ctx context.Context, name string) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := domain.CheckPartition(name); err != nil {
		return err
	}
	p := l.partition(name)
	if err := acquire(ctx, p); err != nil {
		return err
	}
	defer func() { <-p.sem }()
	defer func() {
		if err != nil {
			err = fmt.Errorf("aegis/fileledger: drop partition %s: %w", name, err)
		}
	}()
	path := l.path(name)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		p.file, p.offset, p.set = nil, 0, nil
		return nil
	}
	if err != nil {
		return err
	}
	if err := flock(ctx, f); err != nil {
		f.Close()
		return err
	}
	defer unflock(f)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	p.file, p.offset, p.set = nil, 0, nil
	return durable.SyncDir(l.dir)
}

// encodeRecord returns the record of nonce (1..255 bytes).
func encodeRecord(nonce []byte) []byte {
	rec := make([]byte, 0, recordFixed+len(nonce))
	rec = append(rec, recordMagic, byte(len(nonce)))
	rec = append(rec, nonce...)
	return binary.BigEndian.AppendUint32(rec, crc32.Checksum(rec, castagnoli))
}

// errCorrupt reports damage that a crash cannot explain.
var errCorrupt = errors.Join(domain.ErrIntegrity, errors.New("aegis/fileledger: corrupt spent-token log"))

// decodeRecords calls fn with the nonce of each complete, valid record of data
// and returns how many bytes they span. Bytes after them are a torn tail (a
// nil error) when they can only be one partially written record (see tornTail).
// Anything else is corruption (errCorrupt).
func decodeRecords(data []byte, fn func(nonce []byte)) (int, error) {
	pos := 0
	for pos < len(data) {
		rest := data[pos:]
		n, ok := validRecord(rest)
		if !ok {
			if tornTail(rest) {
				return pos, nil
			}
			return pos, errCorrupt
		}
		fn(rest[2 : 2+int(rest[1])])
		pos += n
	}
	return pos, nil
}

// tornTail reports whether b, which holds no valid record at its start, can be
// what a crash mid-append leaves: a proper prefix of a record (the magic byte and
// fewer bytes than the record's length), or zeros the file system allocated
// without the data. A complete record with a wrong checksum is not a torn tail:
// it is corruption, and dropping it would forget a spent nonce.
func tornTail(b []byte) bool {
	zero := true
	for _, c := range b {
		if c != 0 {
			zero = false
			break
		}
	}
	if zero {
		return true
	}
	return b[0] == recordMagic && (len(b) < 2 || len(b) < recordFixed+int(b[1]))
}

// validRecord reports whether b starts with a complete record with a matching
// CRC, and its length.
func validRecord(b []byte) (int, bool) {
	if len(b) < recordFixed+1 || b[0] != recordMagic || b[1] == 0 {
		return 0, false
	}
	n := recordFixed + int(b[1])
	if len(b) < n {
		return 0, false
	}
	body := b[:n-4]
	if crc32.Checksum(body, castagnoli) != binary.BigEndian.Uint32(b[n-4:n]) {
		return 0, false
	}
	return n, true
}
