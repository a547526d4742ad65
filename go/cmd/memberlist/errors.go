package main

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// The agent's error texts: what the operator typed, what is wrong with it, what to do. Errors
// from memberlist are reworded here (they name its internals and nest "could not ...: failed
// to ..."), and a join's multierror becomes one line.

// needIP: memberlist binds and advertises IP addresses only; a host name there is an invalid
// address, not something to look up.
func needIP(host, value, flag string) error {
	if net.ParseIP(strings.Trim(host, "[]")) == nil {
		return fmt.Errorf("%s %q: invalid address: %q is not an IP address", flag, value, host)
	}
	return nil
}

var numericHost = regexp.MustCompile(`^[0-9.]+$`)

// checkJoinAddr rejects a --join address that cannot be one: [name/]host[:port] where a host
// that looks like an IPv4 or IPv6 literal must be a valid one (memberlist would hand "300.1.1.1"
// to DNS and report "no such host"); host names are looked up when joining.
func checkJoinAddr(s string) error {
	addr := s
	if _, after, ok := strings.Cut(s, "/"); ok {
		addr = after
	}
	host, port := addr, ""
	if h, p, err := net.SplitHostPort(addr); err == nil {
		host, port = h, p
	} else if strings.Count(addr, ":") == 1 || strings.HasPrefix(addr, "[") {
		return fmt.Errorf("--join %q: invalid address (want host[:port])", s)
	}
	if host == "" {
		return fmt.Errorf("--join %q: invalid address: no host", s)
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("--join %q: invalid port %q (want 1 to 65535)", s, port)
		}
	}
	if (numericHost.MatchString(host) || strings.Contains(host, ":")) && net.ParseIP(host) == nil {
		return fmt.Errorf("--join %q: invalid address: %q is not a valid IP address", s, host)
	}
	return nil
}

var (
	dialPrefix   = regexp.MustCompile(`dial tcp \S+: (connect: )?`)
	lookupPrefix = regexp.MustCompile(`lookup \S+( on \S+)?: `)
)

// joinErrorText makes one line of a Join error: memberlist returns a multierror ("1 error
// occurred:\n\t* failed to join X: dial tcp X: connect: connection refused\n\n").
func joinErrorText(err error) string {
	var errs []error
	if me, ok := err.(interface{ WrappedErrors() []error }); ok {
		errs = me.WrappedErrors()
	}
	if len(errs) == 0 {
		errs = []error{err}
	}
	parts := make([]string, 0, len(errs))
	for _, e := range errs {
		t := strings.TrimSpace(e.Error())
		t = strings.TrimPrefix(t, "failed to join ")
		if rest, ok := strings.CutPrefix(t, "failed to resolve "); ok {
			t = lookupPrefix.ReplaceAllString(rest, "")
			if strings.HasSuffix(t, "no such host") {
				t += " (DNS)"
			}
		}
		parts = append(parts, dialPrefix.ReplaceAllString(t, ""))
	}
	return strings.Join(parts, "; ")
}

var listenerPrefix = regexp.MustCompile(`failed to start (UDP|TCP) listener on "[^"]*" port \d+: listen \w+ \S+: (bind: )?`)

// createErrorText rewords Create's error (the flags were checked before, so what is left is
// mostly the gossip port).
func createErrorText(bind string, err error) error {
	t := strings.TrimSpace(err.Error())
	for _, p := range []string{"memberlist: ", "could not set up network transport: ", "failed to obtain an address: "} {
		t = strings.TrimPrefix(t, p)
	}
	t = listenerPrefix.ReplaceAllString(t, "$1 port: ")
	if strings.Contains(t, "address already in use") {
		return fmt.Errorf("--bind %s: %s; is another agent running on this host? give this one another --bind port (port 0 picks a free one)", bind, t)
	}
	return fmt.Errorf("cannot start the node on %s: %s", bind, t)
}

// flagError adds what to do to cobra's flag errors: the closest flag name for a typo, and
// where the usage is.
func flagError(c *cobra.Command, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "unknown flag: --"); ok {
		if best := closestFlag(c, name); best != "" {
			msg += fmt.Sprintf(" (did you mean --%s?)", best)
		}
	}
	return fmt.Errorf("%s\nRun '%s --help' for usage.", msg, c.CommandPath())
}

func closestFlag(c *cobra.Command, name string) string {
	best, bestD := "", 3 // at most two edits away
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		if d := editDistance(name, f.Name); d < bestD {
			best, bestD = f.Name, d
		}
	})
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
