package smtp

import (
	"net"
	"syscall"
)

// quickAck asks Linux to acknowledge what c receives at once rather than
// up to 40 ms later (delayed ACK): Postfix's socket has Nagle on, so a
// small reply written after a TLS session ticket waits for the ticket's
// ACK, and the proxy must be a pure delay, not a delayed ACK too. The
// flag does not stick, hence a call before every read.
func quickAck(c net.Conn) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}
