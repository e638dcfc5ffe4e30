package probe

import (
	"net/netip"
	"slices"

	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
)

// notAllowed is the result of an address Settings.DialAllowed refused:
// nothing was sent, and the detail says why it was not dialled.
func notAllowed(host, ip string, port int, why error) *smtp.Result {
	return unstarted(host, ip, port, smtp.ReasonAddressNotAllowed, "not dialled: "+why.Error())
}

// allowedAddrs is addrs without those allowed refuses, and the first
// refusal, for the words of a fetch that has no address left.
func allowedAddrs(addrs []netip.Addr, allowed func(netip.Addr) error) ([]netip.Addr, error) {
	if allowed == nil {
		return addrs, nil
	}
	var first error
	kept := slices.DeleteFunc(slices.Clone(addrs), func(a netip.Addr) bool {
		err := allowed(a)
		if err != nil && first == nil {
			first = err
		}
		return err != nil
	})
	return kept, first
}
