package api

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trueframe/trueframe/api/store"
	"github.com/trueframe/trueframe/models"
	"github.com/trueframe/trueframe/models/registry"
)

// TestModelRoutes: the registry's versions are listed with the active ones
// marked; only an admin activates; an analysis that starts after an
// activation runs the new version and names it; /metrics follows.
func TestModelRoutes(t *testing.T) {
	reg, err := registry.Open(filepath.Join(t.TempDir(), "models"))
	if err != nil {
		t.Fatal(err)
	}
	s := startService(t, serviceOptions{models: reg})
	analyst, _ := s.newKey(store.RoleAnalyst)
	embedded, weights, err := models.Trained("motion")
	if err != nil {
		t.Fatal(err)
	}

	var list struct {
		Models []ModelVersion    `json:"models"`
		Active map[string]string `json:"active"`
	}
	s.expect(s.do("GET", "/v1/models", analyst, "", nil), 200, &list)
	if list.Active["motion"] != embedded.Version || len(list.Models) < 3 {
		t.Fatalf("list: %+v", list)
	}

	// A child version of motion: the same weights, a new id.
	dir := t.TempDir()
	child := *embedded
	child.Version = "motion-api-child"
	raw, _ := json.Marshal(child)
	os.WriteFile(filepath.Join(dir, child.File), weights, 0o644)
	os.WriteFile(filepath.Join(dir, "card.json"), raw, 0o644)
	if _, err := reg.AddCard(filepath.Join(dir, "card.json"), registry.AddOptions{Parent: embedded.Version}); err != nil {
		t.Fatal(err)
	}
	var mv ModelVersion
	s.expect(s.do("GET", "/v1/models/"+child.Version, analyst, "", nil), 200, &mv)
	if mv.Active || mv.Parent != embedded.Version || mv.Kind != "motion" {
		t.Errorf("child before activation: %+v", mv)
	}
	if code := errorCode(t, s.expect(s.do("POST", "/v1/models/"+child.Version+"/activate", analyst, "", nil), 403, nil)); code != codeForbidden {
		t.Errorf("analyst activating: %s", code)
	}
	if code := errorCode(t, s.expect(s.do("GET", "/v1/models/no-such", analyst, "", nil), 404, nil)); code != codeNotFound {
		t.Errorf("missing version: %s", code)
	}
	if code := errorCode(t, s.expect(s.do("POST", "/v1/models/no-such/activate", s.admin, "", nil), 404, nil)); code != codeNotFound {
		t.Errorf("activating a missing version: %s", code)
	}

	motionOf := func() string {
		t.Helper()
		var a Analysis
		s.expect(s.upload(analyst, "?wait=120", "clip.mpg", gridClip(t, "bbaf2n.mpg"), nil), 200, &a)
		a = s.waitDone(analyst, a.ID)
		var rep struct {
			Models struct {
				Detectors map[string]string `json:"detectors"`
			} `json:"models"`
		}
		if a.Status != store.Done || json.Unmarshal(a.Result, &rep) != nil {
			t.Fatalf("analysis %s: %s %v", a.ID, a.Status, a.Error)
		}
		return rep.Models.Detectors["motion"]
	}
	if got := motionOf(); got != embedded.Version {
		t.Errorf("before activation the analysis ran motion %q, want %q", got, embedded.Version)
	}
	s.expect(s.do("POST", "/v1/models/"+child.Version+"/activate", s.admin, "", nil), 200, &mv)
	if !mv.Active || mv.ID != child.Version {
		t.Errorf("activate answered %+v", mv)
	}
	if got := motionOf(); got != child.Version {
		t.Errorf("after activation the analysis ran motion %q, want %q", got, child.Version)
	}
	resp := s.do("GET", "/metrics", "", "", nil)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `trueframe_model_info{kind="motion",version="motion-api-child"} 1`; !strings.Contains(string(body), want) {
		t.Errorf("/metrics lacks %s", want)
	}

	// A version whose files were damaged cannot be activated.
	os.WriteFile(filepath.Join(reg.Dir(), "versions", embedded.Version, embedded.File), []byte("damaged"), 0o640)
	if code := errorCode(t, s.expect(s.do("POST", "/v1/models/"+embedded.Version+"/activate", s.admin, "", nil), 409, nil)); code != codeModelDamaged {
		t.Errorf("damaged version: %s", code)
	}
}
