// Package chain talks to the ProvenanceRegistry contract (ledger/contracts)
// on any Ethereum JSON-RPC node: the embedded dev node of ledger/devchain or
// an external one (geth, anvil, a provider).
//
// A Client signs with one key and owns that key's nonces: it keeps the next
// nonce under a mutex, so concurrent Register calls from many goroutines get
// distinct, gapless nonces, and it re-reads the node's pending nonce when the
// node says the local one is stale (another process used the key, the node
// restarted). A write returns only once its receipt is found with the
// configured number of confirmations and a successful status; a revert, at
// gas estimation or on chain, comes back as a *RevertError that matches the
// contract's custom error with errors.Is (for example ErrAlreadyRegistered).
//
// Lifecycle:
//
//	c, err := chain.Dial(ctx, cfg)     // or chain.New(ctx, backend, key, opts)
//	                                   // or chain.DialExternal(ctx, e): the contract agreed or remembered
//	defer c.Close()
//	addr, _, err := c.Deploy(ctx)       // once, when cfg.Contract is zero
//	rcpt, err := c.Register(ctx, sha, fp, "ipfs://…")
//	events, next, err := c.Events(ctx, 0) // for a reindex; resume from next
package chain
