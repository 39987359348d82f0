// Package isolate runs work on untrusted media in child processes, so that
// an OpenCV abort, a segfault or an out-of-memory kill ends that work with
// an error instead of the caller. Every such child starts here, with one
// starter (its own process group, killed with its parent, a minimal
// environment) and one account of how it died (*CrashError).
//
// Two kinds of children:
//
//   - Workers (Run, Pool, Serve): the same binary, started with a worker
//     subcommand, serving requests of the kinds its Mux knows (KindScan,
//     KindFingerprint). The parent writes one JSON envelope per request on
//     the child's stdin: the request's Kind and the request itself, whose
//     type belongs to the package doing the work (scan.Request,
//     ledger.FingerprintRequest). The child answers on file descriptor 3 —
//     not stdout, which C libraries may write to — with newline-delimited
//     JSON messages: any number of progress messages, then exactly one
//     result or error.
//   - Commands (RunCommand): a long-running command of the binary (a
//     generator or training job's step, KindGenerate), which reports
//     through files and its exit status.
//
// A failure the child reports itself is an *Error that says which kind of
// work failed, with a code from the caller's Codes; its output's tail (the
// last few KiB of stdout and stderr) explains a crash.
package isolate
