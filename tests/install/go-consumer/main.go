// The Go consumer of tests/install/install_go.sh: a program written for
// github.com/hashicorp/memberlist, built against an installed libmemberlist (its go.mod, written
// by the script, replaces that module with a copy of libmemberlist's go/ package). It starts one
// node on 127.0.0.1 (a free port), prints it and shuts it down. LibraryVersion exists only in
// libmemberlist's package: against the real memberlist this does not compile.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/hashicorp/memberlist"
)

func main() {
	c := memberlist.DefaultLocalConfig()
	c.Name = "install-go-consumer"
	c.BindAddr = "127.0.0.1"
	c.BindPort = 0
	c.LogOutput = io.Discard
	m, err := memberlist.Create(c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "create:", err)
		os.Exit(1)
	}
	self := m.LocalNode()
	fmt.Printf("node %s on %s:%d, %d member(s), libmemberlist %s\n",
		self.Name, self.Addr, self.Port, m.NumMembers(), memberlist.LibraryVersion())
	if err := m.Shutdown(); err != nil {
		fmt.Fprintln(os.Stderr, "shutdown:", err)
		os.Exit(1)
	}
}
