package devchain

import (
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/google/uuid"
)

// loadOrCreateKey returns the chain's key from ksDir, generating and storing
// it (encrypted, with geth's keystore format) when the directory is empty and
// the chain is new. The password is the given one, else the stored one,
// else a new random one that is stored.
func loadOrCreateKey(ksDir, dir, password string, existing bool) (*ecdsa.PrivateKey, error) {
	files, err := filepath.Glob(filepath.Join(ksDir, "UTC--*"))
	if err != nil {
		return nil, fmt.Errorf("devchain: %w", err)
	}
	if len(files) > 1 {
		return nil, fmt.Errorf("%w: %d keys in %s, want one", ErrCorrupt, len(files), ksDir)
	}
	if password == "" {
		b, err := os.ReadFile(filepath.Join(dir, passwordFile))
		switch {
		case err == nil:
			password = strings.TrimRight(string(b), "\r\n")
		case !errors.Is(err, os.ErrNotExist):
			return nil, fmt.Errorf("devchain: %w", err)
		case len(files) > 0:
			return nil, fmt.Errorf("%w: keystore present but no password given and no %s", ErrCorrupt, passwordFile)
		default:
			if password, err = randomPassword(); err != nil {
				return nil, err
			}
			if err := writeFileAtomic(dir, passwordFile, []byte(password+"\n"), 0o600); err != nil {
				return nil, fmt.Errorf("devchain: writing %s: %w", passwordFile, err)
			}
		}
	}
	if len(files) == 1 {
		blob, err := os.ReadFile(files[0])
		if err != nil {
			return nil, fmt.Errorf("devchain: %w", err)
		}
		k, err := keystore.DecryptKey(blob, password)
		if err != nil {
			return nil, fmt.Errorf("devchain: decrypting %s: %w", files[0], err)
		}
		return k.PrivateKey, nil
	}
	if existing {
		return nil, fmt.Errorf("%w: the chain exists but its key is missing from %s", ErrCorrupt, ksDir)
	}
	priv, err := crypto.GenerateKey()
	if err != nil {
		return nil, err
	}
	id, err := uuid.NewRandom()
	if err != nil {
		return nil, err
	}
	k := &keystore.Key{Id: id, Address: crypto.PubkeyToAddress(priv.PublicKey), PrivateKey: priv}
	// The light scrypt parameters (as geth --dev uses) keep Open fast; the
	// key guards a local dev chain, not funds.
	blob, err := keystore.EncryptKey(k, password, keystore.LightScryptN, keystore.LightScryptP)
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("UTC--devchain--%s", hex.EncodeToString(k.Address[:]))
	if err := writeFileAtomic(ksDir, name, blob, 0o600); err != nil {
		return nil, fmt.Errorf("devchain: writing key: %w", err)
	}
	return priv, nil
}

func randomPassword() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
