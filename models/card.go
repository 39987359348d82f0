package models

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

//go:embed trained
var trainedFS embed.FS

// Card describes a model the project trained: what it is, how it was made,
// on what, and how well it does. It sits beside the model file as
// <name>.json.
type Card struct {
	Name    string    `json:"name"`
	Version string    `json:"version"`
	File    string    `json:"file"`
	SHA256  string    `json:"sha256"`
	Created time.Time `json:"created"`
	Seed    uint64    `json:"seed"`
	// Command is the command line that made the model.
	Command string `json:"command"`
	Input   string `json:"input"`
	Output  string `json:"output"`
	// Config is the architecture, as the trainer reads it.
	Config json.RawMessage `json:"config"`
	// Data lists every source of training material and what it gave.
	Data []CardSource `json:"data"`
	// Parent is the registered version the model was fine-tuned from
	// (trueframe detectors train --from); empty for one trained from
	// scratch.
	Parent string `json:"parent,omitempty"`
	// Sets are the prepared training sets (crop or sequence set files)
	// the model was trained on, with their hashes: what a child fine-tuned
	// from it trains on again. Cards without them record their data only
	// as Data's descriptions.
	Sets []CardSet `json:"sets,omitempty"`
	// ParentDataMissing lists the parent's training data that was not
	// found and was trained without (--skip-missing-parent-data).
	ParentDataMissing []string `json:"parent_data_missing,omitempty"`
	// Generator is the face-swap generator model whose swaps were among
	// the fakes (--generator-model).
	Generator *CardGenerator `json:"generator,omitempty"`
	// Training holds the training figures (steps, loss, time, validation).
	Training json.RawMessage `json:"training"`
	// Eval holds figures measured after training with trueframe eval, with
	// the commands that produced them.
	Eval json.RawMessage `json:"eval,omitempty"`
	// Notes say what the model is weak at.
	Notes string `json:"notes,omitempty"`
}

// CardSource is one source of training material.
type CardSource struct {
	Spec    string `json:"spec"`
	Items   int    `json:"items"`
	Licence string `json:"licence,omitempty"`
	// Origin is that of the set it came in (CardSet.Origin), when the
	// card records sets.
	Origin string `json:"origin,omitempty"`
}

// Origins of a CardSet.
const (
	SetNew       = "new"       // given to the command that trained the model
	SetParent    = "parent"    // inherited from the parent version
	SetGenerator = "generator" // made by the command from a generator's swaps
)

// CardSet is one prepared training set file.
type CardSet struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Items  int    `json:"items"`
	// Origin is SetNew, SetParent or SetGenerator.
	Origin string `json:"origin"`
}

// CardGenerator identifies a generator model directory by its id and the
// hashes of the files a swap reads.
type CardGenerator struct {
	Dir string `json:"dir"`
	ID  string `json:"id"`
	// SHA256 is the hash of the sorted "name hash" lines of Files.
	SHA256 string            `json:"sha256"`
	Files  map[string]string `json:"files"`
	// Real is the folder of real clips the swaps were made over, and
	// Swaps how many were made.
	Real  string `json:"real"`
	Swaps int    `json:"swaps"`
}

// ErrNoTrainedModel is returned when the binary embeds no model of a name.
var ErrNoTrainedModel = errors.New("models: no trained model of that name embedded")

// Trained returns the embedded model called name and its card, checking the
// file against the card's SHA-256.
func Trained(name string) (*Card, []byte, error) {
	raw, err := trainedFS.ReadFile("trained/" + name + ".json")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("%w: %q", ErrNoTrainedModel, name)
	}
	if err != nil {
		return nil, nil, err
	}
	var c Card
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, nil, &FormatError{What: "model card " + name, Err: err}
	}
	data, err := trainedFS.ReadFile("trained/" + c.File)
	if err != nil {
		return nil, nil, fmt.Errorf("models: %s: %w", name, err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != c.SHA256 {
		return nil, nil, fmt.Errorf("models: %s: %w", c.File, ErrChecksum)
	}
	return &c, data, nil
}

// LoadCard reads a model card file and the model file it names (beside
// it), checking the file against the card's SHA-256: a model being
// evaluated before it is embedded.
func LoadCard(path string) (*Card, []byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var c Card
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, nil, &FormatError{What: "model card " + path, Err: err}
	}
	if c.File == "" || filepath.Base(c.File) != c.File {
		return nil, nil, &FormatError{What: "model card " + path, Err: fmt.Errorf("file %q is not a plain file name", c.File)}
	}
	data, err := os.ReadFile(filepath.Join(filepath.Dir(path), c.File))
	if err != nil {
		return nil, nil, err
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != c.SHA256 {
		return nil, nil, fmt.Errorf("models: %s: %w", c.File, ErrChecksum)
	}
	return &c, data, nil
}

// TrainedNames lists the learned models embedded in the binary, by name.
func TrainedNames() ([]string, error) {
	ents, err := fs.ReadDir(trainedFS, "trained")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".json"); ok && !e.IsDir() {
			names = append(names, n)
		}
	}
	return names, nil
}

// WriteTrained writes a trained model into dir as <name>.onnx with its card
// <name>.json beside it (the layout LoadCard reads), filling the card's
// File and SHA256, and returns the card's path.
func WriteTrained(dir string, card *Card, model []byte) (string, error) {
	if card.Name == "" || filepath.Base(card.Name) != card.Name {
		return "", fmt.Errorf("models: model name %q is not a plain file name", card.Name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	sum := sha256.Sum256(model)
	card.File, card.SHA256 = card.Name+".onnx", hex.EncodeToString(sum[:])
	raw, err := json.MarshalIndent(card, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, card.File), model, 0o644); err != nil {
		return "", err
	}
	path := filepath.Join(dir, card.Name+".json")
	return path, os.WriteFile(path, append(raw, '\n'), 0o644)
}
