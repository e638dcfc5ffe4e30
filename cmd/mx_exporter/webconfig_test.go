package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/mx-exporter/mx_exporter/collector/testenv/testcert"
)

// TestDaemonWebConfigTLSAndBasicAuth: --web.config.file (the exporter
// toolkit's format) puts /metrics behind TLS and basic auth. No mail server
// is needed: the one target is a loopback port where nothing listens.
func TestDaemonWebConfigTLSAndBasicAuth(t *testing.T) {
	dir := t.TempDir()
	// A certificate that is its own CA, so that the client can trust it alone.
	cert := testcert.New(testcert.Options{CommonName: "mx_exporter test", IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, CA: true}, nil)
	certPEM, keyPEM := cert.CertPEM(), cert.KeyPEM()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := filepath.Join(dir, "web.yml")
	for file, content := range map[string][]byte{
		certFile: certPEM,
		keyFile:  keyPEM,
		webConfig: fmt.Appendf(nil, "tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  prometheus: %s\n",
			certFile, keyFile, hash),
	} {
		if err := os.WriteFile(file, content, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	d := launchDaemon(t, "dns:\n  resolvers: [\"127.0.53.1\"]\ntargets:\n  - host: \"127.0.0.1:9\"\n",
		"--web.config.file="+webConfig)

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: cert.Pool()}}}
	defer client.CloseIdleConnections()
	get := func(path, user, password string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, "https://"+d.addr+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if user != "" {
			req.SetBasicAuth(user, password)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	waitFor(t, 10*time.Second, "the daemon to answer /-/healthy over TLS", func() bool {
		code, _ := get("/-/healthy", "prometheus", "s3cret")
		return code == http.StatusOK
	})

	if code, _ := get("/metrics", "", ""); code != http.StatusUnauthorized {
		t.Errorf("no credentials: status %d, want 401", code)
	}
	if code, _ := get("/metrics", "prometheus", "wrong"); code != http.StatusUnauthorized {
		t.Errorf("wrong password: status %d, want 401", code)
	}
	if code, body := get("/metrics", "prometheus", "s3cret"); code != http.StatusOK || !strings.Contains(body, "mx_exporter_build_info{") {
		t.Errorf("right credentials: status %d, build_info in body: %v", code, strings.Contains(body, "mx_exporter_build_info{"))
	}
	// Plain HTTP on the TLS port gets no metrics.
	resp, err := http.Get("http://" + d.addr + "/metrics")
	if err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK || strings.Contains(string(body), "mx_exporter_build_info") {
			t.Errorf("plain HTTP: status %d, served metrics without TLS", resp.StatusCode)
		}
	}
	// net/http's complaint about it is in the daemon's log, as a log line
	// of its own kind.
	waitFor(t, 5*time.Second, "the plain-HTTP attempt in the daemon's log", func() bool {
		for line := range strings.Lines(d.logs.String()) {
			if strings.Contains(line, "WRN") && strings.Contains(line, "component=http") && strings.Contains(line, "HTTPS server") {
				return true
			}
		}
		return false
	})
}
