// Package purser is the domain of Purser, a self-service infrastructure
// control plane: its vocabulary (users, roles, tokens, templates, requests),
// the service interfaces adapters implement, the one error type, the
// authorization rules, and every decision as a pure function that returns
// the Change it implies (lifecycle.go, provisioning.go, extension.go,
// submit.go) for the store to commit. It imports nothing but the standard
// library.
package purser

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// Version is the build's version, set by ldflags (-X github.com/purserhq/purser.Version=v1.2.3).
var Version = "dev"

// NewID returns a new 24-hex-digit document id, shaped like the seed's
// MongoDB ObjectIds: four bytes of Unix seconds then eight random bytes, so
// ids sort roughly by creation time.
func NewID() string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[:4], uint32(time.Now().Unix()))
	if _, err := rand.Read(b[4:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// Meta holds the fields every stored document carries. Version counts
// updates and is the basis of the document's ETag.
type Meta struct {
	ID      string
	Created time.Time
	Updated time.Time
	Version int64
}

// ETag returns the document's entity tag: it changes on every update.
func (m Meta) ETag() string {
	h := sha256.New()
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(m.Version))
	binary.BigEndian.PutUint64(b[8:], uint64(m.Updated.UnixMicro()))
	h.Write([]byte(m.ID))
	h.Write(b[:])
	return hex.EncodeToString(h.Sum(nil)[:10])
}
