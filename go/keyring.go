package memberlist

/*
#include "bridge.h"
*/
import "C"

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// Keyring holds the AES keys used to encrypt gossip: the first is the primary (used to
// encrypt), all are tried to decrypt. Once a Memberlist uses it (Config.Keyring, or the keyring
// Create builds from Config.SecretKey) the Keyring is live: a key added, used or removed takes
// effect on the running node at once.
//
// The keys live in libmemberlist (a C keyring handle); the zero value is an empty keyring.
// Its methods work from inside any delegate, also of the memberlist that uses it: they act on
// that node's live keyring.
type Keyring struct {
	mu sync.Mutex
	c  *C.ml_keyring_t // nil until a key is added or a Memberlist shares the keyring
}

// NewKeyring builds a keyring from keys plus primaryKey, which is installed first and becomes
// the primary. Both may be empty (an empty keyring); keys without a primary is an error.
func NewKeyring(keys [][]byte, primaryKey []byte) (*Keyring, error) {
	k := &Keyring{}
	if len(keys) > 0 || len(primaryKey) > 0 {
		if len(primaryKey) == 0 {
			return nil, fmt.Errorf("empty primary key not allowed")
		}
		if err := k.AddKey(primaryKey); err != nil {
			return nil, err
		}
		for _, key := range keys {
			if err := k.AddKey(key); err != nil {
				return nil, err
			}
		}
	}
	return k, nil
}

// ValidateKey checks that key is 16, 24 or 32 bytes long (AES-128, -192 or -256).
func ValidateKey(key []byte) error {
	if l := len(key); l != 16 && l != 24 && l != 32 {
		return fmt.Errorf("key size must be 16, 24 or 32 bytes")
	}
	return nil
}

func freeCKeyring(k *Keyring) {
	if k.c != nil {
		C.ml_keyring_destroy(k.c)
		k.c = nil
	}
}

// shared returns the C keyring, creating an empty one if there is none yet: AddKey adds to it,
// and a Memberlist shares it, so keys added to an empty Keyring after Create reach the node and
// turn encryption on, as in memberlist. nil only if libmemberlist cannot allocate one.
func (k *Keyring) shared() *C.ml_keyring_t {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.c == nil {
		var c *C.ml_keyring_t
		if C.ml_keyring_create(&c, nil, 0) != C.ML_OK {
			return nil
		}
		k.c = c
		// A Keyring has no Close in memberlist's API: the C reference is released with the Go
		// object. (A memberlist using the keyring holds its own reference.)
		runtime.SetFinalizer(k, freeCKeyring)
	}
	return k.c
}

// handle returns the C keyring, nil while the keyring is empty.
func (k *Keyring) handle() *C.ml_keyring_t {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.c
}

// AddKey installs key; the first key of an empty keyring becomes the primary. Adding a key
// that is already installed does nothing.
func (k *Keyring) AddKey(key []byte) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	c := k.shared() // the first key of an empty keyring becomes its primary
	if c == nil {
		return fmt.Errorf("keyring: add key: libmemberlist could not allocate a keyring")
	}
	if containsKey(k.GetKeys(), key) {
		return nil
	}
	rc := C.ml_keyring_add(c, bytesPtr(key), C.size_t(len(key)))
	runtime.KeepAlive(key)
	runtime.KeepAlive(k)
	return cError("keyring: add key", rc, nil)
}

// UseKey makes an installed key the primary.
func (k *Keyring) UseKey(key []byte) error {
	c := k.handle()
	if c == nil || !containsKey(k.GetKeys(), key) {
		return fmt.Errorf("requested key is not in the keyring")
	}
	rc := C.ml_keyring_use(c, bytesPtr(key), C.size_t(len(key)))
	runtime.KeepAlive(key)
	runtime.KeepAlive(k)
	return cError("keyring: use key", rc, nil)
}

// RemoveKey removes a key; removing the primary key is an error, removing a key that is not
// installed does nothing.
func (k *Keyring) RemoveKey(key []byte) error {
	c := k.handle()
	if c == nil {
		return nil
	}
	keys := k.GetKeys()
	if len(keys) > 0 && bytes.Equal(keys[0], key) {
		return fmt.Errorf("removing the primary key is not allowed")
	}
	if !containsKey(keys, key) {
		return nil
	}
	rc := C.ml_keyring_remove(c, bytesPtr(key), C.size_t(len(key)))
	runtime.KeepAlive(key)
	runtime.KeepAlive(k)
	return cError("keyring: remove key", rc, nil)
}

// GetKeys returns copies of the installed keys, the primary first.
func (k *Keyring) GetKeys() [][]byte {
	c := k.handle()
	if c == nil {
		return [][]byte{}
	}
	defer runtime.KeepAlive(k)
	n := int(C.ml_keyring_count(c))
	keys := make([][]byte, 0, n)
	var buf [32]byte
	for i := 0; i < n; i++ {
		l := int(C.ml_keyring_get(c, C.size_t(i), (*C.uint8_t)(unsafe.Pointer(&buf[0])), C.size_t(len(buf))))
		if l == 0 || l > len(buf) {
			break // changed under us
		}
		keys = append(keys, append([]byte(nil), buf[:l]...))
	}
	return keys
}

// GetPrimaryKey returns a copy of the primary key, or nil when the keyring is empty.
func (k *Keyring) GetPrimaryKey() (key []byte) {
	keys := k.GetKeys()
	if len(keys) > 0 {
		key = keys[0]
	}
	return
}

func containsKey(keys [][]byte, key []byte) bool {
	for _, k := range keys {
		if bytes.Equal(k, key) {
			return true
		}
	}
	return false
}
