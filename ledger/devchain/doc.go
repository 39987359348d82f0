// Package devchain runs the embedded, in-process Ethereum dev node that the
// ledger uses by default: go-ethereum's node + eth service with a simulated
// beacon that seals a block as soon as a transaction arrives, keeping its
// chain in a data directory that outlives the process.
//
// The first Open of an empty directory generates the signing key (stored
// encrypted in <dir>/keystore), writes a genesis that pre-funds it, deploys
// the ProvenanceRegistry and saves the chain id and contract address in
// <dir>/devchain.json. Later Opens find all of that again.
//
// Settings that were measured, not guessed (see the tests):
//   - the state is stored with the HASH scheme in ARCHIVE mode (no pruning):
//     with path-based state or pruning, geth keeps recent state in memory and
//     a kill -9 loses the chain's recent history on restart;
//   - writes are acknowledged only after the database's write-ahead log is
//     synced (chain.Options.Durable): geth writes to pebble without fsync;
//   - the fork rules are pinned to Osaka in the genesis: geth's dev defaults
//     also enable unreleased forks, whose gas schedule differs, and would
//     change under us with a geth upgrade;
//   - no peer-to-peer networking at all, no IPC, HTTP only when asked.
package devchain
