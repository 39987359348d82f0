// Command trueframe scans videos for signs of face manipulation.
//
//	trueframe scan [flags] FILE|DIR...   analyse files and print a report
//	trueframe serve                      run the HTTP service
//	trueframe keys create --role R       create an API key (also list, revoke)
//	trueframe bench FILE                 time decoding alone against the full analysis
//	trueframe version                    print the build and the models in use
//
// Every command is an entry of the table in commands; `trueframe help`
// lists them. Settings come from flags, each with a TRUEFRAME_<FLAG>
// environment variable as its default (TRUEFRAME_DEPS, TRUEFRAME_MAX_MEMORY, ...).
package main

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/trueframe/trueframe/detectors/facecnn"
	"github.com/trueframe/trueframe/detectors/motion"
)

func main() {
	os.Exit(runWithSignals(os.Args[1:]))
}

// commands is the command table: run, help and shell completion read it.
func commands() *command {
	root := &command{name: "trueframe", summary: "Deepfake detection and media provenance.", subcommands: []*command{
		{name: "scan", args: "FILE|DIR...", summary: "analyse videos for face manipulation", help: scanHelp, flags: cmdScan},
		{name: "serve", summary: "run the HTTP service", flags: cmdServe},
		{name: "keys", summary: "manage API keys (also while the service runs)", subcommands: []*command{
			{name: "create", summary: "create an API key and print it (shown only once)", flags: cmdKeysCreate},
			{name: "list", summary: "list the API keys", flags: cmdKeysList},
			{name: "revoke", args: "ID", summary: "revoke an API key", flags: cmdKeysRevoke},
		}},
		{name: "migrate", summary: "bring the database's schema up to date (serve does too)", help: migrateHelp, flags: cmdMigrate},
		{name: "register", args: "FILE...", summary: "register originals on the provenance ledger", flags: cmdRegister},
		{name: "verify", args: "FILE...", summary: "check files against the registered originals", flags: cmdVerify},
		{name: "ledger", summary: "the provenance ledger", subcommands: []*command{
			{name: "status", summary: "the chain, the account and the index", flags: cmdLedgerStatus},
			{name: "reindex", summary: "rebuild the index from the chain's events", flags: cmdLedgerReindex},
			{name: "revoke", args: "SHA256", summary: "revoke a registered original (--reason required)", flags: cmdLedgerRevoke},
			{name: "add-registrar", args: "ADDRESS", summary: "let another account register (the contract owner's key; one per API node)", flags: cmdLedgerAddRegistrar},
			{name: "bench", summary: "measure the ledger on a fresh embedded chain", flags: cmdLedgerBench},
		}},
		{name: "eval", args: "[SOURCE]", summary: "measure detection on labelled clips", help: evalHelp, flags: cmdEval},
		{name: "detectors", summary: "train the learned detectors", subcommands: []*command{
			{name: "crops", args: "SOURCE...", summary: "aligned face crops for training", help: cropsHelp, flags: cmdDetectorsCrops},
			{name: "sequences", args: "SOURCE...", summary: "face-track measurements for the motion detector", help: sequencesHelp, flags: cmdDetectorsSequences},
			{name: "score-motion", args: "[CARD...]", summary: "motion networks scored on recorded sequences, in seconds", help: scoreMotionHelp, flags: cmdDetectorsScoreMotion},
			{name: "train", summary: "train a detector's model or the fusion", subcommands: []*command{
				{name: facecnn.Name, summary: "the frame-level network, on crops and self-blends of them (--crops FILE --out DIR)", flags: cmdTrainFaceCNN},
				{name: "fusion", args: "[SOURCE...]", summary: "fit the fusion to labelled clips", help: trainFusionHelp, flags: cmdTrainFusion},
				{name: motion.Name, summary: "the temporal landmark network, on face-track sequences (--sequences FILE --out DIR)", flags: cmdTrainMotion},
			}},
		}},
		{name: "models", summary: "model versions and the active ones (the registry in DATA/models)", help: modelsHelp, subcommands: []*command{
			{name: "list", summary: "every model version, the active ones marked", flags: cmdModelsList},
			{name: "show", args: "ID", summary: "one version's entry (JSON)", flags: cmdModelsShow},
			{name: "activate", args: "ID", summary: "scans started afterwards run it", flags: cmdModelsActivate},
			{name: "add", args: "FILE", summary: "add a detector's model card or a fusion model", flags: cmdModelsAdd},
			{name: "promote", args: "FILE [SOURCE]", summary: "add a version only if it is no worse than its parent", help: promoteHelp, flags: cmdModelsPromote},
			{name: "verify", summary: "recheck every version's files against their hashes", flags: cmdModelsVerify},
		}},
		{name: "bench", args: "FILE", summary: "decode-only against full-analysis speed", flags: cmdBench},
		{name: "generate", summary: "face-swap generator: training material for the detectors", subcommands: []*command{
			{name: "extract", args: "VIDEO|IMAGE|DIR...", summary: "aligned face crops and faceset.json (--out DIR)", flags: cmdGenerateExtract},
			{name: "train", summary: "train the autoencoder pair (--a DIR --b DIR --out MODELDIR; resumes)", flags: cmdGenerateTrain},
			{name: "swap", summary: "swap the face of a video (--model MODELDIR --target VIDEO --out FAKE.mp4)", flags: cmdGenerateSwap},
			{name: "dataset", summary: "labelled fakes and manifest.json (--real DIR --out DIR)", flags: cmdGenerateDataset},
		}},
		{name: "version", summary: "the build and the models in use", flags: cmdVersion},
		{name: isolateCommand, hidden: true, flags: cmdIsolate},
		{name: "worker", summary: "a worker node: analyses jobs from a shared database (--database, --blobs)", help: workerHelp, flags: cmdWorkerNode},
	}}
	root.subcommands = append(root.subcommands,
		&command{name: "completion", args: "bash|zsh", summary: "print a shell completion script", help: completionHelp, flags: completionCommand(root)},
		&command{name: "help", args: "[COMMAND...]", summary: "show a command's usage", flags: helpCommand(root)})
	return root
}

// envOr reads a setting that is not a flag's (a flag reads its
// TRUEFRAME_<FLAG> variable by itself: see setFromEnvironment).
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

const depsUsage = "`directory` with the installed models and ONNX Runtime (default: deps beside the binary's directory, or ./deps)"

// depsDir finds the directory scripts/setup installed the ONNX Runtime
// library and the models into: $TRUEFRAME_DEPS, else deps/ beside the
// binary's directory (bin/../deps), else ./deps.
func depsDir(flagValue string) (string, error) {
	if flagValue != "" {
		// Absolute, because child processes may run elsewhere.
		return filepath.Abs(flagValue)
	}
	var candidates []string
	if exe, err := os.Executable(); err == nil {
		candidates = append(candidates, filepath.Join(filepath.Dir(exe), "..", "deps"))
	}
	candidates = append(candidates, "deps")
	for _, c := range candidates {
		if _, err := os.Stat(filepath.Join(c, "models")); err == nil {
			return filepath.Abs(c)
		}
	}
	return "", errors.New("models not installed: run scripts/setup (or set TRUEFRAME_DEPS)")
}
