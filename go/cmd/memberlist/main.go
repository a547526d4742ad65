// Command memberlist runs a gossip membership agent and inspects a running one.
//
// It is written against github.com/hashicorp/memberlist's API only. go.mod replaces that
// module with libmemberlist's Go package, so the default build runs on libmemberlist;
// building with -modfile=go.real.mod gives the same program on the real hashicorp/memberlist.
//
//	memberlist agent --name a --bind 127.0.0.1:7946 --http 127.0.0.1:7980
//	memberlist agent --name b --bind 127.0.0.1:7947 --join 127.0.0.1:7946
//	memberlist members --agent 127.0.0.1:7980
//	memberlist keygen
//	memberlist completion bash
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "memberlist",
		Short: "Gossip cluster membership (SWIM + Lifeguard), memberlist-compatible",
		Long: `memberlist runs a cluster membership agent that speaks HashiCorp memberlist's gossip
protocol, and queries a running agent.

An agent joins a cluster, prints every membership change as it happens (UTC timestamps),
and serves its view of the cluster over HTTP (TCP or a unix socket) for "memberlist members".
SIGINT or SIGTERM makes it leave the cluster gracefully and exit.`,
		SilenceUsage: true,
	}
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(newAgentCmd(), newMembersCmd(), newKeygenCmd())
	return root
}

func newKeygenCmd() *cobra.Command {
	var size int
	cmd := &cobra.Command{
		Use:   "keygen",
		Short: "Print a random base64 encryption key for --key",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, err := newKey(size)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), k)
			return nil
		},
	}
	cmd.Flags().IntVar(&size, "size", 32, "key size in bytes: 16 (AES-128), 24 (AES-192) or 32 (AES-256)")
	return cmd
}
