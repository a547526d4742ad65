package memberlist

import (
	"bytes"
	"sync"
	"testing"
)

var testKeys = [][]byte{
	{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
	{15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
	{8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7},
}

func TestKeyring_EmptyRing(t *testing.T) {
	kr, err := NewKeyring(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if keys := kr.GetKeys(); len(keys) != 0 {
		t.Fatalf("empty keyring has keys: %x", keys)
	}
	if kr.GetPrimaryKey() != nil {
		t.Fatal("empty keyring has a primary key")
	}
	// The zero value is an empty keyring too.
	var zero Keyring
	if len(zero.GetKeys()) != 0 || zero.RemoveKey(testKeys[0]) != nil || zero.UseKey(testKeys[0]) == nil {
		t.Fatal("zero Keyring misbehaves")
	}
	if err := zero.AddKey(testKeys[0]); err != nil || !bytes.Equal(zero.GetPrimaryKey(), testKeys[0]) {
		t.Fatalf("zero Keyring AddKey: %v", err)
	}
}

func TestKeyring_PrimaryOnly(t *testing.T) {
	kr, err := NewKeyring(nil, testKeys[1])
	if err != nil {
		t.Fatal(err)
	}
	if keys := kr.GetKeys(); len(keys) != 1 || !bytes.Equal(keys[0], testKeys[1]) {
		t.Fatalf("keys: %x", keys)
	}
	if _, err := NewKeyring(testKeys, nil); err == nil {
		t.Fatal("keys without a primary must fail")
	}
	if _, err := NewKeyring(nil, []byte("short")); err == nil {
		t.Fatal("a bad primary must fail")
	}
	if _, err := NewKeyring([][]byte{[]byte("short")}, testKeys[0]); err == nil {
		t.Fatal("a bad secondary must fail")
	}
}

func TestKeyring_GetPrimaryKey(t *testing.T) {
	kr, err := NewKeyring(testKeys, testKeys[1])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(kr.GetPrimaryKey(), testKeys[1]) {
		t.Fatalf("primary %x", kr.GetPrimaryKey())
	}
	if n := len(kr.GetKeys()); n != 3 {
		t.Fatalf("%d keys, want 3 (duplicates are not added twice)", n)
	}
}

func TestKeyring_AddRemoveUse(t *testing.T) {
	kr, err := NewKeyring(nil, testKeys[1])
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.AddKey(testKeys[0]); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(kr.GetPrimaryKey(), testKeys[1]) {
		t.Fatal("AddKey must not change the primary")
	}
	if err := kr.AddKey(testKeys[0]); err != nil || len(kr.GetKeys()) != 2 {
		t.Fatalf("re-adding: %v, %d keys", err, len(kr.GetKeys()))
	}
	if err := kr.AddKey([]byte("bad")); err == nil || err.Error() != "key size must be 16, 24 or 32 bytes" {
		t.Fatalf("bad key: %v", err)
	}
	if err := kr.UseKey(testKeys[2]); err == nil || err.Error() != "requested key is not in the keyring" {
		t.Fatalf("UseKey of a missing key: %v", err)
	}
	if err := kr.UseKey(testKeys[0]); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(kr.GetPrimaryKey(), testKeys[0]) {
		t.Fatal("UseKey did not change the primary")
	}
	if err := kr.RemoveKey(testKeys[0]); err == nil || err.Error() != "removing the primary key is not allowed" {
		t.Fatalf("removing the primary: %v", err)
	}
	if err := kr.RemoveKey(testKeys[1]); err != nil {
		t.Fatal(err)
	}
	if keys := kr.GetKeys(); len(keys) != 1 || !bytes.Equal(keys[0], testKeys[0]) {
		t.Fatalf("keys: %x", keys)
	}
	if err := kr.RemoveKey(testKeys[2]); err != nil {
		t.Fatalf("removing an absent key is not an error: %v", err)
	}
}

func TestKeyring_AddConcurrentKeys(t *testing.T) {
	kr, err := NewKeyring(nil, testKeys[0])
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			key := make([]byte, 16)
			key[0] = byte(i + 1)
			if err := kr.AddKey(key); err != nil {
				t.Error(err)
			}
			_ = kr.GetKeys()
		}(i)
	}
	wg.Wait()
	if n := len(kr.GetKeys()); n != 33 {
		t.Fatalf("%d keys, want 33", n)
	}
}

func TestValidateKey(t *testing.T) {
	for n := 0; n <= 40; n++ {
		err := ValidateKey(make([]byte, n))
		if ok := n == 16 || n == 24 || n == 32; ok != (err == nil) {
			t.Fatalf("ValidateKey(%d bytes) = %v", n, err)
		}
	}
}

func TestKeyring_SharedOnlyOnce(t *testing.T) {
	kr, _ := NewKeyring(nil, testKeys[0])
	c1 := testConfig(t)
	c1.Keyring = kr
	create(t, c1)
	c2 := testConfig(t)
	c2.Keyring = kr
	if m, err := Create(c2); err == nil {
		_ = m.Shutdown()
		t.Fatal("one Keyring cannot back two running memberlists")
	}
}

// An empty Keyring given to Create is shared live like any other: adding a key later turns
// encryption on at once, as in memberlist (a node with that key joins, a plaintext one cannot).
func TestKeyring_EmptyRingTurnsEncryptionOnLater(t *testing.T) {
	kr, err := NewKeyring(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	c1 := testConfig(t)
	c1.Keyring = kr
	m1 := create(t, c1)
	plain := createPeer(t, m1, testConfig(t))
	if n, err := plain.Join([]string{joinAddr(m1)}); err != nil || n != 1 {
		t.Fatalf("plaintext Join before any key = %d, %v", n, err)
	}
	if err := kr.AddKey(testKeys[0]); err != nil {
		t.Fatal(err)
	}
	if got := m1.config.Keyring.GetPrimaryKey(); !bytes.Equal(got, testKeys[0]) {
		t.Fatalf("node's primary key %x, want %x", got, testKeys[0])
	}
	c3 := testConfig(t)
	c3.SecretKey = testKeys[0]
	keyed := createPeer(t, m1, c3)
	if n, err := keyed.Join([]string{joinAddr(m1)}); err != nil || n != 1 {
		t.Fatalf("Join with the new key = %d, %v", n, err)
	}
	late := createPeer(t, m1, testConfig(t))
	if n, err := late.Join([]string{joinAddr(m1)}); err == nil || n != 0 {
		t.Fatalf("plaintext Join after the key = %d, %v; want a failure", n, err)
	}
}
