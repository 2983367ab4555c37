package ssm

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// keySize is the size of the AES-256 key that encrypts SecureString values.
const keySize = 32

// sealer encrypts SecureString values with AES-256-GCM. A sealed value is the random nonce
// followed by the ciphertext and tag; the parameter's name is authenticated with it, so a value
// moved to another parameter does not open.
type sealer struct {
	aead cipher.AEAD
}

// openSealer returns the sealer of the state directory dir, whose key is the file keyFile in it,
// created on first use. With dir empty the key is random and lives in memory only.
func openSealer(dir string) (*sealer, error) {
	var key []byte
	if dir == "" {
		key = make([]byte, keySize)
		rand.Read(key)
	} else {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("state directory: %w", err)
		}
		var err error
		if key, err = loadOrCreateKey(filepath.Join(dir, keyFile)); err != nil {
			return nil, err
		}
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

// loadOrCreateKey reads the key at path, creating it if it does not exist. Several processes may
// race to create it: each writes a complete candidate to a temporary file and links it to path,
// which succeeds for exactly one of them, so every process ends up reading the same whole key.
func loadOrCreateKey(path string) ([]byte, error) {
	if key, err := readKey(path); !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("encryption key: %w", err)
	}
	defer os.Remove(tmp.Name())
	key := make([]byte, keySize)
	rand.Read(key)
	_, err = tmp.Write(key)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("encryption key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("encryption key: %w", err)
	}
	return readKey(path)
}

func readKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("encryption key: %w", err)
	}
	if len(key) != keySize {
		return nil, fmt.Errorf("encryption key %s: %d bytes, want %d", path, len(key), keySize)
	}
	return key, nil
}

// seal encrypts plaintext for the parameter whose key is name.
func (s *sealer) seal(name, plaintext string) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, []byte(plaintext), []byte(name))
}

// open decrypts what seal returned for the parameter whose key is name.
func (s *sealer) open(name string, sealed []byte) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return "", fmt.Errorf("SecureString %s: ciphertext too short", name)
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(name))
	if err != nil {
		return "", fmt.Errorf("SecureString %s: %w (was the state directory's %s replaced?)", name, err, keyFile)
	}
	return string(plain), nil
}
