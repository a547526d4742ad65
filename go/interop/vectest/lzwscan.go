package vectest

// LZWTableResets counts the CLEAR codes that appear after the first code of a Go
// compress/lzw stream (LSB order, literal width 8): the number of times the encoder
// filled its 12-bit table and started over. It only tracks code widths the way Go's
// reader does (no decompression); it is used to prove that vectors meant to exercise
// table resets really do. It returns -1 on a malformed stream.
func LZWTableResets(buf []byte) int {
	const (
		clear    = 256
		eof      = 257
		maxWidth = 12
	)
	var (
		bits     uint32
		nBits    uint
		width    uint = 9
		hi       uint = eof
		overflow uint = 1 << 9
		resets        = 0
		first         = true
	)
	for i := 0; ; {
		for nBits < width {
			if i >= len(buf) {
				return -1 // no EOF code
			}
			bits |= uint32(buf[i]) << nBits
			nBits += 8
			i++
		}
		code := uint(bits & (1<<width - 1))
		bits >>= width
		nBits -= width
		switch {
		case code == clear:
			if !first {
				resets++
			}
			width, hi, overflow = 9, eof, 1<<9
			first = false
			continue
		case code == eof:
			return resets
		case code > hi:
			return -1
		}
		first = false
		hi++
		if hi >= overflow {
			if width == maxWidth {
				hi--
			} else {
				width++
				overflow <<= 1
			}
		}
	}
}
