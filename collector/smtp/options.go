package smtp

import (
	"context"
	"crypto/x509"
	"net"
)

// StartTLS says whether the dialogue upgrades to TLS.
type StartTLS string

// StartTLS modes.
const (
	StartTLSOff           StartTLS = "off"
	StartTLSOpportunistic StartTLS = "opportunistic"
	StartTLSRequired      StartTLS = "required"
)

// Options say what to send and what to expect. The deadline comes from the
// context given to Probe.
type Options struct {
	Port       int      // default 25
	EHLOName   string   // required
	MailFrom   string   // "" sends the null reverse path MAIL FROM:<>
	Recipients []string // RCPT TO each; all must be accepted
	RelayCheck string   // outside address that must be refused; "" skips it
	VRFY       string   // address to VRFY; "" skips it

	StartTLS StartTLS // default opportunistic

	// RootCAs verify the certificate after STARTTLS; nil uses the system pool.
	RootCAs *x509.CertPool
	// TLSServerName is the name the certificate must be valid for; "" uses the host name.
	TLSServerName string
	// RequireVerifiedTLS fails the probe when the certificate does not verify.
	RequireVerifiedTLS bool

	// Caps that bound what a hostile server can make us read or keep.
	MaxLineBytes         int // one reply line, default 2048 (RFC 5321 allows 512)
	MaxReplyLines        int // lines of one reply, default 100
	MaxTranscriptLines   int // default 200
	MaxTranscriptLineLen int // longer transcript lines are cut, default 512

	// DialContext opens the connection; nil uses a net.Dialer.
	DialContext func(ctx context.Context, network, address string) (net.Conn, error)
}
