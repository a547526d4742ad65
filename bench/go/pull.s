// Intentionally empty: its presence lets the Go compiler accept the bodyless
// //go:linkname pull declarations in pull.go.
