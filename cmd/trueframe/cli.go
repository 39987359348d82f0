package main

// How a command line becomes a run: the command table (commands, in
// main.go) names every command; run finds one by its words, gives its flags
// their TRUEFRAME_* environment defaults, parses them wherever they stand
// among the arguments, and either prints its help or runs it. Help and
// shell completion are generated from the same table.
//
// Flags are the standard library's flag package with one small helper for
// interspersed flags (parseInterspersed) rather than cobra or ff: ff v4 is
// not served here (v3 stops at the first argument, like flag), and cobra
// means pflag, which would rewrite every flag set, drop the single-dash
// long flags flag accepts (-json), and bring a dependency to save the ~150
// lines of help and completion this file and completion.go hold.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
)

// A command is one entry of the command table.
type command struct {
	name    string
	args    string // what follows the flags in the usage line, e.g. "FILE..."
	summary string // one line, in the parent's list of commands
	help    string // more for --help, when the summary is not enough
	// flags declares the command's flags on fs and returns what runs the
	// command on the arguments left after them. A group of subcommands
	// has none.
	flags       func(fs *flag.FlagSet) action
	subcommands []*command
	hidden      bool // left out of help and completion
}

// An action runs a command on its arguments once its flags are parsed.
type action func(ctx context.Context, args []string) error

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ error }

// find follows args down the table as far as they name subcommands. It
// returns the command reached, its full name and the remaining arguments.
func find(root *command, args []string) (*command, string, []string) {
	c, path := root, root.name
	for len(args) > 0 {
		sub := c.subcommand(args[0])
		if sub == nil {
			break
		}
		c, path, args = sub, path+" "+sub.name, args[1:]
	}
	return c, path, args
}

func (c *command) subcommand(name string) *command {
	for _, s := range c.subcommands {
		if s.name == name {
			return s
		}
	}
	return nil
}

func (c *command) visible() []*command {
	var out []*command
	for _, s := range c.subcommands {
		if !s.hidden {
			out = append(out, s)
		}
	}
	return out
}

// commandLine is this process's command line, flags and all, as a model
// card or a fit records what made it.
func commandLine() string {
	return strings.Join(append([]string{"trueframe"}, os.Args[1:]...), " ")
}

// commandName is the name of the command whose flags fs holds, as a
// message names it ("models show").
func commandName(fs *flag.FlagSet) string {
	_, name, _ := strings.Cut(fs.Name(), " ")
	return name
}

func isHelpFlag(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" }

// flagSet returns the command's flags and its action.
func (c *command) flagSet(path string) (*flag.FlagSet, action) {
	fs := flag.NewFlagSet(path, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned, and printed once by run
	return fs, c.flags(fs)
}

// execute runs the command that args name.
func execute(ctx context.Context, root *command, args []string) error {
	c, path, args := find(root, args)
	hint := func(err error) error {
		return usageError{fmt.Errorf("%w\nRun '%s --help' for usage.", err, path)}
	}
	if c.flags == nil {
		switch {
		case len(args) > 0 && isHelpFlag(args[0]):
			return printHelp(os.Stdout, c, path)
		case len(args) == 0:
			return hint(fmt.Errorf("missing command: want %s", strings.Join(names(c.visible()), ", ")))
		}
		return hint(fmt.Errorf("unknown command %q: want %s", args[0], strings.Join(names(c.visible()), ", ")))
	}
	fs, act := c.flagSet(path)
	envErr := setFromEnvironment(fs) // first: the command line wins
	args, err := parseInterspersed(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return printHelp(os.Stdout, c, path)
	case envErr != nil:
		return hint(envErr)
	case err != nil:
		return hint(err)
	}
	err = act(ctx, args)
	if ue := (usageError{}); errors.As(err, &ue) {
		return hint(err)
	}
	return err
}

func names(cs []*command) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.name
	}
	return out
}

// parseInterspersed parses flags wherever they stand among the arguments
// (`verify FILE --json`), which the flag package alone does not: it stops
// at the first argument. So: parse, take one argument, parse the rest. A
// "--" ends the flags; what follows it is arguments, even "-x".
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(positional, rest...), nil
		}
		if len(rest) == 0 {
			return positional, nil
		}
		positional, args = append(positional, rest[0]), rest[1:]
	}
}

// envName is the environment variable that holds a flag's default:
// --max-memory reads TRUEFRAME_MAX_MEMORY.
func envName(flagName string) string {
	return "TRUEFRAME_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// setFromEnvironment sets every flag whose TRUEFRAME_* variable is set,
// before the command line is parsed, which then wins. A malformed value
// is an error, not a default silently kept.
func setFromEnvironment(fs *flag.FlagSet) error {
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		name := envName(f.Name)
		v := os.Getenv(name)
		if v == "" {
			return
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			on, err := parseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s=%q (--%s): %w", name, v, f.Name, err))
				return
			}
			v = strconv.FormatBool(on)
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q (--%s): %w", name, v, f.Name, err))
		}
	})
	return errors.Join(errs...)
}

// parseBool reads what strconv.ParseBool reads and on/off, yes/no, the
// spellings people write in environment files.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "on", "yes":
		return true, nil
	case "off", "no":
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, errors.New("want true or false (also 1/0, on/off, yes/no)")
	}
	return b, nil
}

// printHelp writes a command's usage: its synopsis, what it does, and its
// subcommands or its flags.
func printHelp(w io.Writer, c *command, path string) error {
	if c.flags == nil {
		fmt.Fprintf(w, "usage: %s COMMAND ...\n", path)
	} else {
		fmt.Fprintf(w, "usage: %s [flags]%s\n", path, strings.TrimRight(" "+c.args, " "))
	}
	if c.summary != "" {
		fmt.Fprintf(w, "\n%s\n", c.summary)
	}
	if c.help != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.help))
	}
	if c.flags == nil {
		fmt.Fprintf(w, "\ncommands:\n")
		tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
		for _, s := range c.visible() {
			synopsis := s.args
			if s.flags == nil {
				synopsis = strings.Join(names(s.visible()), "|")
			}
			fmt.Fprintf(tw, "  %s %s\t%s\n", s.name, synopsis, s.summary)
		}
		tw.Flush()
		fmt.Fprintf(w, "\nRun '%s COMMAND --help' for a command's flags.\n", path)
		return nil
	}
	fs, _ := c.flagSet(path)
	listed := false
	fs.VisitAll(func(f *flag.Flag) {
		if !listed {
			fmt.Fprintf(w, "\nflags (each also read from TRUEFRAME_<FLAG>, e.g. --%s from %s):\n", f.Name, envName(f.Name))
			listed = true
		}
		kind, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "  --%s", f.Name)
		if kind != "" {
			fmt.Fprintf(w, " %s", kind)
		}
		fmt.Fprintf(w, "\n    \t%s", strings.ReplaceAll(usage, "\n", "\n    \t"))
		switch {
		case f.DefValue == "" || f.DefValue == "0" || f.DefValue == "false" || f.DefValue == "0s":
		case fmt.Sprintf("%T", f.Value) == "*flag.stringValue": // quoted, as flag.PrintDefaults does
			fmt.Fprintf(w, " (default %q)", f.DefValue)
		default:
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
	return nil
}

// helpCommand is `trueframe help [COMMAND...]`.
func helpCommand(root *command) func(*flag.FlagSet) action {
	return func(*flag.FlagSet) action {
		return func(_ context.Context, args []string) error {
			c, path, rest := find(root, args)
			if len(rest) > 0 {
				return usageError{fmt.Errorf("unknown command %q for %s", rest[0], path)}
			}
			return printHelp(os.Stdout, c, path)
		}
	}
}

// interruption is why a command's context was cancelled: a signal.
type interruption struct{ signal syscall.Signal }

func (i interruption) Error() string { return "stopped (" + i.signal.String() + ")" }

// runWithSignals runs a command with SIGINT and SIGTERM cancelling its
// context (so that the service drains and training checkpoints), and the
// signal recorded as the context's cause for the exit status.
func runWithSignals(args []string) int {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(signals)
	go func() {
		select {
		case s := <-signals:
			cancel(interruption{s.(syscall.Signal)})
		case <-ctx.Done():
		}
	}()
	return run(ctx, args)
}

// run runs the command args name and returns the exit status: 0 done, 1
// failed, 2 bad usage, 128+N stopped by signal N (130 Ctrl-C, 143 SIGTERM).
// A command that finishes its work cleanly after a signal (the service,
// draining) exits 0.
func run(ctx context.Context, args []string) int {
	if len(args) > 0 && args[0] == "--version" {
		args = append([]string{"version"}, args[1:]...)
	}
	err := execute(ctx, commands(), args)
	if err == nil {
		return 0
	}
	var stop interruption
	if errors.As(context.Cause(ctx), &stop) {
		if errors.Is(err, context.Canceled) {
			err = stop
		}
		fmt.Fprintln(os.Stderr, "trueframe:", err)
		return 128 + int(stop.signal)
	}
	fmt.Fprintln(os.Stderr, "trueframe:", err)
	if errors.As(err, &usageError{}) {
		return 2
	}
	return 1
}
