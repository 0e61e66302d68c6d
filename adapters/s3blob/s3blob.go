package s3blob

import (
	"bytes"
	"context"
	"crypto/md5" // Content-MD5: the server checks the body with it; not a security boundary
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/ai-pantheon/aegis/adapters/internal/durable"
	"github.com/ai-pantheon/aegis/domain"
)

var (
	_ domain.BlobStore = (*Store)(nil)
	_ domain.Batcher   = (*Store)(nil)
	_ domain.Networked = (*Store)(nil)
)

// Errors of Open, each wrapped with the details. Callers match them with errors.Is.
var (
	// ErrUnreachable means no connection to the endpoint could be made.
	ErrUnreachable = errors.New("aegis/s3blob: S3 endpoint unreachable")
	// ErrCredentials means the server refused the credentials, or refused them
	// access to the bucket.
	ErrCredentials = errors.New("aegis/s3blob: S3 credentials refused")
	// ErrNoBucket means the bucket does not exist. It wraps domain.ErrNotFound.
	ErrNoBucket = fmt.Errorf("aegis/s3blob: S3 bucket does not exist: %w", domain.ErrNotFound)
	// ErrNoConditionalWrites means the server ignores If-None-Match or If-Match
	// on PUT, so CASConditional cannot work there. It wraps domain.ErrInvalidInput.
	ErrNoConditionalWrites = fmt.Errorf("aegis/s3blob: the S3 server does not support conditional writes: %w", domain.ErrInvalidInput)
)

// Tuning of the HTTP client and of batches.
const (
	maxRetries       = 3  // tries of an idempotent request (minio-go's count includes the first)
	batchParallelism = 8  // concurrent PUTs of a PutBatch
	maxIdlePerHost   = 32 // kept-alive connections
	probeNamePrefix  = ".aegis-cas-probe-"
)

// Store is a domain.BlobStore (and domain.Batcher) over one bucket and prefix of
// an S3-compatible object store. It is safe for concurrent use; any number of
// Stores in any number of processes may share a bucket and prefix when the CAS
// mode is CASConditional.
type Store struct {
	cfg       Config
	core      minio.Core // idempotent requests: retried after transport errors and 5xx
	once      minio.Core // compare-and-swap: never retried (a retry could see its own write as a conflict)
	transport *http.Transport
	stripes   *[256]sync.Mutex // CASSingleProcess only: per-id serialisation of writes
}

// Open connects to the store described by cfg and checks, within ctx, that the
// endpoint answers (ErrUnreachable), the credentials are accepted
// (ErrCredentials), and the bucket exists (ErrNoBucket). In CASConditional mode
// it also checks that the server honours conditional writes, with three PUTs
// and a DELETE of a probe object under the prefix (ErrNoConditionalWrites);
// the probe also proves that the credentials may write. A config that does not
// validate is an error wrapping domain.ErrInvalidInput. Open does not retry
// beyond ctx and Config.RequestTimeout.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	transport := newTransport(cfg)
	newClient := func(retries int) (*minio.Client, error) {
		return minio.New(cfg.Endpoint, &minio.Options{
			Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, cfg.SessionToken),
			Secure:       cfg.Secure,
			Transport:    transport,
			Region:       cfg.Region,
			BucketLookup: minio.BucketLookupAuto,
			MaxRetries:   retries,
		})
	}
	retrying, err := newClient(maxRetries)
	if err != nil {
		return nil, fmt.Errorf("aegis/s3blob: open %s: %v: %w", cfg, err, domain.ErrInvalidInput)
	}
	single, err := newClient(1)
	if err != nil {
		return nil, fmt.Errorf("aegis/s3blob: open %s: %v: %w", cfg, err, domain.ErrInvalidInput)
	}
	s := &Store{cfg: cfg, core: minio.Core{Client: retrying}, once: minio.Core{Client: single}, transport: transport}
	if cfg.CAS == CASSingleProcess {
		s.stripes = new([256]sync.Mutex)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
	defer cancel()
	if err := s.checkBucket(ctx); err != nil {
		transport.CloseIdleConnections()
		return nil, err
	}
	if cfg.CAS == CASConditional {
		if err := s.probeConditionalWrites(ctx); err != nil {
			transport.CloseIdleConnections()
			return nil, err
		}
	}
	return s, nil
}

// newTransport is the bounded HTTP transport: connect, TLS handshake and
// response headers each have a deadline, on top of each operation's.
func newTransport(cfg Config) *http.Transport {
	dialer := &net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: cfg.RequestTimeout,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          2 * maxIdlePerHost,
		MaxIdleConnsPerHost:   maxIdlePerHost,
		DisableCompression:    true,
		ForceAttemptHTTP2:     true,
	}
}

// credentialCodes are the S3 error codes of a request whose signature or key
// the server does not accept (XAdminUserNotFound: versitygw's unknown key).
var credentialCodes = map[string]bool{
	"InvalidAccessKeyId": true, "SignatureDoesNotMatch": true, "InvalidToken": true,
	"ExpiredToken": true, "InvalidClientTokenId": true, "XAdminUserNotFound": true,
}

// checkBucket lists at most one key under the prefix and sorts its failures
// into the errors of Open. It uses a GET, not HEAD bucket: a HEAD answer has no
// body, and some servers answer an unknown key with a bare 404 that would read
// as a missing bucket.
func (s *Store) checkBucket(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var err error
	for obj := range s.core.Client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: s.key(""), MaxKeys: 1}) {
		err = obj.Err
		break
	}
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil && !isS3Error(err) {
		return fmt.Errorf("%w: no answer from %s within the time allowed: %w", ErrUnreachable, s.cfg.Endpoint, ctxErr)
	}
	if !isS3Error(err) {
		return fmt.Errorf("%w: %s: %v", ErrUnreachable, s.cfg.Endpoint, err)
	}
	resp := minio.ToErrorResponse(err)
	switch {
	case resp.Code == "NoSuchBucket":
		return fmt.Errorf("%w: bucket %q at %s (create it first; aegis does not)", ErrNoBucket, s.cfg.Bucket, s.cfg.Endpoint)
	case credentialCodes[resp.Code]:
		return fmt.Errorf("%w: %s rejects access key %q (%s: %s): check %s and %s", ErrCredentials, s.cfg.Endpoint, s.cfg.AccessKey, resp.Code, resp.Message, EnvAccessKey, EnvSecretKey)
	case resp.Code == "AccessDenied" || resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%w: access key %q may not list bucket %q at %s (%s)", ErrCredentials, s.cfg.AccessKey, s.cfg.Bucket, s.cfg.Endpoint, resp.Code)
	}
	return fmt.Errorf("aegis/s3blob: open: list bucket %q at %s: %w", s.cfg.Bucket, s.cfg.Endpoint, err)
}

// probeConditionalWrites creates a probe object with If-None-Match: *, tries to
// create it again (which must fail with 412) and to overwrite it with a wrong
// If-Match (which must fail too), then deletes it.
func (s *Store) probeConditionalWrites(ctx context.Context) error {
	var rnd [16]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return fmt.Errorf("aegis/s3blob: open: %w", err)
	}
	key := s.key(probeNamePrefix + hex.EncodeToString(rnd[:]))
	defer func() {
		// Best effort, bounded: a leftover probe is not listed (not an id) and harmless.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = s.core.RemoveObject(dctx, s.cfg.Bucket, key, minio.RemoveObjectOptions{})
	}()
	unsupported := func(what string) error {
		return fmt.Errorf("%w: %s at %s %s, so compare-and-swap cannot be atomic there. "+
			"Use a server that supports conditional writes (AWS S3, MinIO, Ceph RGW, versitygw), "+
			"or, only if this is the one process that ever writes under s3://%s/%s, set cas=%s (Config.CAS = CASSingleProcess)",
			ErrNoConditionalWrites, s.cfg.Endpoint, s.cfg.Bucket, what, s.cfg.Bucket, s.cfg.Prefix, CASSingleProcess)
	}
	probe := []byte("aegis conditional-write probe")
	v, err := s.putConditional(ctx, key, probe, "")
	if err != nil {
		if isCode(err, "NotImplemented") || isStatus(err, http.StatusNotImplemented) {
			return unsupported("does not implement If-None-Match on PUT")
		}
		return fmt.Errorf("aegis/s3blob: open: write a probe object to %s: %w", s.cfg, s.classify(err))
	}
	if _, err := s.putConditional(ctx, key, probe, ""); err == nil {
		return unsupported("ignores If-None-Match: * on PUT")
	} else if !isPreconditionFailed(err) {
		if isCode(err, "NotImplemented") || isStatus(err, http.StatusNotImplemented) {
			return unsupported("does not implement If-None-Match on PUT")
		}
		return fmt.Errorf("aegis/s3blob: open: probe conditional writes: %w", err)
	}
	wrong := "0" + strings.Repeat("f", 31)
	if wrong == string(v) {
		wrong = strings.Repeat("0", 32)
	}
	if _, err := s.putConditional(ctx, key, probe, domain.Version(wrong)); err == nil {
		return unsupported("ignores If-Match on PUT")
	} else if !isPreconditionFailed(err) {
		if isCode(err, "NotImplemented") || isStatus(err, http.StatusNotImplemented) {
			return unsupported("does not implement If-Match on PUT")
		}
		return fmt.Errorf("aegis/s3blob: open: probe conditional writes: %w", err)
	}
	return nil
}

// Close releases idle connections. The Store must not be used afterwards.
func (s *Store) Close() error {
	s.transport.CloseIdleConnections()
	return nil
}

// Config returns the store's configuration (with defaults applied).
func (s *Store) Config() Config { return s.cfg }

// Networked implements domain.Networked: every request goes to the S3
// endpoint over the network, even one on this machine.
func (s *Store) Networked() bool { return true }

// key is the object key of name under the prefix.
func (s *Store) key(name string) string {
	if s.cfg.Prefix == "" {
		return name
	}
	return s.cfg.Prefix + "/" + name
}

func (s *Store) objectKey(id domain.ObjectID) string { return s.key(id.String()) }

// opCtx bounds one operation by Config.RequestTimeout.
func (s *Store) opCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.cfg.RequestTimeout)
}

// lock serialises writes of id in CASSingleProcess mode; a no-op otherwise.
func (s *Store) lock(id domain.ObjectID) func() {
	if s.stripes == nil {
		return func() {}
	}
	m := &s.stripes[id[0]]
	m.Lock()
	return m.Unlock
}

// Put stores data under id with one unconditional PUT (retried on transport
// errors and 5xx: it is idempotent).
func (s *Store) Put(ctx context.Context, id domain.ObjectID, data []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("aegis/s3blob: put %s: %w", id, err)
	}
	if len(data) > domain.MaxObjectSize {
		return fmt.Errorf("aegis/s3blob: put %s: %d bytes, more than the largest object (%d): %w", id, len(data), domain.MaxObjectSize, domain.ErrInvalidInput)
	}
	unlock := s.lock(id)
	defer unlock()
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	if _, err := s.put(ctx, s.core, s.objectKey(id), data, minio.PutObjectOptions{}); err != nil {
		return fmt.Errorf("aegis/s3blob: put %s: %w", id, s.classify(err))
	}
	return nil
}

// put sends one PUT of data with its Content-MD5 and signed SHA-256, and returns
// the new version (the ETag).
func (s *Store) put(ctx context.Context, c minio.Core, key string, data []byte, opts minio.PutObjectOptions) (domain.Version, error) {
	sum := md5.Sum(data)
	sha := sha256.Sum256(data)
	opts.ContentType = "application/octet-stream"
	opts.DisableMultipart = true
	info, err := c.PutObject(ctx, s.cfg.Bucket, key, bytes.NewReader(data), int64(len(data)),
		base64.StdEncoding.EncodeToString(sum[:]), hex.EncodeToString(sha[:]), opts)
	if err != nil {
		return "", err
	}
	etag := strings.Trim(info.ETag, `"`)
	if etag == "" {
		return "", errors.New("the server sent no ETag for the object written")
	}
	return domain.Version(etag), nil
}

// putConditional writes key only if it is absent (expected == "") or its ETag is
// expected, with a client that never retries.
func (s *Store) putConditional(ctx context.Context, key string, data []byte, expected domain.Version) (domain.Version, error) {
	var opts minio.PutObjectOptions
	if expected == "" {
		opts.SetMatchETagExcept("*")
	} else {
		opts.SetMatchETag(string(expected))
	}
	return s.put(ctx, s.once, key, data, opts)
}

// Get returns the object's bytes, or an error wrapping domain.ErrNotFound.
func (s *Store) Get(ctx context.Context, id domain.ObjectID) ([]byte, error) {
	data, _, err := s.get(ctx, "get", id)
	return data, err
}

// GetVersioned returns the object's bytes and its version (the ETag of the
// same response), or an error wrapping domain.ErrNotFound.
func (s *Store) GetVersioned(ctx context.Context, id domain.ObjectID) ([]byte, domain.Version, error) {
	return s.get(ctx, "get versioned", id)
}

func (s *Store) get(ctx context.Context, op string, id domain.ObjectID) (data []byte, v domain.Version, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("aegis/s3blob: %s %s: %w", op, id, err)
		}
	}()
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	body, info, _, err := s.core.GetObject(ctx, s.cfg.Bucket, s.objectKey(id), minio.GetObjectOptions{})
	if err != nil {
		return nil, "", s.classify(err)
	}
	defer body.Close()
	if info.Size > domain.MaxObjectSize {
		return nil, "", fmt.Errorf("object of %d bytes, more than the largest object (%d): %w", info.Size, domain.MaxObjectSize, domain.ErrIntegrity)
	}
	etag := strings.Trim(info.ETag, `"`)
	if etag == "" {
		return nil, "", errors.New("the server sent no ETag")
	}
	data, err = io.ReadAll(io.LimitReader(body, domain.MaxObjectSize+1))
	if err != nil {
		return nil, "", s.classify(err)
	}
	if info.Size >= 0 && int64(len(data)) != info.Size {
		return nil, "", fmt.Errorf("read %d bytes of an object of %d bytes: %w", len(data), info.Size, io.ErrUnexpectedEOF)
	}
	if data == nil {
		data = []byte{}
	}
	return data, domain.Version(etag), nil
}

// Delete removes the object, or returns an error wrapping domain.ErrNotFound if
// it is absent. S3's DELETE succeeds for absent keys, so Delete asks with a HEAD
// first: two concurrent Deletes of one object may both return nil.
func (s *Store) Delete(ctx context.Context, id domain.ObjectID) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("aegis/s3blob: delete %s: %w", id, err)
		}
	}()
	if err := ctx.Err(); err != nil {
		return err
	}
	unlock := s.lock(id)
	defer unlock()
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	key := s.objectKey(id)
	if _, err := s.core.StatObject(ctx, s.cfg.Bucket, key, minio.StatObjectOptions{}); err != nil {
		return s.classify(err)
	}
	if err := s.core.RemoveObject(ctx, s.cfg.Bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return s.classify(err)
	}
	return nil
}

// List calls fn for every object id under the prefix (keys that are not a
// 64-hex id, such as a leftover probe object, are skipped), from one goroutine.
func (s *Store) List(ctx context.Context, fn func(domain.ObjectID) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("aegis/s3blob: list: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	prefix := s.key("")
	ch := s.core.Client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: false})
	drain := func() {
		cancel()
		for range ch { // let the lister goroutine end
		}
	}
	for obj := range ch {
		if obj.Err != nil {
			drain()
			if err := ctx.Err(); err != nil && errors.Is(obj.Err, context.Canceled) {
				return fmt.Errorf("aegis/s3blob: list: %w", obj.Err)
			}
			return fmt.Errorf("aegis/s3blob: list: %w", s.classify(obj.Err))
		}
		name, ok := strings.CutPrefix(obj.Key, prefix)
		if !ok {
			continue
		}
		id, err := domain.ParseObjectID(name)
		if err != nil {
			continue // not an object of this store (a probe, a "directory", another tool's key)
		}
		if err := fn(id); err != nil {
			drain()
			return err
		}
	}
	return nil
}

// CompareAndSwap writes data under id only if its current version is expected
// (the empty Version: only if absent) and returns the new version. A lost race
// is an error wrapping domain.ErrConflict. Any failure where the write may or
// may not have happened (a timeout, a reset connection, a 5xx) is returned as
// is, never as ErrConflict, and never retried: the caller reads the object back.
func (s *Store) CompareAndSwap(ctx context.Context, id domain.ObjectID, expected domain.Version, data []byte) (v domain.Version, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("aegis/s3blob: compare-and-swap %s: %w", id, err)
		}
	}()
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if len(data) > domain.MaxObjectSize {
		return "", fmt.Errorf("%d bytes, more than the largest object (%d): %w", len(data), domain.MaxObjectSize, domain.ErrInvalidInput)
	}
	if !plausibleETag(expected) {
		return "", fmt.Errorf("expected version %q was not issued by this store: %w", expected, domain.ErrConflict)
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	key := s.objectKey(id)
	if s.cfg.CAS == CASSingleProcess {
		return s.casSingleProcess(ctx, id, key, expected, data)
	}
	v, err = s.putConditional(ctx, key, data, expected)
	if err != nil {
		if isPreconditionFailed(err) {
			return "", fmt.Errorf("expected version %q: %w", expected, domain.ErrConflict)
		}
		if expected != "" && isCode(err, "NoSuchKey") {
			return "", fmt.Errorf("expected version %q, the object is absent: %w", expected, domain.ErrConflict)
		}
		return "", s.classify(err)
	}
	return v, nil
}

// casSingleProcess compares and writes under the id's in-process lock, which
// every Put, Delete and CompareAndSwap of this Store takes.
func (s *Store) casSingleProcess(ctx context.Context, id domain.ObjectID, key string, expected domain.Version, data []byte) (domain.Version, error) {
	unlock := s.lock(id)
	defer unlock()
	var cur domain.Version
	info, err := s.core.StatObject(ctx, s.cfg.Bucket, key, minio.StatObjectOptions{})
	switch {
	case err == nil:
		cur = domain.Version(strings.Trim(info.ETag, `"`))
	case isNotFound(err):
	default:
		return "", s.classify(err)
	}
	if cur != expected {
		return "", fmt.Errorf("expected version %q, found %q: %w", expected, cur, domain.ErrConflict)
	}
	v, err := s.put(ctx, s.once, key, data, minio.PutObjectOptions{})
	if err != nil {
		return "", s.classify(err)
	}
	return v, nil
}

// PutBatch stores every object as Put would, batchParallelism at a time. It
// stops at the first failure.
func (s *Store) PutBatch(ctx context.Context, objs []domain.Object) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("aegis/s3blob: put batch: %w", err)
	}
	err := durable.Parallel(ctx, len(objs), batchParallelism, func(ctx context.Context, i int) error {
		return s.Put(ctx, objs[i].ID, objs[i].Data)
	})
	if err != nil {
		return fmt.Errorf("aegis/s3blob: put batch: %w", err)
	}
	return nil
}

// DeleteBatch removes the objects with S3's multi-object delete (absent ones
// are skipped by the server).
func (s *Store) DeleteBatch(ctx context.Context, ids []domain.ObjectID) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("aegis/s3blob: delete batch: %w", err)
	}
	if len(ids) == 0 {
		return nil
	}
	if s.stripes != nil {
		// Keep the per-id serialisation of CASSingleProcess: one at a time.
		for _, id := range ids {
			if err := s.Delete(ctx, id); err != nil && !errors.Is(err, domain.ErrNotFound) {
				return fmt.Errorf("aegis/s3blob: delete batch: %w", err)
			}
		}
		return nil
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	objs := make(chan minio.ObjectInfo, len(ids))
	for _, id := range ids {
		objs <- minio.ObjectInfo{Key: s.objectKey(id)}
	}
	close(objs)
	var errs []error
	for e := range s.core.RemoveObjects(ctx, s.cfg.Bucket, objs, minio.RemoveObjectsOptions{}) {
		if e.Err != nil && !isNotFound(e.Err) {
			errs = append(errs, fmt.Errorf("%s: %w", e.ObjectName, s.classify(e.Err)))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("aegis/s3blob: delete batch: %w", errors.Join(errs...))
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("aegis/s3blob: delete batch: %w", err)
	}
	return nil
}

// classify wraps S3 errors in the domain sentinels: a missing key is
// domain.ErrNotFound, a missing bucket ErrNoBucket, refused credentials
// ErrCredentials. Anything else is returned unchanged.
func (s *Store) classify(err error) error {
	resp := minio.ToErrorResponse(err)
	switch {
	case resp.Code == "NoSuchBucket":
		return fmt.Errorf("%w: bucket %q at %s: %v", ErrNoBucket, s.cfg.Bucket, s.cfg.Endpoint, err)
	case resp.Code == "NoSuchKey" || resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%v: %w", err, domain.ErrNotFound)
	case credentialCodes[resp.Code] || resp.Code == "AccessDenied":
		return fmt.Errorf("%w: %v", ErrCredentials, err)
	}
	return err
}

func isS3Error(err error) bool {
	var r minio.ErrorResponse
	return errors.As(err, &r) && r.StatusCode != 0
}

func isCode(err error, code string) bool { return minio.ToErrorResponse(err).Code == code }

func isStatus(err error, status int) bool { return minio.ToErrorResponse(err).StatusCode == status }

func isNotFound(err error) bool {
	r := minio.ToErrorResponse(err)
	return r.Code == "NoSuchKey" || (r.StatusCode == http.StatusNotFound && r.Code != "NoSuchBucket")
}

// isPreconditionFailed reports a conditional write the server refused: 412, or
// AWS's 409 ConditionalRequestConflict (a concurrent conditional write won).
// Neither wrote anything.
func isPreconditionFailed(err error) bool {
	r := minio.ToErrorResponse(err)
	return r.StatusCode == http.StatusPreconditionFailed || r.Code == "PreconditionFailed" || r.Code == "ConditionalRequestConflict"
}

// plausibleETag reports whether v could be an ETag this store returned: empty,
// or printable ASCII without quotes, at most 128 bytes. Anything else cannot
// match and must not reach an HTTP header.
func plausibleETag(v domain.Version) bool {
	if len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] >= 0x7f || v[i] == '"' {
			return false
		}
	}
	return true
}
