package sqldb

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Sealer encrypts secrets at rest with AES-256-GCM. Sealed values are
// "v1:" and the base64 of nonce and ciphertext. It seals with its first
// key and opens with any: to rotate, make the new key the first and keep
// the old ones until Reseal has rewritten everything.
type Sealer struct {
	aead cipher.AEAD   // seals
	all  []cipher.AEAD // open, newest first
}

// NewSealer returns a sealer for a 32-byte key, with previous keys it
// can still open.
func NewSealer(key []byte, previous ...[]byte) (*Sealer, error) {
	s := &Sealer{}
	for i, k := range append([][]byte{key}, previous...) {
		if len(k) != 32 {
			return nil, fmt.Errorf("secret key %d: need 32 bytes, have %d", i, len(k))
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		s.all = append(s.all, aead)
	}
	s.aead = s.all[0]
	return s, nil
}

// Seal encrypts plaintext; "" stays "".
func (s *Sealer) Seal(plaintext string) string {
	if plaintext == "" {
		return ""
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	return "v1:" + base64.StdEncoding.EncodeToString(s.aead.Seal(nonce, nonce, []byte(plaintext), nil))
}

// Open decrypts a sealed value.
func (s *Sealer) Open(sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	raw, ok := strings.CutPrefix(sealed, "v1:")
	if !ok {
		return "", errors.New("sealed value has an unknown version")
	}
	data, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(data) < s.aead.NonceSize() {
		return "", errors.New("sealed value is malformed")
	}
	n := s.aead.NonceSize()
	for _, a := range s.all {
		if out, err := a.Open(nil, data[:n], data[n:], nil); err == nil {
			return string(out), nil
		}
	}
	return "", errors.New("sealed value opens with none of the secret keys (was secret_key changed without keeping the old one in secret_key_previous?)")
}

// sealedColumns are every column holding sealed values: table, key, column.
// A key may be an expression naming one row (a cluster name holds no '/').
var sealedColumns = [][3]string{
	{"requests", "id", "outputs"},
	{"requests", "id", "secret_parameters"},
	{"preferences", "user_id", "slack_webhook"},
	{"preferences", "user_id", "webhook_secret"},
	{"clusters", "name", "credentials"},
	{"cluster_secrets", "cluster || '/' || name", "value"},
}

// Reseal rewrites every sealed value under the current key and returns how
// many it rewrote. After it, the previous keys can be dropped.
func (db *DB) Reseal(ctx context.Context) (int, error) {
	n := 0
	for _, c := range sealedColumns {
		rows, err := db.Read.Query(ctx, "SELECT "+c[1]+", "+c[2]+" FROM "+c[0]+" WHERE "+c[2]+" IS NOT NULL AND "+c[2]+" <> ''")
		if err != nil {
			return n, fmt.Errorf("reseal %s.%s: %w", c[0], c[2], err)
		}
		type kv struct{ key, val string }
		var vals []kv
		for rows.Next() {
			var k, v string
			if err := rows.Scan(&k, &v); err != nil {
				rows.Close()
				return n, err
			}
			vals = append(vals, kv{k, v})
		}
		rows.Close()
		for _, x := range vals {
			plain, err := db.Sealer.Open(x.val)
			if err != nil {
				return n, fmt.Errorf("reseal %s %s: %w", c[0], x.key, err)
			}
			if db.Sealer.opensWithCurrent(x.val) {
				continue
			}
			err = db.WithTx(ctx, func(tx Tx) error {
				_, err := tx.Exec(ctx, "UPDATE "+c[0]+" SET "+c[2]+" = ? WHERE "+c[1]+" = ? AND "+c[2]+" = ?", db.Sealer.Seal(plain), x.key, x.val)
				return err
			})
			if err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

func (s *Sealer) opensWithCurrent(sealed string) bool {
	raw, ok := strings.CutPrefix(sealed, "v1:")
	if !ok {
		return false
	}
	data, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(data) < s.aead.NonceSize() {
		return false
	}
	n := s.aead.NonceSize()
	_, err = s.aead.Open(nil, data[:n], data[n:], nil)
	return err == nil
}

// SealSecretParameters seals the secret parameters of requests made before
// they were sealed at creation (secret_parameters NULL): their values move
// out of resource_parameters, which keeps purser.SecretMask in their
// place. It returns how many requests had secrets to seal; run at start,
// it finds nothing to do once done.
func (db *DB) SealSecretParameters(ctx context.Context) (int, error) {
	rows, err := db.Read.Query(ctx, "SELECT id FROM requests WHERE secret_parameters IS NULL")
	if err != nil {
		return 0, fmt.Errorf("requests to seal: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	reqs, n := NewRequestService(db), 0
	for _, id := range ids {
		err := db.WithTx(ctx, func(tx Tx) error {
			r, err := reqs.find(ctx, tx, id)
			if err != nil {
				return err
			}
			t, err := reqs.template(ctx, tx, r)
			if err != nil {
				return err
			}
			sealed := reqs.sealSecrets(t, r)
			if sealed != "" {
				n++
			}
			params, _ := json.Marshal(r.ResourceParameters)
			_, err = tx.Exec(ctx, "UPDATE requests SET resource_parameters = ?, secret_parameters = ?, version = version + 1 WHERE id = ? AND secret_parameters IS NULL",
				string(params), sealed, id)
			return err
		})
		if err != nil {
			return n, fmt.Errorf("seal secret parameters of %s: %w", id, err)
		}
	}
	return n, nil
}
