//go:build cgo

package memberlist

import (
	"fmt"
	"net"
)

// LogAddress formats an address for a log line: "from=<addr>".
func LogAddress(addr net.Addr) string {
	if addr == nil {
		return "from=<unknown address>"
	}
	return fmt.Sprintf("from=%s", addr.String())
}

// LogStringAddress formats an address string for a log line.
func LogStringAddress(addr string) string {
	if addr == "" {
		return "from=<unknown address>"
	}
	return fmt.Sprintf("from=%s", addr)
}

// LogConn formats a connection's remote address for a log line.
func LogConn(conn net.Conn) string {
	if conn == nil {
		return LogAddress(nil)
	}
	return LogAddress(conn.RemoteAddr())
}
