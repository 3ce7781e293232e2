package purser

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"regexp"
	"time"
)

// OpsFacts are what the operators' dashboard and alerts read of the store,
// gathered at once (internal/worker's OpsCollector exports them).
type OpsFacts struct {
	// Requests counts provision requests by status.
	Requests map[string]int64
	// RequestEvents counts requests' audit events by action since the
	// store began: request.deploy, request.fail... (a counter).
	RequestEvents map[string]int64
	// QueueLag is, per job queue, how long its oldest available job has
	// waited to start.
	QueueLag map[string]time.Duration
	// Hosts are the hosts' counts and sizes by pool ("" for free hosts),
	// state and whether they are spares.
	Hosts []HostGroup
	// Pools are the pools' requested sizes and wanted spares.
	Pools []*Pool
	// Quotas is every limited user's usage against their limits.
	Quotas []*UserUsage
	// CertExpiry is, per Kubernetes cluster with a certificate in its
	// credentials, when the first of them expires.
	CertExpiry map[string]time.Time
}

// HostGroup is a count of hosts alike, and their summed size.
type HostGroup struct {
	Pool   string
	State  HostState
	Spare  bool
	Count  int64
	Cores  int64
	Memory int64
}

// OpsFactReader gathers OpsFacts; the store implements it.
type OpsFactReader interface {
	OpsFacts(ctx context.Context) (*OpsFacts, error)
}

var certData = regexp.MustCompile(`(?:client-certificate-data|certificate-authority-data)"?\s*:\s*"?([A-Za-z0-9+/=]+)`)

// CertificateExpiry returns when the first certificate in the cluster's
// credentials expires (its kubeconfig's client certificate and
// certificate authority, or its CA), and false when it carries none.
func CertificateExpiry(c *Cluster) (time.Time, bool) {
	var pems [][]byte
	for _, m := range certData.FindAllStringSubmatch(c.Kubeconfig, -1) {
		if b, err := base64.StdEncoding.DecodeString(m[1]); err == nil {
			pems = append(pems, b)
		}
	}
	if c.CA != "" {
		pems = append(pems, []byte(c.CA))
	}
	var first time.Time
	for _, data := range pems {
		for {
			var b *pem.Block
			if b, data = pem.Decode(data); b == nil {
				break
			}
			if cert, err := x509.ParseCertificate(b.Bytes); err == nil && (first.IsZero() || cert.NotAfter.Before(first)) {
				first = cert.NotAfter
			}
		}
	}
	return first, !first.IsZero()
}
