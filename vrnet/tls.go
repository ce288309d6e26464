package vrnet

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// The organizational units of the certificates GenerateDevCerts makes. Only
// a replica certificate may say hello as a replica.
const (
	UnitReplica = "replica"
	UnitClient  = "client"
)

// LoadTLS loads the mutual-TLS configuration of a replica or a client from
// dir: the cluster CA (ca.pem) and the certificate and key of role
// ("replica" or "client": role.pem and role-key.pem), as GenerateDevCerts
// writes them. The configuration serves as both the server and the client
// side of a connection: it presents the certificate, and it requires and
// verifies the peer's against the CA.
func LoadTLS(dir, role string) (*tls.Config, error) {
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		return nil, fmt.Errorf("vrnet: TLS: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("vrnet: TLS: no certificate in %s", filepath.Join(dir, "ca.pem"))
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, role+".pem"), filepath.Join(dir, role+"-key.pem"))
	if err != nil {
		return nil, fmt.Errorf("vrnet: TLS: %w", err)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		RootCAs:      pool,
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
	}, nil
}

// GenerateDevCerts writes a development CA and certificates into dir (made
// if needed): ca.pem and ca-key.pem, replica.pem and replica-key.pem (one
// certificate for every replica, valid as server and client, for the given
// hosts: names or IP addresses), client.pem and client-key.pem. Keys are
// ECDSA P-256; certificates are valid for a year. It refuses to overwrite an
// existing CA.
func GenerateDevCerts(dir string, hosts []string) error {
	if _, err := os.Stat(filepath.Join(dir, "ca.pem")); err == nil {
		return fmt.Errorf("vrnet: %s already exists", filepath.Join(dir, "ca.pem"))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Organization: []string{"vrkv dev"}, CommonName: "vrkv dev CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return err
	}
	if err := writePEM(dir, "ca", caDER, caKey); err != nil {
		return err
	}
	leaf := func(name, unit string, usages []x509.ExtKeyUsage, hosts []string) error {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		tmpl := &x509.Certificate{
			SerialNumber: serial(),
			Subject:      pkix.Name{Organization: []string{"vrkv dev"}, OrganizationalUnit: []string{unit}, CommonName: "vrkv " + name},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.Add(365 * 24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  usages,
		}
		for _, h := range hosts {
			if ip := net.ParseIP(h); ip != nil {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			} else {
				tmpl.DNSNames = append(tmpl.DNSNames, h)
			}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			return err
		}
		return writePEM(dir, name, der, key)
	}
	if len(hosts) == 0 {
		hosts = []string{"127.0.0.1", "::1", "localhost"}
	}
	if err := leaf("replica", UnitReplica, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, hosts); err != nil {
		return err
	}
	return leaf("client", UnitClient, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, nil)
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return n
}

func writePEM(dir, name string, der []byte, key *ecdsa.PrivateKey) error {
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, name+".pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name+"-key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
}

// checkReplicaCert fails unless a TLS peer's verified certificate was made
// for a replica.
func checkReplicaCert(c *tls.Conn) error {
	st := c.ConnectionState()
	if len(st.VerifiedChains) == 0 || len(st.PeerCertificates) == 0 {
		return errors.New("no verified certificate")
	}
	if !slices.Contains(st.PeerCertificates[0].Subject.OrganizationalUnit, UnitReplica) {
		return fmt.Errorf("certificate %q is not a replica's (organizational unit %q)", st.PeerCertificates[0].Subject.CommonName, UnitReplica)
	}
	return nil
}

// clientTLS returns cfg for dialling addr: it checks the server's name.
func clientTLS(cfg *tls.Config, addr string) *tls.Config {
	c := cfg.Clone()
	if host, _, err := net.SplitHostPort(addr); err == nil {
		c.ServerName = host
	}
	return c
}
