package fakelinode

import (
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
)

func (s *Server) listDisks(w http.ResponseWriter, r *http.Request, in *instance) {
	items := make([]any, len(in.Disks))
	for i, d := range in.Disks {
		items[i] = d
	}
	s.paginate(w, r, items)
}

func (s *Server) listConfigs(w http.ResponseWriter, r *http.Request, in *instance) {
	items := make([]any, len(in.Configs))
	for i, c := range in.Configs {
		items[i] = c
	}
	s.paginate(w, r, items)
}

// createConfig checks a config profile as the API does: an existing disk
// as sda, the public interface as eth0 only, a label for VLAN interfaces
// and a CIDR ipam_address.
func (s *Server) createConfig(w http.ResponseWriter, r *http.Request, in *instance) {
	var req map[string]any
	if !decode(w, r, &req) {
		return
	}
	label, _ := req["label"].(string)
	if label == "" {
		apiError(w, http.StatusBadRequest, "label", "label is required")
		return
	}
	devs, _ := req["devices"].(map[string]any)
	sda, _ := devs["sda"].(map[string]any)
	diskID, _ := sda["disk_id"].(float64)
	found := false
	for _, d := range in.Disks {
		if d["id"] == int(diskID) {
			found = true
		}
	}
	if !found {
		apiError(w, http.StatusBadRequest, "devices.sda.disk_id", "Disk not found on this Linode")
		return
	}
	ifs, _ := req["interfaces"].([]any)
	for i, x := range ifs {
		m, _ := x.(map[string]any)
		switch m["purpose"] {
		case "public":
			if i != 0 {
				apiError(w, http.StatusBadRequest, fmt.Sprintf("interfaces[%d].purpose", i), "The public interface must be eth0")
				return
			}
		case "vlan":
			if l, _ := m["label"].(string); l == "" {
				apiError(w, http.StatusBadRequest, fmt.Sprintf("interfaces[%d].label", i), "label is required for vlan interfaces")
				return
			}
			if a, _ := m["ipam_address"].(string); a != "" {
				if _, err := netip.ParsePrefix(a); err != nil {
					apiError(w, http.StatusBadRequest, fmt.Sprintf("interfaces[%d].ipam_address", i), "Must be a valid IPv4 network in CIDR notation")
					return
				}
			}
		default:
			apiError(w, http.StatusBadRequest, fmt.Sprintf("interfaces[%d].purpose", i), "Must be one of public, vlan, vpc")
			return
		}
	}
	s.nextID++
	req["id"] = s.nextID
	in.Configs = append(in.Configs, req)
	writeJSON(w, http.StatusOK, req)
}

func (s *Server) deleteConfig(w http.ResponseWriter, r *http.Request, in *instance) {
	cid, _ := strconv.Atoi(r.PathValue("cid"))
	for i, c := range in.Configs {
		if id, _ := c["id"].(int); id == cid {
			in.Configs = append(in.Configs[:i], in.Configs[i+1:]...)
			writeJSON(w, http.StatusOK, map[string]any{})
			return
		}
	}
	apiError(w, http.StatusNotFound, "", "Not found")
}
