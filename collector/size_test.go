package collector

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/store"
)

// TestSizeInvalidIsNotNoLimit: an invalid SIZE ("SIZE -5", "SIZE abc", a
// number beyond int64) and a server that declares no limit both export
// mx_smtp_size_limit_bytes 0; the finding size_invalid, which the dialogue
// records for the EHLO reply the limit comes from, tells them apart. The
// endpoints' Results are as the smtp package's fake-server test shows the
// dialogue leaves them.
func TestSizeInvalidIsNotNoLimit(t *testing.T) {
	withSize := func(ip, params string, size int64, invalid bool) *smtp.Result {
		r := healthy("mx.size.example", ip, t0, false)
		r.Extensions = &smtp.Extensions{Greeting: "mx.size.example", Keywords: []smtp.Keyword{{Name: "SIZE", Params: params}},
			SizeAdvertised: true, Size: size, SizeInvalid: invalid}
		if invalid {
			r.Findings = []smtp.Finding{smtp.FindingSizeInvalid}
		}
		return r
	}
	st := store.New()
	st.Put(entry("size.example", "default", plainModule, domainReport("size.example", t0, &dnsmx.Domain{Outcome: dnsmx.OutcomeAnswer, Rcode: "NOERROR"},
		host("mx.size.example", 10,
			withSize("192.0.2.1", "10240000", 10240000, false),
			withSize("192.0.2.2", "", 0, false),
			withSize("192.0.2.3", "-5", 0, true),
			withSize("192.0.2.4", "99999999999999999999", 0, true),
		))))
	want := `
# HELP mx_smtp_finding_info ` + families[famFinding].help + `
# TYPE mx_smtp_finding_info gauge
mx_smtp_finding_info{domain="size.example",finding="size_invalid",ip="192.0.2.3",mx="mx.size.example"} 1
mx_smtp_finding_info{domain="size.example",finding="size_invalid",ip="192.0.2.4",mx="mx.size.example"} 1
# HELP mx_smtp_size_limit_bytes ` + families[famSizeLimit].help + `
# TYPE mx_smtp_size_limit_bytes gauge
mx_smtp_size_limit_bytes{domain="size.example",ip="192.0.2.1",mx="mx.size.example"} 1.024e+07
mx_smtp_size_limit_bytes{domain="size.example",ip="192.0.2.2",mx="mx.size.example"} 0
mx_smtp_size_limit_bytes{domain="size.example",ip="192.0.2.3",mx="mx.size.example"} 0
mx_smtp_size_limit_bytes{domain="size.example",ip="192.0.2.4",mx="mx.size.example"} 0
`
	if err := testutil.CollectAndCompare(NewCollector(st), strings.NewReader(want), "mx_smtp_finding_info", "mx_smtp_size_limit_bytes"); err != nil {
		t.Fatal(err)
	}
}
