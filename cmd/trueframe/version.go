package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"text/tabwriter"

	"github.com/trueframe/trueframe/models"
	"github.com/trueframe/trueframe/models/registry"
)

// cmdVersion prints what this binary is, from the record the Go toolchain
// stamps into every build (module version, VCS revision, commit time,
// uncommitted changes), and the models a scan runs: those embedded in the
// binary and, when the data directory has a model registry, its active ones.
func cmdVersion(fs *flag.FlagSet) action {
	data := fs.String("data", "data", "data `directory` whose model registry's active versions are listed")
	return func(_ context.Context, args []string) error {
		if len(args) > 0 {
			return usageError{errors.New("version takes no arguments")}
		}
		bi, _ := debug.ReadBuildInfo()
		writeBuild(os.Stdout, bi)
		return writeModels(os.Stdout, *data)
	}
}

// buildVersion is the version the service reports (metrics, API, logs).
func buildVersion() string {
	bi, _ := debug.ReadBuildInfo()
	return versionOf(bi)
}

// versionOf names a build: the module version go build stamps (a tag, or a
// pseudo-version from the commit, "+dirty" with uncommitted changes), else
// the VCS revision, else "devel".
func versionOf(bi *debug.BuildInfo) string {
	if bi == nil {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	if rev := buildSetting(bi, "vcs.revision"); rev != "" {
		rev = rev[:min(12, len(rev))]
		if buildSetting(bi, "vcs.modified") == "true" {
			rev += "+dirty"
		}
		return "devel-" + rev
	}
	return "devel"
}

func buildSetting(bi *debug.BuildInfo, key string) string {
	for _, s := range bi.Settings {
		if s.Key == key {
			return s.Value
		}
	}
	return ""
}

func writeBuild(w io.Writer, bi *debug.BuildInfo) {
	fmt.Fprintf(w, "trueframe %s\n", versionOf(bi))
	var rev, committed string
	goVersion := runtime.Version()
	if bi != nil {
		rev, committed, goVersion = buildSetting(bi, "vcs.revision"), buildSetting(bi, "vcs.time"), bi.GoVersion
	}
	switch {
	case rev == "":
		fmt.Fprintln(w, "  revision   unknown (not stamped: built outside a git checkout, in a git worktree, or with -buildvcs=false)")
	case buildSetting(bi, "vcs.modified") == "true":
		fmt.Fprintf(w, "  revision   %s, with uncommitted changes (dirty)\n", rev)
	default:
		fmt.Fprintf(w, "  revision   %s\n", rev)
	}
	if committed != "" {
		fmt.Fprintf(w, "  committed  %s\n", committed)
	}
	fmt.Fprintf(w, "  go         %s %s/%s\n", goVersion, runtime.GOOS, runtime.GOARCH)
}

// writeModels lists the embedded models and the registry's active ones.
func writeModels(w io.Writer, data string) error {
	names, err := models.TrainedNames()
	if err != nil {
		return err
	}
	fusion, err := models.DefaultFusion()
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "models embedded in the binary:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, name := range names {
		card, _, err := models.Trained(name)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "  %s\t%s\n", card.Name, card.Version)
	}
	fmt.Fprintf(tw, "  %s\t%s\n", registry.KindFusion, fusion.Version)
	if err := tw.Flush(); err != nil {
		return err
	}
	reg, err := existingRegistry(data)
	if err != nil || reg == nil {
		return err
	}
	active, err := reg.Active()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "models active in %s (scans run these):\n", reg.Dir())
	kinds := make([]string, 0, len(active))
	for kind := range active {
		kinds = append(kinds, kind)
	}
	slices.Sort(kinds)
	for _, kind := range kinds {
		fmt.Fprintf(tw, "  %s\t%s\n", kind, active[kind])
	}
	return tw.Flush()
}
