package rdns

// The helpers of the tests. The fake DNS server is
// collector/testenv/fakedns, used only for what the real test servers (nsd
// and unbound, asked in integration_test.go) cannot be made to do on
// demand: SERVFAIL for one name, silence, hostile PTR sets, and counting
// the forward queries.

import (
	"context"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/testenv/fakedns"
)

func newResolver(t testing.TB, timeout time.Duration, servers ...string) *dnsmx.Resolver {
	t.Helper()
	return fakedns.Resolver(t, dnsmx.NewResolver, timeout, 1, servers...)
}

func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
