// Package s3blob is a domain.BlobStore (and domain.Batcher) on an S3-compatible
// object store: AWS S3, MinIO, Ceph RGW, versitygw and others, through
// github.com/minio/minio-go/v7. With it, aegisd replicas keep no objects of
// their own: any replica serves any request.
//
// # Configuration
//
// ParseURL reads "s3://BUCKET[/PREFIX]?endpoint=HOST:PORT&region=R&tls=false&cas=MODE";
// ConfigFromEnv does the same and adds the credentials from AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and (optionally) AWS_SESSION_TOKEN. Credentials are
// never read from the URL. Open checks at start, within its context, that the
// endpoint answers (ErrUnreachable), the credentials are accepted
// (ErrCredentials) and the bucket exists (ErrNoBucket): a store that cannot work
// fails at once, and nothing falls back to a local store. The bucket is never
// created by this package.
//
// # Layout
//
// Object id X is the key "PREFIX/X" (just "X" without a prefix), X being the 64
// lowercase hex digits of domain.ObjectID.String(); the body is exactly the
// object's bytes, with no user metadata. List lists the keys directly under the
// prefix and skips anything that is not an id. Every PUT is a single request
// (no multipart) with Content-MD5, so that the server rejects a damaged body.
//
// # Versions and compare-and-swap
//
// The version of an object is its ETag, taken from the same response as the
// bytes (GetVersioned is one GET). For a single-part PUT without SSE-KMS the
// ETag is the MD5 of the contents, so a version comes back only for identical
// contents, as domain.BlobStore requires.
//
// In the default mode, CASConditional, CompareAndSwap is one conditional PUT:
// "If-None-Match: *" when the expected version is empty (create only if absent),
// "If-Match: <etag>" otherwise. The server decides atomically, so any number of
// writers in any number of processes (aegisd replicas) are safe. A 412
// Precondition Failed, a 409 ConditionalRequestConflict, or a 404 for an
// If-Match on a deleted object becomes domain.ErrConflict. The request is never
// retried, because a retry of a PUT that did land would meet its own write and
// report a conflict; any failure where the write may have happened (a timeout,
// a lost connection, a 5xx) is returned as an error that is not ErrConflict, and
// the Vault reads the object back to learn the outcome. Other requests (GET,
// unconditional PUT, DELETE, LIST) are idempotent and retried a few times.
//
// Open checks that the server really honours conditional writes: it creates a
// probe object ".aegis-cas-probe-<random>" under the prefix with If-None-Match,
// tries to create it again and to overwrite it with a wrong If-Match (both must
// fail with 412), then deletes it. A server that accepts either write ignores
// the headers; Open then fails with ErrNoConditionalWrites, naming the fallback.
//
// # The fallback: CASSingleProcess (cas=single-process)
//
// For servers without conditional writes there is no way to make a
// compare-and-swap atomic across processes with S3 alone: a lock object can be
// created twice, and a lease lock in another service cannot stop a delayed PUT
// that lands after its lease ran out. The fallback is therefore deliberately
// narrow: CompareAndSwap reads the current ETag (HEAD) and writes (PUT) while
// holding a lock of this Store, and Put and Delete of the same id take the same
// lock. That is correct when this Store is the only writer of the bucket and
// prefix: one aegisd process, or one program on a local S3. It is NOT correct
// for several aegisd replicas or any other concurrent writer under the prefix:
// two of them could both see version v and both write, and one commit of the
// vault header would be lost. Use it only for a single writer on an old server;
// with replicas, use a server that supports conditional writes. The conformance
// suite runs in both modes.
//
// # Limits
//
//   - Delete asks with a HEAD whether the object exists (S3's DELETE succeeds
//     for absent keys): two concurrent Deletes of one object may both succeed.
//   - Objects larger than domain.MaxObjectSize are refused (Put) or reported
//     as domain.ErrIntegrity (Get).
//   - Server-side encryption with KMS changes ETags into values that are not
//     content hashes; they still never repeat for different contents, so
//     compare-and-swap stays correct.
//   - The store does not implement domain.Locker: concurrent Vault writers
//     on one bucket coordinate by compare-and-swap of the header alone (one wins,
//     the others get domain.ErrConflict and retry).
package s3blob
