package testenv

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// stsScenario is one domain of the MTA-STS and TLS-RPT scenarios, as the DNS and the
// policy host answer for it.
type stsScenario struct {
	domain  string   // <d>.sts.test
	mx      []string // "pref host", sorted
	stsTXT  []string // TXT of _mta-sts.<domain> (through a CNAME for cnametxt), sorted
	host    string   // A of mta-sts.<domain>, "" if none
	rptTXT  []string // TXT of _smtp._tls.<domain>, sorted
	status  int      // HTTP status of the policy URL; 0: no response (certificate refused)
	certErr string   // "expired" or "name" when the certificate does not verify
	ctype   string   // Content-Type of the policy
	body    []string // lines the policy starts with
	size    int      // the policy's size, if not len(body)
	loc     string   // Location of a redirect
}

const validPolicy = "version: STSv1\nmode: enforce\nmx: mx1.good.test\nmax_age: 604800"

func stsScenarios() []stsScenario {
	mx1 := []string{"10 mx1.good.test."}
	both := []string{"10 mx1.good.test.", "20 mx.tls.test."}
	valid := strings.Split(validPolicy, "\n")
	return []stsScenario{
		{domain: "enforce.sts.test", mx: both, stsTXT: []string{"v=STSv1; id=enforce1"}, host: PolicyHostAddr,
			rptTXT: []string{"v=TLSRPTv1; rua=mailto:tlsrpt@good.test"}, status: 200, ctype: "text/plain",
			body: []string{"version: STSv1", "mode: enforce", "mx: mx1.good.test", "mx: mx.tls.test", "max_age: 604800"}},
		{domain: "wildcard.sts.test", mx: mx1, stsTXT: []string{"v=STSv1; id=wildcard1"}, host: PolicyHostAddr,
			rptTXT: []string{"v=TLSRPTv1; rua=https://tlsrpt.good.test/v1"}, status: 200, ctype: "text/plain",
			body: []string{"version: STSv1", "mode: enforce", "mx: *.good.test", "max_age: 1209600"}},
		{domain: "uncovered.sts.test", mx: both, stsTXT: []string{"v=STSv1; id=uncovered1"}, host: PolicyHostAddr,
			rptTXT: []string{"v=TLSRPTv1"}, status: 200, ctype: "text/plain", body: valid},
		{domain: "testing.sts.test", mx: both, stsTXT: []string{"v=STSv1; id=testing1"}, host: PolicyHostAddr,
			rptTXT: []string{"v=TLSRPTv1; rua=mailto:tlsrpt2@good.test", "v=TLSRPTv1; rua=mailto:tlsrpt@good.test"},
			status: 200, ctype: "text/plain", body: []string{"version: STSv1", "mode: testing", "mx: mx1.good.test", "max_age: 604800"}},
		{domain: "none.sts.test", mx: mx1, stsTXT: []string{"v=STSv1; id=none1"}, host: PolicyHostAddr,
			rptTXT: []string{"v=TLSRPTv1; rua=ftp://tlsrpt.good.test/"}, status: 200, ctype: "text/plain",
			body: []string{"version: STSv1", "mode: none", "max_age: 86400"}},
		{domain: "expiredhost.sts.test", mx: mx1, stsTXT: []string{"v=STSv1; id=expiredhost1"}, host: PolicyExpiredAddr,
			certErr: "expired", ctype: "text/plain", body: valid},
		{domain: "wrongname.sts.test", mx: mx1, stsTXT: []string{"v=STSv1; id=wrongname1"}, host: PolicyWrongNameAddr,
			certErr: "name", ctype: "text/plain", body: valid},
		{domain: "redirect.sts.test", mx: mx1, stsTXT: []string{"v=STSv1; id=redirect1"}, host: PolicyHostAddr,
			status: 301, loc: "https://mta-sts.enforce.sts.test/.well-known/mta-sts.txt"},
		{domain: "notfound.sts.test", mx: mx1, stsTXT: []string{"v=STSv1; id=notfound1"}, host: PolicyHostAddr, status: 404},
		{domain: "syntax.sts.test", mx: mx1, stsTXT: []string{"v=STSv1; id=syntax1"}, host: PolicyHostAddr, status: 200, ctype: "text/plain",
			body: []string{"version: STSv1", "mode: enforcing", "max_age: 604800", "mx: mx1.good.test", "this is not a key value line"}},
		{domain: "duptxt.sts.test", mx: mx1, stsTXT: []string{"v=STSv1; id=dup1", "v=STSv1; id=dup2"}, host: PolicyHostAddr,
			status: 200, ctype: "text/plain", body: valid},
		{domain: "noid.sts.test", mx: mx1, stsTXT: []string{"v=STSv1;"}, host: PolicyHostAddr, status: 200, ctype: "text/plain", body: valid},
		{domain: "big.sts.test", mx: mx1, stsTXT: []string{"v=STSv1; id=big1"}, host: PolicyHostAddr, status: 200, ctype: "text/plain",
			body: valid, size: BigPolicySize},
		{domain: "expiredmx.sts.test", mx: []string{"10 mx.expired.test."}, stsTXT: []string{"v=STSv1; id=expiredmx1"}, host: PolicyHostAddr,
			status: 200, ctype: "text/plain", body: []string{"version: STSv1", "mode: enforce", "mx: mx.expired.test", "max_age: 604800"}},
		{domain: "maxage.sts.test", mx: mx1, stsTXT: []string{"v=STSv1; id=maxage1"}, host: PolicyHostAddr, status: 200, ctype: "text/plain",
			body: []string{"version: STSv1", "mode: enforce", "mx: mx1.good.test", "max_age: 99999999"}},
		{domain: "htmltype.sts.test", mx: mx1, stsTXT: []string{"v=STSv1; id=htmltype1"}, host: PolicyHostAddr, status: 200, ctype: "text/html", body: valid},
		{domain: "cnametxt.sts.test", mx: mx1, stsTXT: []string{"v=STSv1; id=enforce1"}, host: PolicyHostAddr, status: 200, ctype: "text/plain", body: valid},
		{domain: "nosts.sts.test", mx: mx1},
	}
}

// ask sends one question to addr and returns the answer's records of qtype, as text
// (TXT strings joined), sorted.
func ask(t *testing.T, addr, name string, qtype uint16) []string {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	c := &dns.Client{Timeout: 5 * time.Second}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %s @%s: %v", name, dns.TypeToString[qtype], addr, err)
	}
	if r.Rcode != dns.RcodeSuccess && r.Rcode != dns.RcodeNameError {
		t.Fatalf("%s %s @%s: rcode %s", name, dns.TypeToString[qtype], addr, dns.RcodeToString[r.Rcode])
	}
	var out []string
	for _, rr := range r.Answer {
		switch rr := rr.(type) {
		case *dns.MX:
			if qtype == dns.TypeMX {
				out = append(out, fmt.Sprintf("%d %s", rr.Preference, rr.Mx))
			}
		case *dns.TXT:
			if qtype == dns.TypeTXT {
				out = append(out, strings.Join(rr.Txt, ""))
			}
		case *dns.A:
			if qtype == dns.TypeA {
				out = append(out, rr.A.String())
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestSTSRecords: every record of the MTA-STS and TLS-RPT scenarios, from nsd and
// through the validating unbound alike.
func TestSTSRecords(t *testing.T) {
	env := Require(t)
	for _, resolver := range []string{env.Resolver, env.ValidatingResolver} {
		for _, sc := range stsScenarios() {
			var host []string
			if sc.host != "" {
				host = []string{sc.host}
			}
			for _, q := range []struct {
				name  string
				qtype uint16
				want  []string
			}{
				{sc.domain, dns.TypeMX, sc.mx},
				{"_mta-sts." + sc.domain, dns.TypeTXT, sc.stsTXT},
				{"mta-sts." + sc.domain, dns.TypeA, host},
				{"_smtp._tls." + sc.domain, dns.TypeTXT, sc.rptTXT},
			} {
				if got := ask(t, resolver, q.name, q.qtype); !slices.Equal(got, q.want) {
					t.Errorf("%s %s @%s = %q, want %q", q.name, dns.TypeToString[q.qtype], resolver, got, q.want)
				}
			}
		}
	}
}

// TestPolicyHosts: what each policy host answers for its policy URL, its certificate
// verified by the test CA for the host's name; and 404 for any other path.
func TestPolicyHosts(t *testing.T) {
	env := Require(t)
	for _, sc := range stsScenarios() {
		if sc.host == "" {
			continue
		}
		t.Run(sc.domain, func(t *testing.T) {
			url := "https://mta-sts." + sc.domain + PolicyPath
			addr := net.JoinHostPort(sc.host, PolicyPort)
			client := env.PolicyClient(addr)
			resp, err := get(t, client, url)
			var invalid x509.CertificateInvalidError
			var hostname x509.HostnameError
			switch {
			case sc.certErr == "expired":
				if !errors.As(err, &invalid) || invalid.Reason != x509.Expired {
					t.Fatalf("GET %s at %s: %v, want an expired certificate", url, addr, err)
				}
			case sc.certErr == "name":
				if !errors.As(err, &hostname) || !slices.Equal(hostname.Certificate.DNSNames, []string{"www.wrongname.sts.test"}) {
					t.Fatalf("GET %s at %s: %v, want a certificate for www.wrongname.sts.test only", url, addr, err)
				}
			case err != nil:
				t.Fatalf("GET %s at %s: %v", url, addr, err)
			}
			if sc.certErr != "" {
				// The policy is there all the same, for a client that does not verify.
				client.Transport.(*http.Transport).TLSClientConfig.InsecureSkipVerify = true
				if resp, err = get(t, client, url); err != nil {
					t.Fatalf("GET %s at %s without verification: %v", url, addr, err)
				}
				sc.status = http.StatusOK
			}
			if resp.status != sc.status || resp.location != sc.loc {
				t.Fatalf("GET %s at %s: status %d, Location %q; want %d, %q", url, addr, resp.status, resp.location, sc.status, sc.loc)
			}
			if sc.status != http.StatusOK {
				return
			}
			size := sc.size
			if size == 0 {
				size = len(strings.Join(sc.body, "\n")) + 1
			}
			if resp.ctype != sc.ctype || len(resp.body) != size || !strings.HasPrefix(resp.body, strings.Join(sc.body, "\n")+"\n") {
				t.Fatalf("GET %s at %s: Content-Type %q, %d bytes %.200q; want %q, %d bytes starting %q",
					url, addr, resp.ctype, len(resp.body), resp.body, sc.ctype, size, sc.body)
			}
			other, err := get(t, client, "https://mta-sts."+sc.domain+"/")
			if err != nil || other.status != http.StatusNotFound {
				t.Fatalf("GET / of mta-sts.%s at %s: %+v, %v; want 404", sc.domain, addr, other, err)
			}
		})
	}
}

type response struct {
	status          int
	ctype, location string
	body            string
}

func get(t *testing.T, c *http.Client, url string) (response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return response{}, err
	}
	return response{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), location: resp.Header.Get("Location"), body: string(body)}, nil
}

// TestCheckPolicyHost: the quick check fetches the policy, and says which address
// did not answer when nothing listens there.
func TestCheckPolicyHost(t *testing.T) {
	env := Require(t)
	if err := checkPolicyHost(context.Background(), env.Dir); err != nil {
		t.Fatalf("checkPolicyHost: %v, want nil", err)
	}
	dead := net.JoinHostPort(DeadIP, PolicyPort)
	err := checkPolicyHostAt(context.Background(), env.Dir, dead)
	if err == nil || !strings.Contains(err.Error(), dead) {
		t.Fatalf("checkPolicyHostAt(%s) = %v, want an error naming %s", dead, err, dead)
	}
}
