package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ai-pantheon/aegis/adapters/httpwire"
	"github.com/ai-pantheon/aegis/domain"
)

// ListResponse is the body of GET /v1/objects.
type ListResponse struct {
	// IDs are object ids in increasing order.
	IDs []string `json:"ids"`
	// Next, when not empty, is the "after" value of the next page.
	Next string `json:"next,omitempty"`
}

func objectID(c echo.Context) (domain.ObjectID, error) {
	id, err := domain.ParseObjectID(c.Param("id"))
	if err != nil {
		return id, newError(http.StatusBadRequest, CodeInvalidObjectID, "object id must be 64 lowercase hex characters")
	}
	return id, nil
}

func setNoStore(c echo.Context) { c.Response().Header().Set(echo.HeaderCacheControl, "no-store") }

func (s *Server) putObject(c echo.Context) error {
	setNoStore(c)
	id, err := objectID(c)
	if err != nil {
		return err
	}
	req := c.Request()
	ifMatch, ifNoneMatch := req.Header.Values("If-Match"), req.Header.Values("If-None-Match")
	var expected domain.Version
	cas := false
	switch {
	case len(ifMatch) > 0 && len(ifNoneMatch) > 0:
		return newError(http.StatusBadRequest, CodeUnsupportedPrecond, "use If-Match or If-None-Match, not both")
	case len(ifMatch) > 0:
		v, ok := httpwire.ParseETag(ifMatch[0])
		if len(ifMatch) != 1 || !ok {
			return newError(http.StatusBadRequest, CodeUnsupportedPrecond, `If-Match must be one strong entity tag ("…")`)
		}
		expected, cas = v, true
	case len(ifNoneMatch) > 0:
		if len(ifNoneMatch) != 1 || strings.TrimSpace(ifNoneMatch[0]) != "*" {
			return newError(http.StatusBadRequest, CodeUnsupportedPrecond, `If-None-Match on PUT must be "*"`)
		}
		cas = true
	}
	body, err := readBody(req, s.maxBody)
	if err != nil {
		return err
	}
	if !s.cfg.Sizes.Allowed(len(body)) {
		return newError(http.StatusBadRequest, CodeInvalidSize, "the body size is not one of the allowed object sizes")
	}
	s.metrics.bytesIn.Add(int64(len(body)))
	ctx := req.Context()
	if !cas {
		if err := s.cfg.Store.Put(ctx, id, body); err != nil {
			return s.storeError(c, err)
		}
		return c.NoContent(http.StatusNoContent)
	}
	v, err := s.cfg.Store.CompareAndSwap(ctx, id, expected, body)
	if err != nil {
		return s.storeError(c, err)
	}
	etag, ok := httpwire.FormatETag(v)
	if !ok {
		return errors.New("store version cannot be an entity tag")
	}
	c.Response().Header().Set("ETag", etag)
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) getObject(c echo.Context) error {
	setNoStore(c)
	id, err := objectID(c)
	if err != nil {
		return err
	}
	data, v, err := s.cfg.Store.GetVersioned(c.Request().Context(), id)
	if err != nil {
		return s.storeError(c, err)
	}
	etag, ok := httpwire.FormatETag(v)
	if !ok {
		return errors.New("store version cannot be an entity tag")
	}
	c.Response().Header().Set("ETag", etag)
	s.metrics.bytesOut.Add(int64(len(data)))
	return c.Blob(http.StatusOK, echo.MIMEOctetStream, data)
}

func (s *Server) deleteObject(c echo.Context) error {
	setNoStore(c)
	id, err := objectID(c)
	if err != nil {
		return err
	}
	h := c.Request().Header
	if len(h.Values("If-Match")) > 0 || len(h.Values("If-None-Match")) > 0 {
		return newError(http.StatusBadRequest, CodeUnsupportedPrecond, "DELETE takes no conditional headers")
	}
	if err := s.cfg.Store.Delete(c.Request().Context(), id); err != nil {
		return s.storeError(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) listObjects(c echo.Context) error {
	setNoStore(c)
	q := c.Request().URL.Query()
	limit := DefaultListLimit
	if l := q["limit"]; len(l) > 0 {
		n, err := strconv.Atoi(l[0])
		if len(l) != 1 || err != nil || n < 1 || n > MaxListLimit || strconv.Itoa(n) != l[0] {
			return newError(http.StatusBadRequest, CodeBadRequest, "limit must be an integer from 1 to "+strconv.Itoa(MaxListLimit))
		}
		limit = n
	}
	var after *domain.ObjectID
	if a := q["after"]; len(a) > 0 {
		id, err := domain.ParseObjectID(a[0])
		if len(a) != 1 || err != nil {
			return newError(http.StatusBadRequest, CodeInvalidObjectID, "after must be one object id of 64 lowercase hex characters")
		}
		after = &id
	}
	var ids []domain.ObjectID
	err := s.cfg.Store.List(c.Request().Context(), func(id domain.ObjectID) error {
		if after == nil || bytes.Compare(id[:], after[:]) > 0 {
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return s.storeError(c, err)
	}
	slices.SortFunc(ids, func(a, b domain.ObjectID) int { return bytes.Compare(a[:], b[:]) })
	resp := ListResponse{IDs: make([]string, 0, min(len(ids), limit))}
	if len(ids) > limit {
		ids = ids[:limit]
		resp.Next = ids[limit-1].String()
	}
	for _, id := range ids {
		resp.IDs = append(resp.IDs, id.String())
	}
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	c.Response().WriteHeader(http.StatusOK)
	return writeJSON(c.Response(), resp)
}

func (s *Server) storeError(c echo.Context, err error) error {
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return newError(http.StatusNotFound, CodeObjectNotFound, "no such object")
	case errors.Is(err, domain.ErrConflict):
		return newError(http.StatusPreconditionFailed, CodePreconditionFailed, "the object's current version does not match the precondition")
	case errors.Is(err, domain.ErrInvalidInput):
		return newError(http.StatusBadRequest, CodeBadRequest, "the store refused the request")
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
