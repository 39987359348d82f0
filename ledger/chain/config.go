package chain

import (
	"crypto/ecdsa"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// Options configure a Client. The zero value works for a dev chain: no chain
// id check, no contract yet (Deploy sets it), acknowledgement on the receipt.
type Options struct {
	// ChainID is the chain id the node must report; 0 accepts the node's.
	// Set it for any external node: it is what stops a misconfigured URL
	// from getting transactions signed for another network.
	ChainID uint64
	// Contract is the registry's address; zero until Deploy.
	Contract common.Address
	// Confirmations is how many blocks must be built on top of a
	// transaction's block before it is acknowledged. 0 suits the embedded
	// dev chain (it has no reorgs); use a few on a public network.
	Confirmations uint64
	// PollInterval is how often receipts and the head are polled while
	// waiting (default 5ms; bind.WaitMined's one second would cap a single
	// writer at one registration per second).
	PollInterval time.Duration
	// LogRange is the most blocks one eth_getLogs call covers in Events
	// (default 10000; many providers refuse larger ranges).
	LogRange uint64
	// Durable, when set, is called after a transaction's receipt is found and
	// confirmed and before the write is acknowledged. The embedded chain uses
	// it to flush its database, so that an acknowledged registration
	// survives a kill -9.
	Durable func() error
}

func (o Options) withDefaults() Options {
	if o.PollInterval <= 0 {
		o.PollInterval = 5 * time.Millisecond
	}
	if o.LogRange == 0 {
		o.LogRange = 10000
	}
	return o
}

// Config is everything Dial needs to reach an external node. The command
// line maps its flags and TRUEFRAME_* environment onto it; this package never
// reads either. A mapping in the style of the rest of the CLI:
//
//	--ledger-rpc        TRUEFRAME_LEDGER_RPC           RPCURL
//	--ledger-chain-id   TRUEFRAME_LEDGER_CHAIN_ID      ChainID
//	--ledger-contract   TRUEFRAME_LEDGER_CONTRACT      Contract (empty: Deploy)
//	--ledger-confirmations TRUEFRAME_LEDGER_CONFIRMATIONS Confirmations
//	--ledger-keystore   TRUEFRAME_LEDGER_KEYSTORE      Key.KeystoreFile
//	--ledger-password-file TRUEFRAME_LEDGER_PASSWORD_FILE Key.PasswordFile
//	                    TRUEFRAME_LEDGER_KEY           Key.HexKey (never a flag: argv is public)
type Config struct {
	// RPCURL is the node's JSON-RPC endpoint: http(s)://, ws(s):// or an IPC path.
	RPCURL string
	// Key is where the signing key comes from.
	Key KeyConfig
	Options
}

// KeyConfig names the signing key: an encrypted keystore file (geth's
// "UTC--…" JSON) with its password, or a hex private key. Exactly one of
// KeystoreFile and HexKey must be set. The caller reads the environment;
// Load reads only the files named here.
type KeyConfig struct {
	KeystoreFile string
	Password     string
	// PasswordFile, when set, holds the keystore's password instead of
	// Password (a file keeps it out of argv and the environment). Line
	// breaks at its end are not part of it: editors add one.
	PasswordFile string
	HexKey       string // 64 hex digits, with or without 0x
}

// Load returns the private key, decrypting the keystore file if one is named.
func (k KeyConfig) Load() (*ecdsa.PrivateKey, error) {
	switch {
	case k.KeystoreFile != "" && k.HexKey != "":
		return nil, fmt.Errorf("both a keystore file and a hex key are set: choose one")
	case k.KeystoreFile != "":
		blob, err := os.ReadFile(k.KeystoreFile)
		if err != nil {
			return nil, fmt.Errorf("reading keystore: %w", err)
		}
		password := k.Password
		if k.PasswordFile != "" {
			b, err := os.ReadFile(k.PasswordFile)
			if err != nil {
				return nil, fmt.Errorf("reading the keystore's password: %w", err)
			}
			password = strings.TrimRight(string(b), "\r\n")
		}
		key, err := keystore.DecryptKey(blob, password)
		if err != nil {
			return nil, fmt.Errorf("decrypting keystore %s: %w", k.KeystoreFile, err)
		}
		return key.PrivateKey, nil
	case k.HexKey != "":
		key, err := crypto.HexToECDSA(strings.TrimPrefix(strings.TrimSpace(k.HexKey), "0x"))
		if err != nil {
			// The key itself must never end up in a log line.
			return nil, fmt.Errorf("invalid hex private key: %w", err)
		}
		return key, nil
	}
	return nil, ErrNoKey
}
