package isolate

import (
	"context"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// CommandOptions configure RunCommand.
type CommandOptions struct {
	Executable string
	Args       []string
	Dir        string   // the child's working directory
	Env        []string // environment added to the little the child inherits (see ChildEnv)
	// Kind and Code make the *Error of a clean failure.
	Kind Kind
	Code string
	// Poll, when set, is called every second while the child runs and once
	// after it ended: a command reports its progress through files.
	Poll func()
	// Grace is how long the child has to end after SIGINT, when ctx ends,
	// before SIGKILL (default 2 minutes: a training checkpoints and exports
	// on SIGINT).
	Grace time.Duration
}

// RunCommand runs a command child to its end: a long-running job's step,
// which says why it failed on its output and exits with status 1, or dies.
// A clean failure is an *Error of opts.Kind and opts.Code with the last
// lines of the child's output: another try would fail the same way. Any
// other unsuccessful end is a *CrashError. On ctx's end the child gets
// SIGINT, then SIGKILL if it has not ended after opts.Grace, and RunCommand
// returns ctx.Err().
func RunCommand(ctx context.Context, opts CommandOptions) error {
	cmd := exec.Command(opts.Executable, opts.Args...)
	cmd.Dir = opts.Dir
	cmd.Env = ChildEnv(opts.Env...)
	out := newTail(4 << 10)
	cmd.Stdout, cmd.Stderr = out, out
	if err := startChild(cmd); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	poll := opts.Poll
	if poll == nil {
		poll = func() {}
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			poll()
			ps := cmd.ProcessState
			switch {
			case err == nil:
				return nil
			case ps == nil: // it never ran to an end: the error says why
				return err
			case ps.ExitCode() == 1:
				return &Error{Kind: opts.Kind, Code: opts.Code, Message: lastLines(out.String(), 3)}
			}
			return crashOf(opts.Kind, ps, out)
		case <-tick.C:
			poll()
		case <-ctx.Done():
			syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
			grace := opts.Grace
			if grace <= 0 {
				grace = 2 * time.Minute
			}
			timer := time.NewTimer(grace)
			defer timer.Stop()
			select {
			case <-done:
			case <-timer.C:
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-done
			}
			return ctx.Err()
		}
	}
}

// lastLines joins the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
