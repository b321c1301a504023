package fakelinode

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	// Exactly application/json: linodego compares it with its Accept header.
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, status int, field, reason string) {
	writeJSON(w, status, map[string]any{"errors": []Reason{{Field: field, Reason: reason}}})
}

// decode reads a JSON request body, refusing what the API refuses.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if r.Header.Get("Content-Type") != "application/json" {
		apiError(w, http.StatusBadRequest, "", "Content-Type must be application/json")
		return false
	}
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		apiError(w, http.StatusBadRequest, "", "Invalid JSON")
		return false
	}
	return true
}

// paginate answers a list endpoint: page and page_size (25-500, as the API
// allows) from the query, the Server's page size otherwise.
func (s *Server) paginate(w http.ResponseWriter, r *http.Request, items []any) {
	size := s.pageSize
	if n, err := strconv.Atoi(r.URL.Query().Get("page_size")); err == nil {
		if n < 25 || n > 500 {
			apiError(w, http.StatusBadRequest, "page_size", "Must be 25-500")
			return
		}
		size = n
	}
	page := 1
	if p, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil {
		page = p
	}
	pages := (len(items) + size - 1) / size
	if pages == 0 {
		pages = 1
	}
	if page < 1 || page > pages {
		apiError(w, http.StatusBadRequest, "page", fmt.Sprintf("Must be 1-%d", pages))
		return
	}
	lo, hi := (page-1)*size, min(page*size, len(items))
	data := items[lo:hi]
	if data == nil {
		data = []any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "page": page, "pages": pages, "results": len(items)})
}
