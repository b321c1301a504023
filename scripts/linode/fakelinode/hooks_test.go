package fakelinode

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// call makes one API request and decodes the JSON answer.
func call(t *testing.T, s *Server, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, s.URL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.Token())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// status polls the instance once, as a client waiting for a state does.
func status(t *testing.T, s *Server, id int) string {
	t.Helper()
	code, in := call(t, s, "GET", fmt.Sprintf("/linode/instances/%d", id), nil)
	if code != http.StatusOK {
		t.Fatalf("GET instance %d: %d %v", id, code, in)
	}
	st, _ := in["status"].(string)
	return st
}

// waitStatus polls until the instance shows want.
func waitStatus(t *testing.T, s *Server, id int, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		if last = status(t, s, id); last == want {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("instance %d is %s, want %s", id, last, want)
}

// machine stands in for the real VMs behind the instances: each hook call
// is logged and then waits for the test to let it return, so that the test
// sees the instance while the hook runs.
type machine struct {
	log     chan string
	release chan error
}

func newMachine() *machine {
	return &machine{log: make(chan string, 10), release: make(chan error)}
}

func (m *machine) config() Config {
	return Config{
		OnShutdown: func(label string) error {
			m.log <- "shutdown " + label
			return <-m.release
		},
		OnBoot: func(label, image string, userData []byte) error {
			m.log <- fmt.Sprintf("boot %s %s %q", label, image, userData)
			return <-m.release
		},
	}
}

// next returns the next hook call.
func (m *machine) next(t *testing.T) string {
	t.Helper()
	select {
	case s := <-m.log:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("no hook called")
		return ""
	}
}

// await checks that the next hook call is want.
func (m *machine) await(t *testing.T, want string) {
	t.Helper()
	if got := m.next(t); got != want {
		t.Fatalf("hook %q, want %q", got, want)
	}
}

// during awaits the hook call want and checks that, while it runs (it is
// not released yet), the instance shows status st.
func (m *machine) during(t *testing.T, s *Server, id int, want, st string) {
	t.Helper()
	m.await(t, want)
	if got := status(t, s, id); got != st {
		t.Errorf("during %s: %s, want %s", want, got, st)
	}
}

func setup(t *testing.T, cfg Config) (*Server, int, string) {
	t.Helper()
	s := New(cfg)
	t.Cleanup(s.Close)
	old, next := s.AddImage("tidegate-1"), s.AddImage("tidegate-2")
	id, err := s.AddInstance(Instance{Label: "gw-1", Image: old, IPv4: []string{"192.0.2.10"}, UserData: []byte("site: a"), VLAN: "vlan-1", IPAMAddress: "10.0.1.2/24"})
	if err != nil {
		t.Fatal(err)
	}
	return s, id, next
}

func rebuildBody(image, userData string) map[string]any {
	return map[string]any{"image": image, "root_pass": "0123456789ab", "metadata": map[string]string{"user_data": base64.StdEncoding.EncodeToString([]byte(userData))}}
}

func TestRebuildRunning(t *testing.T) {
	m := newMachine()
	s, id, next := setup(t, m.config())
	p := fmt.Sprintf("/linode/instances/%d", id)

	if code, in := call(t, s, "POST", p+"/rebuild", rebuildBody(next, "site: b")); code != http.StatusOK || in["status"] != "rebuilding" {
		t.Fatalf("rebuild = %d %v", code, in)
	}
	// Shut down first, the instance rebuilding all along.
	m.during(t, s, id, "shutdown gw-1", "rebuilding")
	if code, e := call(t, s, "POST", p+"/shutdown", nil); code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(e), "Linode busy.") {
		t.Errorf("action during the rebuild = %d %v", code, e)
	}
	m.release <- nil
	// Then booted from the new image with the new user data.
	m.during(t, s, id, `boot gw-1 `+next+` "site: b"`, "booting")
	m.release <- nil
	waitStatus(t, s, id, "running")

	var log []string
	for _, c := range s.Calls() {
		if !strings.HasPrefix(c, "GET ") {
			log = append(log, c)
		}
	}
	want := []string{"POST /v4" + p + "/rebuild", "OnShutdown gw-1", "POST /v4" + p + "/shutdown", "OnBoot gw-1"}
	if !slices.Equal(log, want) {
		t.Errorf("calls %q, want %q", log, want)
	}
	in, _ := s.Instance("gw-1")
	if in.Image != next || string(in.UserData) != "site: b" || in.Rebuilds != 1 {
		t.Errorf("instance %+v", in)
	}
}

func TestShutdownThenBoot(t *testing.T) {
	m := newMachine()
	s, id, _ := setup(t, m.config())
	p := fmt.Sprintf("/linode/instances/%d", id)
	in, _ := s.Instance("gw-1")
	if in.VLAN != "vlan-1" || in.IPAMAddress != "10.0.1.2/24" || in.Status != "running" {
		t.Errorf("seeded %+v", in)
	}

	if code, e := call(t, s, "POST", p+"/shutdown", nil); code != http.StatusOK {
		t.Fatalf("shutdown = %d %v", code, e)
	}
	m.during(t, s, id, "shutdown gw-1", "shutting_down")
	m.release <- nil
	waitStatus(t, s, id, "offline")

	// Offline: a shutdown presses no button.
	if code, e := call(t, s, "POST", p+"/shutdown", nil); code != http.StatusOK {
		t.Fatalf("second shutdown = %d %v", code, e)
	}
	waitStatus(t, s, id, "offline")

	// A rebuild of an offline instance shuts nothing down.
	old := in.Image
	if code, e := call(t, s, "POST", p+"/rebuild", map[string]any{"image": old, "root_pass": "0123456789ab", "booted": false}); code != http.StatusOK {
		t.Fatalf("rebuild = %d %v", code, e)
	}
	waitStatus(t, s, id, "offline")

	cfg := s.Instances()[0].Configs[0]["id"]
	if code, e := call(t, s, "POST", p+"/boot", map[string]any{"config_id": cfg}); code != http.StatusOK {
		t.Fatalf("boot = %d %v", code, e)
	}
	// A rebuild without user data leaves none.
	m.await(t, `boot gw-1 `+old+` ""`)
	m.release <- nil
	waitStatus(t, s, id, "running")
	select {
	case h := <-m.log:
		t.Errorf("unexpected hook %q", h)
	default:
	}
}

func TestHookErrors(t *testing.T) {
	boom := errors.New("vm wedged")
	tests := []struct {
		name   string
		action func(t *testing.T, s *Server, p, image string)
		fail   string // the hook call that fails
		want   string // where the instance ends
	}{
		{"shutdown", func(t *testing.T, s *Server, p, _ string) { call(t, s, "POST", p+"/shutdown", nil) },
			"shutdown gw-1", StatusShutdownFailed},
		{"rebuild's shutdown", func(t *testing.T, s *Server, p, image string) {
			call(t, s, "POST", p+"/rebuild", rebuildBody(image, "x"))
		},
			"shutdown gw-1", StatusShutdownFailed},
		{"rebuild's boot", func(t *testing.T, s *Server, p, image string) {
			call(t, s, "POST", p+"/rebuild", rebuildBody(image, "x"))
		},
			"boot gw-1", StatusBootFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMachine()
			s, id, next := setup(t, m.config())
			tt.action(t, s, fmt.Sprintf("/linode/instances/%d", id), next)
			for {
				h := m.next(t)
				if strings.HasPrefix(h, tt.fail) {
					m.release <- boom
					break
				}
				m.release <- nil
			}
			waitStatus(t, s, id, tt.want)
			if calls := s.Calls(); !slices.ContainsFunc(calls, func(c string) bool { return strings.HasSuffix(c, "gw-1 failed: vm wedged") }) {
				t.Errorf("no failure in %q", calls)
			}
			// The action is over: the instance takes another.
			if code, e := call(t, s, "POST", fmt.Sprintf("/linode/instances/%d/rebuild", id), map[string]any{"image": next, "root_pass": "0123456789ab", "booted": false}); code != http.StatusOK {
				t.Errorf("next action = %d %v", code, e)
			}
			go func() { // a running instance's rebuild shuts it down
				for range m.log {
					m.release <- nil
				}
			}()
		})
	}
}

func TestCreateBooted(t *testing.T) {
	m := newMachine()
	s := New(m.config())
	defer s.Close()
	img := s.AddImage("tidegate-1")
	code, in := call(t, s, "POST", "/linode/instances", map[string]any{"region": "us-east", "type": "g6-nanode-1", "label": "gw-2", "image": img,
		"root_pass": "0123456789ab", "metadata": map[string]string{"user_data": base64.StdEncoding.EncodeToString([]byte("site: c"))}})
	if code != http.StatusOK || in["status"] != "provisioning" {
		t.Fatalf("create = %d %v", code, in)
	}
	id := int(in["id"].(float64))
	// Provisioning ends at the next poll, then the boot runs.
	status(t, s, id)
	m.during(t, s, id, `boot gw-2 `+img+` "site: c"`, "booting")
	m.release <- nil
	waitStatus(t, s, id, "running")
}

func TestNoHooks(t *testing.T) {
	// Without hooks a transition ends at the next GET, and actions in
	// between are refused.
	s, id, next := setup(t, Config{})
	p := fmt.Sprintf("/linode/instances/%d", id)
	if code, in := call(t, s, "POST", p+"/rebuild", rebuildBody(next, "y")); code != http.StatusOK || in["status"] != "rebuilding" {
		t.Fatalf("rebuild = %d %v", code, in)
	}
	if code, _ := call(t, s, "POST", p+"/shutdown", nil); code != http.StatusBadRequest {
		t.Errorf("shutdown while rebuilding = %d", code)
	}
	if st := status(t, s, id); st != "running" {
		t.Errorf("after one poll: %s", st)
	}
}
