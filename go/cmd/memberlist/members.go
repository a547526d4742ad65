package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func newMembersCmd() *cobra.Command {
	var (
		agent   string
		asJSON  bool
		waitFor int
		timeout time.Duration
		token   string
	)
	cmd := &cobra.Command{
		Use:   "members",
		Short: "Print a running agent's member list",
		Long: `Print the member list of a running agent, as that agent sees it: each member's state
(alive or suspect), then the members that left or were declared dead and have not come
back. --wait-for N first waits until the agent sees exactly N alive or suspect members
(and for the agent to answer). The agent is found at --agent, by default $MEMBERLIST_AGENT
or ` + defaultHTTP + `; an agent that found that port taken prints the one it serves on.`,
		Example: `  memberlist members --agent 127.0.0.1:7980
  memberlist members --agent unix:/tmp/b.sock --json
  memberlist members --wait-for 5 --timeout 30s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if token == "" {
				token = os.Getenv("MEMBERLIST_HTTP_TOKEN")
			}
			c := client(agent, token)
			deadline := time.Now().Add(timeout)
			for {
				v, err := fetchView(cmd.Context(), c)
				if err != nil {
					if waitFor > 0 && time.Now().Before(deadline) && isConnErr(err) {
						time.Sleep(100 * time.Millisecond) // the agent may be starting
						continue
					}
					return agentError(agent, err)
				}
				if waitFor <= 0 || len(v.Members) == waitFor {
					return printView(cmd.OutOrStdout(), v, asJSON)
				}
				if time.Now().After(deadline) {
					_ = printView(cmd.OutOrStdout(), v, asJSON)
					return fmt.Errorf("agent %s sees %d members, not %d, after %v", agent, len(v.Members), waitFor, timeout)
				}
				time.Sleep(100 * time.Millisecond)
			}
		},
	}
	def := os.Getenv("MEMBERLIST_AGENT")
	if def == "" {
		def = defaultHTTP
	}
	f := cmd.Flags()
	f.StringVar(&agent, "agent", def, "the agent's --http address (host:port or unix:/path); default $MEMBERLIST_AGENT")
	f.BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	f.IntVar(&waitFor, "wait-for", 0, "wait until the agent sees exactly this many members")
	f.DurationVar(&timeout, "timeout", 30*time.Second, "give up waiting after this long")
	f.StringVar(&token, "token", "", "bearer token to send to the agent (its --http-token); default $MEMBERLIST_HTTP_TOKEN")
	return cmd
}

type agentClient struct {
	http  *http.Client
	base  string
	token string
}

func client(addr, token string) agentClient {
	tr := &http.Transport{}
	base := "http://" + addr
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}
		base = "http://agent"
	}
	return agentClient{http: &http.Client{Transport: tr, Timeout: 5 * time.Second}, base: base, token: token}
}

func fetchView(ctx context.Context, c agentClient) (View, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	var v View
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v1/members", nil)
	if err != nil {
		return v, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return v, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return v, fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	return v, json.NewDecoder(resp.Body).Decode(&v)
}

func printView(out io.Writer, v View, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tADDRESS\tSTATE\tPROTOCOL\tMETA")
	// Names, addresses and metadata came from the network (through the agent): escape what a
	// terminal would act on, and tabs, which would shift the columns.
	for _, m := range append(append([]Member(nil), v.Members...), v.Departed...) {
		name := printable(m.Name)
		if m.Self {
			name += " *"
		}
		state := m.State
		if state == "" {
			state = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d (%d-%d)\t%s\n", name, printable(m.Addr), printable(state), m.Protocol[2], m.Protocol[0], m.Protocol[1], printable(m.Meta))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	departed := ""
	if len(v.Departed) > 0 {
		departed = fmt.Sprintf("; %d left or dead", len(v.Departed))
	}
	_, err := fmt.Fprintf(out, "%d members, seen by %s (health score %d)%s\n", len(v.Members), printable(v.Self), v.Health, departed)
	return err
}

// isConnErr: nothing answers at the address (yet).
func isConnErr(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

// agentError says which agent did not answer and what to do, without the HTTP client's wrapping.
func agentError(agent string, err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return fmt.Errorf("no agent answers at %s (%v); start one, or give --agent the http= address an agent prints at start (or set $MEMBERLIST_AGENT)", agent, oe.Err)
	}
	return fmt.Errorf("agent %s: %v", agent, err)
}
