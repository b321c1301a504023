package fakelinode

import (
	"fmt"
	"io"
	"net/http"
)

func (im *image) json() map[string]any {
	caps := []string{}
	if im.CloudInit {
		caps = append(caps, "cloud-init")
	}
	return map[string]any{"capabilities": caps, "id": im.ID, "label": im.Label, "description": im.Description, "status": im.Status, "size": im.Size,
		"type": "manual", "is_public": false, "deprecated": false, "vendor": nil, "created_by": "tester",
		"regions": []map[string]string{{"region": im.Region, "status": "available"}}}
}

func (s *Server) createUpload(w http.ResponseWriter, r *http.Request) {
	var req map[string]any
	if !decode(w, r, &req) {
		return
	}
	region, _ := req["region"].(string)
	label, _ := req["label"].(string)
	if region == "" {
		apiError(w, http.StatusBadRequest, "region", "region is required")
		return
	}
	if label == "" {
		apiError(w, http.StatusBadRequest, "label", "label is required")
		return
	}
	s.mu.Lock()
	s.nextID++
	n := s.nextID
	desc, _ := req["description"].(string)
	ci, _ := req["cloud_init"].(bool)
	im := &image{Image: Image{ID: fmt.Sprintf("private/%d", n), Label: label, Description: desc, Region: region, Status: "pending_upload", CloudInit: ci}}
	s.images[im.ID] = im
	body := map[string]any{"image": im.json(), "upload_to": fmt.Sprintf("%s/upload/%d?X-Amz-Signature=fake", s.srv.URL, n)}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, body)
}

// putUpload is the object storage side of an upload: a plain PUT of the
// gzip file, answered without the API's JSON.
func (s *Server) putUpload(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Content-Type") != "application/octet-stream" || r.ContentLength <= 0 {
		http.Error(w, "want application/octet-stream with a Content-Length", http.StatusBadRequest)
		return
	}
	data, err := io.ReadAll(r.Body)
	if err != nil || int64(len(data)) != r.ContentLength {
		http.Error(w, "short body", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	im := s.images["private/"+r.PathValue("id")]
	if im == nil || im.Status != "pending_upload" {
		http.Error(w, "no such upload", http.StatusForbidden)
		return
	}
	im.Data, im.Status = data, "creating"
	w.WriteHeader(http.StatusOK)
}

func (s *Server) getImage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	im := s.images[r.PathValue("id")]
	if im == nil {
		apiError(w, http.StatusNotFound, "", "Not found")
		return
	}
	// Linode takes a few polls to process an upload.
	if im.Status == "creating" {
		if im.polls++; im.polls >= 2 {
			im.Status, im.Size = "available", 1500
		}
	}
	writeJSON(w, http.StatusOK, im.json())
}
