//go:build cgo

package memberlist

import (
	"bufio"
	"fmt"
	"io"
	"net"
)

// LabelMaxSize is the longest label (Config.Label) allowed.
const LabelMaxSize = 255

// labelMsgType is the first byte of a label header (memberlist's hasLabelMsg).
const labelMsgType = 244

// AddLabelHeaderToPacket returns buf prefixed with label's header (buf itself when label is "").
func AddLabelHeaderToPacket(buf []byte, label string) ([]byte, error) {
	if label == "" {
		return buf, nil
	}
	if len(label) > LabelMaxSize {
		return nil, fmt.Errorf("label %q is too long", label)
	}
	return labelHeader(label, buf), nil
}

// RemoveLabelHeaderFromPacket splits a packet into its label (if any) and the rest.
func RemoveLabelHeaderFromPacket(buf []byte) (newBuf []byte, label string, err error) {
	if len(buf) == 0 || buf[0] != labelMsgType {
		return buf, "", nil
	}
	if len(buf) < 2 {
		return nil, "", fmt.Errorf("cannot decode label; packet has been truncated")
	}
	size := int(buf[1])
	if size < 1 {
		return nil, "", fmt.Errorf("label header cannot be empty when present")
	}
	if len(buf) < 2+size {
		return nil, "", fmt.Errorf("cannot decode label; packet has been truncated")
	}
	return buf[2+size:], string(buf[2 : 2+size]), nil
}

// AddLabelHeaderToStream writes label's header to conn (nothing when label is "").
func AddLabelHeaderToStream(conn net.Conn, label string) error {
	if label == "" {
		return nil
	}
	if len(label) > LabelMaxSize {
		return fmt.Errorf("label %q is too long", label)
	}
	_, err := conn.Write(labelHeader(label, nil))
	return err
}

// RemoveLabelHeaderFromStream reads a label header, if any, from the start of conn and returns
// a conn that yields the rest of the stream, plus the label. On error the caller closes conn.
func RemoveLabelHeaderFromStream(conn net.Conn) (net.Conn, string, error) {
	br := bufio.NewReader(conn)
	first, err := br.Peek(1)
	if err != nil {
		if err == io.EOF {
			return conn, "", nil // empty stream: nothing buffered to hand back
		}
		return nil, "", err
	}
	if first[0] != labelMsgType {
		return spliceBuffered(conn, br, 0), "", nil
	}
	head, err := br.Peek(2)
	if err != nil {
		if err == io.EOF {
			return nil, "", fmt.Errorf("cannot decode label; stream has been truncated")
		}
		return nil, "", err
	}
	size := int(head[1])
	if size < 1 {
		return nil, "", fmt.Errorf("label header cannot be empty when present")
	}
	whole, err := br.Peek(2 + size)
	if err != nil {
		if err == io.EOF {
			return nil, "", fmt.Errorf("cannot decode label; stream has been truncated")
		}
		return nil, "", err
	}
	label := string(whole[2:])
	return spliceBuffered(conn, br, 2+size), label, nil
}

func labelHeader(label string, rest []byte) []byte {
	out := make([]byte, 0, 2+len(label)+len(rest))
	out = append(out, labelMsgType, byte(len(label)))
	out = append(out, label...)
	return append(out, rest...)
}

// spliceBuffered returns a conn that first yields what br buffered past skip bytes.
func spliceBuffered(conn net.Conn, br *bufio.Reader, skip int) net.Conn {
	buffered, _ := br.Peek(br.Buffered())
	return &peekedConn{peeked: append([]byte(nil), buffered[skip:]...), Conn: conn}
}

// peekedConn is a net.Conn with some already-read bytes put back in front.
type peekedConn struct {
	peeked []byte
	net.Conn
}

func (c *peekedConn) Read(p []byte) (int, error) {
	if len(c.peeked) > 0 {
		n := copy(p, c.peeked)
		c.peeked = c.peeked[n:]
		if len(c.peeked) == 0 {
			c.peeked = nil
		}
		return n, nil
	}
	return c.Conn.Read(p)
}
