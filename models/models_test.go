package models

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultManifestValid(t *testing.T) {
	m, err := DefaultManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"blazeface_front", "blazeface_back", "face_mesh", "iris", "ultraface"} {
		md, err := m.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		if !md.Required || (md.URL == "" && md.NPM == "") {
			t.Errorf("%s: required models need an upstream source", name)
		}
	}
	if _, err := m.Lookup("nope"); !errors.Is(err, ErrUnknownModel) {
		t.Errorf("Lookup(nope) = %v, want ErrUnknownModel", err)
	}
}

func TestParseManifestRejects(t *testing.T) {
	good := `{"schema":1,"runtime":{"file":"lib.so","sha256":"` + strings.Repeat("a", 64) + `"},"models":[%s]}`
	sha := strings.Repeat("b", 64)
	for name, tc := range map[string]struct{ json, want string }{
		"not json":      {`{`, "unexpected end"},
		"schema":        {`{"schema":2}`, "unsupported schema"},
		"bad sha":       {strings.Replace(good, "%s", `{"name":"a","file":"a.onnx","sha256":"xyz","licence":"MIT"}`, 1), "bad sha256"},
		"path in file":  {strings.Replace(good, "%s", `{"name":"a","file":"../a.onnx","sha256":"`+sha+`","licence":"MIT"}`, 1), "bad file name"},
		"duplicate":     {strings.Replace(good, "%s", `{"name":"a","file":"a.onnx","sha256":"`+sha+`","licence":"MIT"},{"name":"a","file":"b.onnx","sha256":"`+sha+`","licence":"MIT"}`, 1), "duplicate"},
		"no licence":    {strings.Replace(good, "%s", `{"name":"a","file":"a.onnx","sha256":"`+sha+`"}`, 1), "no licence"},
		"npm no member": {strings.Replace(good, "%s", `{"name":"a","file":"a.onnx","sha256":"`+sha+`","licence":"MIT","npm":"x@1"}`, 1), "path_in_tarball"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseManifest([]byte(tc.json))
			var fe *FormatError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want FormatError containing %q", err, tc.want)
			}
		})
	}
}

func TestInstallFromMirrorVerifiesChecksums(t *testing.T) {
	mirror, deps := t.TempDir(), t.TempDir()
	content := []byte("model bytes")
	// Not the sha256 of content: the first install must refuse the file.
	const sum = "2c9d3a5c7a3e0b8a0b6a7a6f7c1b0c5b0b1b7b3f2c5f1d8e0a2b4c6d8e0f2a4b"
	if err := os.WriteFile(filepath.Join(mirror, "m.onnx"), content, 0o644); err != nil {
		t.Fatal(err)
	}
	m := &Manifest{Schema: 1, Models: []Model{{Name: "m", File: "m.onnx", SHA256: sum, Licence: "MIT", Required: true}}}
	err := m.installModel(t.Context(), m.Models[0], filepath.Join(deps, "m.onnx"), InstallOptions{Mirror: mirror}, io.Discard)
	if err == nil {
		t.Fatal("installing a mirror file with the wrong checksum succeeded")
	}
	if _, statErr := os.Stat(filepath.Join(deps, "m.onnx")); !os.IsNotExist(statErr) {
		t.Fatalf("a file with a bad checksum was left in place: %v", statErr)
	}
	real, err := FileSHA256(filepath.Join(mirror, "m.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	m.Models[0].SHA256 = real
	if err := m.installModel(t.Context(), m.Models[0], filepath.Join(deps, "m.onnx"), InstallOptions{Mirror: mirror}, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := checkFile(filepath.Join(deps, "m.onnx"), real); err != nil {
		t.Fatal(err)
	}
}

func TestDefaultFusionValid(t *testing.T) {
	f, err := DefaultFusion()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"blink", "skin_tone", "edges"} {
		if f.Detectors[name].Weight <= 0 {
			t.Errorf("detector %s has no weight", name)
		}
	}
}

func TestParseFusionRejects(t *testing.T) {
	for name, js := range map[string]string{
		"thresholds reversed": `{"version":"x","score_clip":0.02,"detectors":{"a":{"weight":1}},"verdict":{"authentic_below":0.8,"manipulated_from":0.3}}`,
		"negative weight":     `{"version":"x","score_clip":0.02,"detectors":{"a":{"weight":-1}},"verdict":{"authentic_below":0.3,"manipulated_from":0.7}}`,
		"no detectors":        `{"version":"x","score_clip":0.02,"detectors":{},"verdict":{"authentic_below":0.3,"manipulated_from":0.7}}`,
		"bad clip":            `{"version":"x","score_clip":0.7,"detectors":{"a":{"weight":1}},"verdict":{"authentic_below":0.3,"manipulated_from":0.7}}`,
		"truncated":           `{"version":`,
	} {
		if _, err := ParseFusion([]byte(js)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParseManifest(f *testing.F) {
	f.Add(manifestJSON)
	f.Add([]byte(`{"schema":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err == nil && m.Schema != 1 {
			t.Fatalf("accepted schema %d", m.Schema)
		}
	})
}

func FuzzParseFusion(f *testing.F) {
	f.Add(fusionJSON)
	f.Fuzz(func(t *testing.T, data []byte) {
		fu, err := ParseFusion(data)
		if err == nil && fu.Verdict.AuthenticBelow > fu.Verdict.ManipulatedFrom {
			t.Fatal("accepted reversed thresholds")
		}
	})
}

// With downloads disabled, a model only npm or upstream can supply fails
// with a clear error instead of reaching for the network.
func TestInstallOfflineNeverFetches(t *testing.T) {
	t.Setenv("PATH", "") // an npm call would fail differently
	sha := strings.Repeat("c", 64)
	m := &Manifest{Schema: 1, Models: []Model{
		{Name: "n", File: "n.onnx", SHA256: sha, Licence: "MIT", Required: true, NPM: "pkg@1.0.0", NPMTarballSHA256: sha, PathInTarball: "package/n.onnx"},
		{Name: "u", File: "u.onnx", SHA256: sha, Licence: "MIT", Required: true, URL: "http://127.0.0.1:1/u.onnx"},
	}}
	dir := t.TempDir()
	for _, md := range m.Models {
		err := m.installModel(t.Context(), md, filepath.Join(dir, md.File), InstallOptions{CacheDir: dir}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "downloads disabled") {
			t.Errorf("%s: err = %v, want downloads disabled", md.Name, err)
		}
	}
}

func TestWriteTrainedLoadsBack(t *testing.T) {
	dir := t.TempDir()
	card := &Card{Name: "tiny", Version: "tiny-1", Seed: 7}
	model := []byte("not really onnx, but bytes")
	path, err := WriteTrained(dir, card, model)
	if err != nil {
		t.Fatal(err)
	}
	got, data, err := LoadCard(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != "tiny-1" || got.File != "tiny.onnx" || string(data) != string(model) {
		t.Errorf("loaded %+v, %q", got, data)
	}
	if _, err := WriteTrained(dir, &Card{Name: "../x"}, model); err == nil {
		t.Error("a name with a path was written")
	}
}
