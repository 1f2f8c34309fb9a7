// Command certcheck inspects a certificate the way a go-plugin peer would see
// it, or generates a go-plugin style reference certificate.
//
//	certcheck < CERT   # CERT: PEM, or base64 DER as in the handshake line
//	certcheck -gen     # prints {"certPem": ..., "keyPem": ...}
//
// The report is one JSON object on stdout; the exit status is 0 whenever it
// was printed, also when the certificate is unusable (see parseError and the
// verify* fields).
package main

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"loopp/go-interop/internal/mtlscert"
)

type report struct {
	Format                string   `json:"format"` // "pem" or "base64"
	RawStdOK              bool     `json:"rawStdOK"`
	ParseError            string   `json:"parseError"`
	SerialPositive        bool     `json:"serialPositive"`
	SerialBits            int      `json:"serialBits"`
	Subject               string   `json:"subject"`
	Issuer                string   `json:"issuer"`
	DNSNames              []string `json:"dnsNames"`
	IPAddresses           []string `json:"ipAddresses"`
	SignatureAlgorithm    string   `json:"signatureAlgorithm"`
	PublicKeyAlgorithm    string   `json:"publicKeyAlgorithm"`
	PublicKeyCurve        string   `json:"publicKeyCurve"`
	IsCA                  bool     `json:"isCA"`
	BasicConstraintsValid bool     `json:"basicConstraintsValid"`
	KeyUsage              int      `json:"keyUsage"`
	ExtKeyUsage           []string `json:"extKeyUsage"`
	NotBefore             string   `json:"notBefore"`
	NotAfter              string   `json:"notAfter"`
	VerifyServerAuth      string   `json:"verifyServerAuth"`
	VerifyClientAuth      string   `json:"verifyClientAuth"`
	SubjectKeyIDPresent   bool     `json:"subjectKeyIdPresent"`
	CriticalExtensions    []string `json:"criticalExtensions"`
}

var extKeyUsageNames = map[x509.ExtKeyUsage]string{
	x509.ExtKeyUsageAny:             "Any",
	x509.ExtKeyUsageServerAuth:      "ServerAuth",
	x509.ExtKeyUsageClientAuth:      "ClientAuth",
	x509.ExtKeyUsageCodeSigning:     "CodeSigning",
	x509.ExtKeyUsageEmailProtection: "EmailProtection",
	x509.ExtKeyUsageTimeStamping:    "TimeStamping",
	x509.ExtKeyUsageOCSPSigning:     "OCSPSigning",
}

func main() {
	gen := flag.Bool("gen", false, "generate a go-plugin style certificate and key instead")
	flag.Parse()

	var out any
	if *gen {
		certPEM, keyPEM, err := mtlscert.Generate()
		if err != nil {
			fail(err)
		}
		out = map[string]string{"certPem": string(certPEM), "keyPem": string(keyPEM)}
	} else {
		in, err := io.ReadAll(os.Stdin)
		if err != nil {
			fail(err)
		}
		out = check(strings.TrimSpace(string(in)))
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "error:", err)
	os.Exit(1)
}

func check(in string) *report {
	r := &report{DNSNames: []string{}, IPAddresses: []string{}, ExtKeyUsage: []string{}, CriticalExtensions: []string{}}
	der, err := decode(in, r)
	if err != nil {
		r.ParseError = err.Error()
		return r
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		r.ParseError = err.Error()
		return r
	}

	r.SerialPositive = cert.SerialNumber.Sign() > 0
	r.SerialBits = cert.SerialNumber.BitLen()
	r.Subject = cert.Subject.String()
	r.Issuer = cert.Issuer.String()
	r.DNSNames = append(r.DNSNames, cert.DNSNames...)
	for _, ip := range cert.IPAddresses {
		r.IPAddresses = append(r.IPAddresses, ip.String())
	}
	r.SignatureAlgorithm = cert.SignatureAlgorithm.String()
	r.PublicKeyAlgorithm = cert.PublicKeyAlgorithm.String()
	if pub, ok := cert.PublicKey.(*ecdsa.PublicKey); ok {
		r.PublicKeyCurve = pub.Curve.Params().Name
	}
	r.IsCA = cert.IsCA
	r.BasicConstraintsValid = cert.BasicConstraintsValid
	r.KeyUsage = int(cert.KeyUsage)
	for _, u := range cert.ExtKeyUsage {
		name, ok := extKeyUsageNames[u]
		if !ok {
			name = fmt.Sprintf("ExtKeyUsage(%d)", u)
		}
		r.ExtKeyUsage = append(r.ExtKeyUsage, name)
	}
	for _, oid := range cert.UnknownExtKeyUsage {
		r.ExtKeyUsage = append(r.ExtKeyUsage, oid.String())
	}
	r.NotBefore = cert.NotBefore.UTC().Format(time.RFC3339)
	r.NotAfter = cert.NotAfter.UTC().Format(time.RFC3339)
	r.SubjectKeyIDPresent = len(cert.SubjectKeyId) > 0
	for _, ext := range cert.Extensions {
		if ext.Critical {
			r.CriticalExtensions = append(r.CriticalExtensions, ext.Id.String())
		}
	}

	// go-plugin trusts exactly the peer's certificate (RootCAs = ClientCAs =
	// a pool holding only it). A Go TLS client then verifies the server with
	// ServerName "localhost"; a Go TLS server verifies client certificates for
	// ClientAuth without any name check.
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	r.VerifyServerAuth = verify(cert, x509.VerifyOptions{
		Roots: roots, DNSName: "localhost", KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	r.VerifyClientAuth = verify(cert, x509.VerifyOptions{
		Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	return r
}

// decode returns the DER bytes of a PEM certificate or of the base64 form
// used in the handshake line. go-plugin decodes the latter with
// base64.RawStdEncoding (no padding); r.RawStdOK says whether that worked.
// If it did not, padded standard base64 is tried so the certificate can
// still be inspected.
func decode(in string, r *report) ([]byte, error) {
	if strings.HasPrefix(in, "-----BEGIN") {
		r.Format = "pem"
		block, _ := pem.Decode([]byte(in))
		if block == nil {
			return nil, errors.New("pem: no PEM block found")
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("pem: block type %q, want CERTIFICATE", block.Type)
		}
		return block.Bytes, nil
	}
	r.Format = "base64"
	der, err := base64.RawStdEncoding.DecodeString(in)
	if err == nil {
		r.RawStdOK = true
		return der, nil
	}
	if der, err2 := base64.StdEncoding.DecodeString(in); err2 == nil {
		return der, nil
	}
	return nil, fmt.Errorf("base64 (RawStdEncoding): %w", err)
}

func verify(cert *x509.Certificate, opts x509.VerifyOptions) string {
	if _, err := cert.Verify(opts); err != nil {
		return err.Error()
	}
	return ""
}
