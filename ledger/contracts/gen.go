// Package contracts holds the Solidity source of the provenance registry and
// the artifacts compiled from it. The Go bindings are in ledger/registry.
//
// Regenerate with `go generate ./ledger/contracts/...` after
// `npm ci --ignore-scripts` in this directory (which installs the solc pinned
// in package-lock.json); scripts/check-generated does both and fails when the
// committed files differ from the regenerated ones.
package contracts

//go:generate go run ../../internal/tools/solc -src ProvenanceRegistry.sol -version 0.8.37 -evm cancun -optimize-runs 200
//go:generate go tool abigen --v2 --abi ProvenanceRegistry.abi --bin ProvenanceRegistry.bin --pkg registry --type ProvenanceRegistry --out ../registry/registry.go
