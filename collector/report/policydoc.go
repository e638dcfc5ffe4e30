package report

import (
	"encoding/hex"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/mtasts"
	"github.com/mx-exporter/mx_exporter/collector/probe/tlscheck"
	"github.com/mx-exporter/mx_exporter/collector/probe/tlsrpt"
)

// The JSON form of a domain's published TLS policy. The document has
// mta_sts and tls_rpt for a domain target whose module looks at MTA-STS,
// and mta_sts on each MX host that a valid policy judged; nothing for a
// host target or with mta_sts off.

// MTASTS is a domain's MTA-STS check. Statuses are those of
// mtasts.Statuses; failure is an MTA-STS sender's view (an enforce policy
// that refuses some MX), which fails the probe only in mode enforce.
type MTASTS struct {
	Mode    mtasts.Mode   `json:"mode"` // the module's: enforce or report
	Status  mtasts.Status `json:"status"`
	Failure bool          `json:"failure"`
	Detail  string        `json:"detail,omitempty"`
	// RefusedHosts are the MX hosts an MTA-STS sender does not deliver
	// to under the policy, whatever its mode.
	RefusedHosts []string  `json:"refused_hosts,omitempty"`
	TXT          STSRecord `json:"txt"`
	// PolicyHost is the resolution of mta-sts.<domain>; absent when no
	// fetch was made for this probe (no record, or a cached policy).
	PolicyHost *PolicyHost `json:"policy_host,omitempty"`
	// Policy is absent when no v=STSv1 record was found.
	Policy *STSPolicy `json:"policy,omitempty"`
}

// TXTLookup is the TXT RRset of one name, as DNS gave it.
type TXTLookup struct {
	Name            string         `json:"name"`
	CNAME           string         `json:"cname,omitempty"`
	Outcome         dnsmx.Outcome  `json:"outcome"`
	Rcode           string         `json:"rcode,omitempty"`
	DNSSEC          dnsmx.Security `json:"dnssec,omitempty"`
	Error           string         `json:"error,omitempty"`
	DurationSeconds float64        `json:"duration_seconds"`
	// Records are every TXT record of the name, each its strings
	// concatenated, in answer order (those of other protocols too).
	Records          []string `json:"records,omitempty"`
	RecordsDropped   int      `json:"records_dropped,omitempty"`
	RecordsTruncated int      `json:"records_truncated,omitempty"`
}

// STSRecord is the _mta-sts TXT lookup and its reading.
type STSRecord struct {
	TXTLookup
	// STSRecords counts the records that start with v=STSv1.
	STSRecords int              `json:"sts_records"`
	Valid      bool             `json:"valid"`
	ID         string           `json:"id,omitempty"`
	Defect     mtasts.TXTDefect `json:"defect,omitempty"`
	DefectText string           `json:"defect_detail,omitempty"`
}

// PolicyHost is what mta-sts.<domain> resolved to.
type PolicyHost struct {
	Name            string         `json:"name"`
	Addresses       []string       `json:"addresses"`
	Outcome         dnsmx.Outcome  `json:"outcome,omitempty"`
	Error           string         `json:"error,omitempty"`
	DNSSEC          dnsmx.Security `json:"dnssec,omitempty"`
	DurationSeconds float64        `json:"duration_seconds"`
}

// STSPolicy is the policy as known to the probe: the fetch it came of
// and, when a body came, the policy as parsed and its defects.
type STSPolicy struct {
	// Cached: served from the exporter's cache, fetched at fetch.start.
	Cached bool   `json:"cached"`
	ID     string `json:"id,omitempty"` // the TXT id it was fetched for
	Valid  bool   `json:"valid"`        // fetched, and no fatal defect
	// SHA256 is the digest of the body, in hex; absent when none came.
	SHA256 string   `json:"sha256,omitempty"`
	Fetch  STSFetch `json:"fetch"`
	// Version, Mode, MaxAgeSeconds and MX are as parsed; absent when no
	// body came, or when the value is missing or invalid.
	Version       string            `json:"version,omitempty"`
	Mode          mtasts.PolicyMode `json:"mode,omitempty"`
	MaxAgeSeconds *int64            `json:"max_age_seconds,omitempty"`
	MX            []string          `json:"mx,omitempty"`
	Defects       []PolicyDefect    `json:"defects,omitempty"`
}

// STSFetch is the HTTPS request for the policy.
type STSFetch struct {
	URL             string    `json:"url"`
	Address         string    `json:"address,omitempty"` // that answered, or was tried last
	Start           time.Time `json:"start"`
	DurationSeconds float64   `json:"duration_seconds"`
	HTTPStatus      int       `json:"http_status,omitempty"` // absent when no answer came
	ContentType     string    `json:"content_type,omitempty"`
	Location        string    `json:"location,omitempty"` // of a redirect, never followed
	SizeBytes       int       `json:"size_bytes"`
	// TLS is the policy host's certificate, verified for mta-sts.<domain>;
	// absent when no handshake completed.
	TLS         *tlscheck.Info    `json:"tls,omitempty"`
	Error       mtasts.FetchError `json:"error,omitempty"` // one of mtasts.FetchErrors
	ErrorDetail string            `json:"error_detail,omitempty"`
}

// PolicyDefect is one defect of a fetched policy; a fatal one makes
// senders ignore the policy.
type PolicyDefect struct {
	Name  mtasts.Defect `json:"name"`
	Fatal bool          `json:"fatal"`
}

// HostMTASTS is what the domain's policy says of one MX host: the pattern
// that covers it, and for a covered host whether each address's TLS
// satisfies the policy.
type HostMTASTS struct {
	Covered bool         `json:"covered"`
	Pattern string       `json:"pattern,omitempty"`
	TLS     []AddressTLS `json:"tls,omitempty"`
}

// AddressTLS is one covered address's TLS status under the policy (one of
// mtasts.TLSStatuses).
type AddressTLS struct {
	IP     string           `json:"ip"`
	Status mtasts.TLSStatus `json:"status"`
}

// TLSRPT is a domain's TLS-RPT record.
type TLSRPT struct {
	TXTLookup
	// TLSRPTRecords counts the records that start with v=TLSRPTv1; 0
	// means none is published.
	TLSRPTRecords int           `json:"tlsrpt_records"`
	Valid         bool          `json:"valid"`
	RUA           []string      `json:"rua,omitempty"`
	Defect        tlsrpt.Defect `json:"defect,omitempty"`
	DefectText    string        `json:"defect_detail,omitempty"`
}

func newTXTLookup(l dnsmx.TXTLookup) TXTLookup {
	return TXTLookup{
		Name: l.Name, CNAME: l.CNAME, Outcome: l.Outcome, Rcode: l.Rcode, DNSSEC: l.Security, Error: l.Err,
		DurationSeconds: l.Duration.Seconds(), Records: l.Records, RecordsDropped: l.RecordsDropped,
		RecordsTruncated: l.RecordsTruncated,
	}
}

func newMTASTS(rep *probe.Report) *MTASTS {
	r := rep.MTASTS
	if r == nil {
		return nil
	}
	out := &MTASTS{
		Mode: r.Mode, Status: r.Status, Failure: r.Failure, Detail: r.Detail, RefusedHosts: RefusedHosts(rep),
		TXT: STSRecord{
			TXTLookup: newTXTLookup(r.TXTLookup), STSRecords: r.TXT.Records, Valid: r.TXT.Valid, ID: r.TXT.ID,
			Defect: r.TXT.Defect, DefectText: r.TXT.Detail,
		},
	}
	if h := r.PolicyHost; h != nil {
		ph := &PolicyHost{Name: h.Name, Addresses: make([]string, 0, len(h.Addrs)), Outcome: h.Outcome, Error: h.Err,
			DNSSEC: h.Security, DurationSeconds: h.Duration.Seconds()}
		for _, a := range h.Addrs {
			ph.Addresses = append(ph.Addresses, a.String())
		}
		out.PolicyHost = ph
	}
	if st := r.Policy; st != nil {
		f := &st.Fetch
		pol := &STSPolicy{
			Cached: st.Cached, ID: st.ID, Valid: st.Valid,
			Fetch: STSFetch{
				URL: f.URL, Address: f.Addr, Start: f.Start, DurationSeconds: f.Duration.Seconds(), HTTPStatus: f.Status,
				ContentType: f.ContentType, Location: f.Location, SizeBytes: f.Size, TLS: f.TLS, Error: f.Err, ErrorDetail: f.Detail,
			},
		}
		if st.Digest != ([32]byte{}) {
			pol.SHA256 = hex.EncodeToString(st.Digest[:])
		}
		if p := st.Policy; p != nil {
			pol.Version, pol.Mode, pol.MX = p.Version, p.Mode, p.MX
			if p.MaxAge >= 0 {
				maxAge := p.MaxAge
				pol.MaxAgeSeconds = &maxAge
			}
		}
		for _, d := range st.Defects {
			pol.Defects = append(pol.Defects, PolicyDefect{Name: d, Fatal: d.Fatal()})
		}
		out.Policy = pol
	}
	return out
}

func newHostMTASTS(h *probe.HostReport) *HostMTASTS {
	p := h.MTASTS
	if p == nil {
		return nil
	}
	out := &HostMTASTS{Covered: p.Covered, Pattern: p.Pattern}
	for j, s := range p.TLS {
		ip := ""
		switch {
		case j < len(h.Results) && h.Results[j] != nil:
			ip = h.Results[j].Addr
		case j < len(h.Addrs):
			ip = h.Addrs[j].String()
		}
		out.TLS = append(out.TLS, AddressTLS{IP: ip, Status: s})
	}
	return out
}

func newTLSRPT(r *probe.TLSRPTReport) *TLSRPT {
	if r == nil {
		return nil
	}
	return &TLSRPT{
		TXTLookup: newTXTLookup(r.Lookup), TLSRPTRecords: r.Record.Records, Valid: r.Record.Valid, RUA: r.Record.RUA,
		Defect: r.Record.Defect, DefectText: r.Record.Detail,
	}
}
