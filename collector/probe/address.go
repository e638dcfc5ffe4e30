package probe

// Who each address is: reverse DNS and the names it goes by, its blocklist
// listings, and whether a host's IPv6 addresses work as well as its IPv4
// ones. None of it fails a probe: these are named facts for reports and
// alerts.

// Parity compares an MX host's IPv4 and IPv6 dialogues. Fixed set, label
// value.
type Parity string

// The parities; "" for a host with no address.
const (
	ParityBothPass    Parity = "both_pass"    // some address of each family passes
	ParityIPv6Failing Parity = "ipv6_failing" // IPv4 passes, no IPv6 address does
	ParityIPv4Failing Parity = "ipv4_failing" // IPv6 passes, no IPv4 address does
	ParityBothFailing Parity = "both_failing" // addresses of both families, none passes
	ParityIPv4Only    Parity = "ipv4_only"    // no IPv6 address (or IPv6 not probed)
	ParityIPv6Only    Parity = "ipv6_only"    // no IPv4 address (or IPv4 not probed)
)

// Parities lists every parity, for documentation and labels.
var Parities = []Parity{ParityBothPass, ParityIPv6Failing, ParityIPv4Failing, ParityBothFailing, ParityIPv4Only, ParityIPv6Only}
