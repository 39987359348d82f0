package main

import (
	"testing"
)

// The generator's children read untrusted videos: they inherited the
// service's whole environment, the ledger's signing key included (issue
// 15, finding 7).
func TestGeneratorChildEnvironment(t *testing.T) {
	t.Setenv("TRUEFRAME_LEDGER_KEY", "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")
	t.Setenv("TRUEFRAME_LEDGER_RPC", "https://node.example/v3/SECRETAPIKEY")
	g := generatorJobs{exe: "/bin/sh", deps: "/opt/trueframe/deps"}
	script := `for v in TRUEFRAME_LEDGER_KEY TRUEFRAME_LEDGER_RPC; do
		if env | grep -q "^$v="; then echo "the child has $v"; exit 1; fi
	done
	[ "$TRUEFRAME_DEPS" = /opt/trueframe/deps ] || { echo "TRUEFRAME_DEPS is $TRUEFRAME_DEPS"; exit 1; }
	[ -n "$PATH" ] || { echo "no PATH"; exit 1; }`
	if err := g.run(t.Context(), t.TempDir(), []string{"-c", script}, nil); err != nil {
		t.Error(err)
	}
}
