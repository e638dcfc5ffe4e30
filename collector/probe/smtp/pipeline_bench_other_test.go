//go:build !linux

package smtp

import "net"

// quickAck: only Linux has TCP_QUICKACK (see the Linux version).
func quickAck(net.Conn) {}
