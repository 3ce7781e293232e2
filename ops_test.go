package purser

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"testing"
	"time"
)

func testCert(t *testing.T, notAfter time.Time) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"}, NotBefore: notAfter.Add(-time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestCertificateExpiry(t *testing.T) {
	soon, later := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC), time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		name string
		c    Cluster
		want time.Time
	}{
		{"KubeconfigClientCertFirst", Cluster{Kubeconfig: "clusters:\n- cluster:\n    certificate-authority-data: " + b64(testCert(t, later)) +
			"\nusers:\n- user:\n    client-certificate-data: " + b64(testCert(t, soon)) + "\n"}, soon},
		{"KubeconfigJSON", Cluster{Kubeconfig: `{"users":[{"user":{"client-certificate-data":"` + b64(testCert(t, soon)) + `"}}]}`}, soon},
		{"TokenWithCA", Cluster{Token: "t", CA: testCert(t, later)}, later},
		{"TokenOnly", Cluster{Token: "t"}, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := CertificateExpiry(&tc.c)
			if !got.Equal(tc.want) || ok != !tc.want.IsZero() {
				t.Fatalf("CertificateExpiry = %v, %v; want %v", got, ok, tc.want)
			}
		})
	}
}
