package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ai-pantheon/aegis/adapters/httpwire"
	"github.com/ai-pantheon/aegis/domain"
)

// EnablerHashSize is the length of what the server keeps of an object's
// write-enabler: its SHA-256, stored in front of the body. The backing store
// holds SHA-256(enabler) || body; GET returns the body only.
const EnablerHashSize = sha256.Size

// WriteEnablerHeader is the request header of PUT and DELETE that carries the
// object's write-enabler (httpwire.FormatWriteEnabler).
const WriteEnablerHeader = httpwire.WriteEnablerHeader

// plainPutTries bounds the read-check-swap rounds of an unconditional PUT that
// keeps losing its compare-and-swap to concurrent writers of the same object
// (who all hold its enabler); then it answers 412.
const plainPutTries = 4

func objectID(c echo.Context) (domain.ObjectID, error) {
	id, err := domain.ParseObjectID(c.Param("id"))
	if err != nil {
		return id, NewError(http.StatusBadRequest, CodeInvalidObjectID, "object id must be 64 lowercase hex characters")
	}
	if id == StoreFormatID {
		return id, NewError(http.StatusBadRequest, CodeInvalidObjectID, "this object id is reserved by the server")
	}
	return id, nil
}

// enablerHash reads the request's one Aegis-Write-Enabler header and returns
// the hash the server keeps of it.
func enablerHash(req *http.Request) ([EnablerHashSize]byte, error) {
	vals := req.Header.Values(WriteEnablerHeader)
	if len(vals) != 1 {
		return [EnablerHashSize]byte{}, NewError(http.StatusBadRequest, CodeWriteEnablerRequired,
			"exactly one "+WriteEnablerHeader+" header is required (43 characters of unpadded base64url: 32 bytes)")
	}
	e, ok := httpwire.ParseWriteEnabler(vals[0])
	if !ok {
		return [EnablerHashSize]byte{}, NewError(http.StatusBadRequest, CodeWriteEnablerRequired,
			"the "+WriteEnablerHeader+" header must be 43 characters of unpadded base64url (32 bytes)")
	}
	return sha256.Sum256(e[:]), nil
}

// enablerMatches reports, in constant time, whether the stored object was
// created with the enabler whose hash is h. A stored object too short to hold
// a hash matches nothing.
func enablerMatches(stored []byte, h *[EnablerHashSize]byte) bool {
	if len(stored) < EnablerHashSize {
		return false
	}
	return subtle.ConstantTimeCompare(stored[:EnablerHashSize], h[:]) == 1
}

// The answers to a refused write. A wrong enabler gets exactly the answer of a
// wrong version (PUT) or of an absent object (DELETE), so that a client without
// the enabler learns nothing it could not learn otherwise.
func errPrecondition() error {
	return NewError(http.StatusPreconditionFailed, CodePreconditionFailed, "the object's current version does not match the precondition")
}

func errNotFound() error {
	return NewError(http.StatusNotFound, CodeObjectNotFound, "no such object")
}

func setNoStore(c echo.Context) { c.Response().Header().Set(echo.HeaderCacheControl, "no-store") }

// putMode is what a PUT's conditional headers ask for.
type putMode int

const (
	putPlain  putMode = iota // store, replacing an object created with the same enabler
	putCreate                // If-None-Match: *, only if absent
	putSwap                  // If-Match, only if the current version is the expected one
)

func putPrecondition(h http.Header) (putMode, domain.Version, error) {
	ifMatch, ifNoneMatch := h.Values("If-Match"), h.Values("If-None-Match")
	switch {
	case len(ifMatch) > 0 && len(ifNoneMatch) > 0:
		return 0, "", NewError(http.StatusBadRequest, CodeUnsupportedPrecond, "use If-Match or If-None-Match, not both")
	case len(ifMatch) > 0:
		v, ok := httpwire.ParseETag(ifMatch[0])
		if len(ifMatch) != 1 || !ok {
			return 0, "", NewError(http.StatusBadRequest, CodeUnsupportedPrecond, `If-Match must be one strong entity tag ("…")`)
		}
		return putSwap, v, nil
	case len(ifNoneMatch) > 0:
		if len(ifNoneMatch) != 1 || strings.TrimSpace(ifNoneMatch[0]) != "*" {
			return 0, "", NewError(http.StatusBadRequest, CodeUnsupportedPrecond, `If-None-Match on PUT must be "*"`)
		}
		return putCreate, "", nil
	}
	return putPlain, "", nil
}

func (s *Server) putObject(c echo.Context) error {
	setNoStore(c)
	id, err := objectID(c)
	if err != nil {
		return err
	}
	req := c.Request()
	mode, expected, err := putPrecondition(req.Header)
	if err != nil {
		return err
	}
	h, err := enablerHash(req)
	if err != nil {
		return err
	}
	body, err := readBody(req, s.maxBody)
	if err != nil {
		return err
	}
	if !s.cfg.Sizes.Allowed(len(body)) {
		return NewError(http.StatusBadRequest, CodeInvalidSize, "the body size is not one of the allowed object sizes")
	}
	s.metrics.bytesIn.Add(float64(len(body)))
	stored := make([]byte, EnablerHashSize+len(body))
	copy(stored, h[:])
	copy(stored[EnablerHashSize:], body)

	var v domain.Version
	switch mode {
	case putPlain:
		err = s.putPlain(c, id, &h, stored)
	case putCreate:
		// Only if absent: nothing to compare the enabler with.
		v, err = s.cfg.Store.CompareAndSwap(req.Context(), id, "", stored)
	case putSwap:
		v, err = s.putSwap(c, id, expected, &h, stored)
	}
	if err != nil {
		return s.storeError(c, err)
	}
	if mode != putPlain {
		etag, ok := httpwire.FormatETag(v)
		if !ok {
			return errors.New("store version cannot be an entity tag")
		}
		c.Response().Header().Set("ETag", etag)
	}
	return c.NoContent(http.StatusNoContent)
}

// putPlain creates the object with the enabler's hash, or replaces it if it was
// created with the same enabler. Every write is a compare-and-swap against the
// version read, so that a concurrent creator or a replacement by another
// request cannot slip in between the check and the write.
func (s *Server) putPlain(c echo.Context, id domain.ObjectID, h *[EnablerHashSize]byte, stored []byte) error {
	ctx := c.Request().Context()
	for range plainPutTries {
		cur, v, err := s.cfg.Store.GetVersioned(ctx, id)
		switch {
		case errors.Is(err, domain.ErrNotFound):
			_, err = s.cfg.Store.CompareAndSwap(ctx, id, "", stored)
		case err != nil:
			return err
		case !enablerMatches(cur, h):
			return errPrecondition()
		default:
			_, err = s.cfg.Store.CompareAndSwap(ctx, id, v, stored)
		}
		if !errors.Is(err, domain.ErrConflict) {
			return err
		}
	}
	return errPrecondition()
}

// putSwap replaces the object if its version is expected and it was created
// with the same enabler. Both are checked before the write, and a mismatch of
// either is the same 412.
func (s *Server) putSwap(c echo.Context, id domain.ObjectID, expected domain.Version, h *[EnablerHashSize]byte, stored []byte) (domain.Version, error) {
	ctx := c.Request().Context()
	cur, v, err := s.cfg.Store.GetVersioned(ctx, id)
	if errors.Is(err, domain.ErrNotFound) {
		return "", errPrecondition()
	}
	if err != nil {
		return "", err
	}
	sameVersion := subtle.ConstantTimeCompare([]byte(v), []byte(expected)) == 1
	if !enablerMatches(cur, h) || !sameVersion {
		return "", errPrecondition()
	}
	return s.cfg.Store.CompareAndSwap(ctx, id, expected, stored)
}

func (s *Server) getObject(c echo.Context) error {
	setNoStore(c)
	id, err := objectID(c)
	if err != nil {
		return err
	}
	stored, v, err := s.cfg.Store.GetVersioned(c.Request().Context(), id)
	if err != nil {
		return s.storeError(c, err)
	}
	if len(stored) < EnablerHashSize {
		return errors.New("stored object shorter than the enabler hash")
	}
	data := stored[EnablerHashSize:]
	etag, ok := httpwire.FormatETag(v)
	if !ok {
		return errors.New("store version cannot be an entity tag")
	}
	c.Response().Header().Set("ETag", etag)
	s.metrics.bytesOut.Add(float64(len(data)))
	return c.Blob(http.StatusOK, echo.MIMEOctetStream, data)
}

// deleteObject removes the object if it was created with the request's
// enabler. A wrong enabler is answered exactly as an absent object, so that a
// refused delete does not confirm that the object exists.
func (s *Server) deleteObject(c echo.Context) error {
	setNoStore(c)
	id, err := objectID(c)
	if err != nil {
		return err
	}
	req := c.Request()
	if len(req.Header.Values("If-Match")) > 0 || len(req.Header.Values("If-None-Match")) > 0 {
		return NewError(http.StatusBadRequest, CodeUnsupportedPrecond, "DELETE takes no conditional headers")
	}
	h, err := enablerHash(req)
	if err != nil {
		return err
	}
	cur, _, err := s.cfg.Store.GetVersioned(req.Context(), id)
	if err != nil {
		return s.storeError(c, err)
	}
	if !enablerMatches(cur, &h) {
		return errNotFound()
	}
	if err := s.cfg.Store.Delete(req.Context(), id); err != nil {
		return s.storeError(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) storeError(c echo.Context, err error) error {
	var ae *APIError
	switch {
	case errors.As(err, &ae):
		return err
	case errors.Is(err, domain.ErrNotFound):
		return errNotFound()
	case errors.Is(err, domain.ErrConflict):
		return errPrecondition()
	case errors.Is(err, domain.ErrInvalidInput):
		return NewError(http.StatusBadRequest, CodeBadRequest, "the store refused the request")
	}
	if e := ctxErr(c.Request().Context()); e != nil {
		return e
	}
	return err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	return enc.Encode(v)
}
