// Command tls-probe calls grpc.health.v1.Health/Check{service:"plugin"} on a
// plugin's gRPC address to see whether it answers a client that is not its
// host.
//
//	tls-probe -network unix|tcp -addr ADDR -mode plain
//	tls-probe -network unix|tcp -addr ADDR -mode stranger -server-cert-b64 CERT
//
// plain: no TLS at all. stranger: TLS trusting the plugin's certificate CERT
// (the base64 field of the handshake line) with ServerName "localhost", but
// presenting a freshly generated self-signed P-521 client certificate that the
// plugin has never seen.
//
// Prints {"ok":bool,"error":"...","code":"<gRPC code>","status":"<serving status>"}
// and exits 0; exit 1 (error on stderr) only for bad usage.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"loopp/go-interop/internal/mtlscert"
)

type result struct {
	OK     bool   `json:"ok"`
	Error  string `json:"error"`
	Code   string `json:"code"`
	Status string `json:"status,omitempty"`
}

func main() {
	addr := flag.String("addr", "", "plugin address: unix socket path or host:port")
	network := flag.String("network", "unix", "unix or tcp")
	mode := flag.String("mode", "plain", "plain or stranger")
	serverCert := flag.String("server-cert-b64", "", "plugin certificate, base64 DER as in the handshake (stranger mode)")
	flag.Parse()

	creds, err := credentialsFor(*mode, *serverCert)
	if err == nil && *addr == "" {
		err = errors.New("-addr is required")
	}
	if err == nil && *network != "unix" && *network != "tcp" {
		err = fmt.Errorf("-network must be unix or tcp, got %q", *network)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}

	res := probe(*network, *addr, creds)
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func credentialsFor(mode, serverCertB64 string) (credentials.TransportCredentials, error) {
	switch mode {
	case "plain":
		return insecure.NewCredentials(), nil
	case "stranger":
		if serverCertB64 == "" {
			return nil, errors.New("-mode stranger needs -server-cert-b64")
		}
		der, err := base64.RawStdEncoding.DecodeString(serverCertB64)
		if err != nil {
			if der, err = base64.StdEncoding.DecodeString(serverCertB64); err != nil {
				return nil, fmt.Errorf("-server-cert-b64: %w", err)
			}
		}
		serverCert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("-server-cert-b64: %w", err)
		}
		roots := x509.NewCertPool()
		roots.AddCert(serverCert)
		own, err := mtlscert.GenerateTLS()
		if err != nil {
			return nil, err
		}
		return credentials.NewTLS(&tls.Config{
			Certificates: []tls.Certificate{own},
			RootCAs:      roots,
			ServerName:   "localhost",
			MinVersion:   tls.VersionTLS12,
		}), nil
	default:
		return nil, fmt.Errorf("-mode must be plain or stranger, got %q", mode)
	}
}

func probe(network, addr string, creds credentials.TransportCredentials) result {
	// Dial the given address ourselves; the target name only sets :authority.
	dial := func(ctx context.Context, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	conn, err := grpc.NewClient("passthrough:///localhost",
		grpc.WithTransportCredentials(creds), grpc.WithContextDialer(dial))
	if err != nil {
		return result{Error: err.Error(), Code: status.Code(err).String()}
	}
	defer conn.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "plugin"})
	if err != nil {
		return result{Error: err.Error(), Code: status.Code(err).String()}
	}
	return result{OK: true, Code: "OK", Status: resp.GetStatus().String()}
}
