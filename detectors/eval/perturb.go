package eval

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Perturbation is a re-encoding a platform applies to uploads. Published
// detectors lose much of their accuracy on such copies, so eval repeats its
// figures on them.
type Perturbation struct {
	Name string // short, used in file names: "crf35", "half"
	Desc string
	// args are the ffmpeg output options.
	args []string
}

// Perturbations are the copies --perturb scores: H.264 at CRF 35 (a
// heavily compressed upload) and half the resolution (at CRF 23, the
// encoder's default quality).
func Perturbations() []Perturbation {
	return []Perturbation{
		{Name: "crf35", Desc: "H.264 CRF 35", args: []string{"-c:v", "libx264", "-preset", "veryfast", "-crf", "35"}},
		{Name: "half", Desc: "half resolution, H.264 CRF 23", args: []string{"-vf", "scale=trunc(iw/4)*2:trunc(ih/4)*2", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23"}},
	}
}

// ErrNoFFmpeg is returned when the ffmpeg program is not installed
// (scripts/setup installs Debian's).
var ErrNoFFmpeg = errors.New("eval: ffmpeg not found on PATH (scripts/setup installs it)")

// Apply writes dst, a copy of src changed by p, unless dst exists already.
// The copy is written to a temporary name and renamed, so an interrupted
// run never leaves a half-written copy that a later run would reuse.
func (p Perturbation) Apply(ctx context.Context, src, dst string) error {
	if _, err := os.Stat(dst); err == nil {
		return nil
	}
	bin, err := exec.LookPath("ffmpeg")
	if err != nil {
		return ErrNoFFmpeg
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp := dst + ".part.mp4"
	args := append([]string{"-nostdin", "-y", "-loglevel", "error", "-i", src, "-an", "-pix_fmt", "yuv420p"}, p.args...)
	args = append(args, tmp)
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("eval: %s of %s: %v: %s", p.Name, src, err, strings.TrimSpace(stderr.String()))
	}
	return os.Rename(tmp, dst)
}
