module github.com/libmemberlist/interop/mixed/grafana

go 1.25.0

require (
	github.com/hashicorp/memberlist v0.7.0
	github.com/libmemberlist/interop/mixed/mixtest v0.0.0
)

require (
	github.com/armon/go-metrics v0.4.1 // indirect
	github.com/golang/snappy v1.0.0 // indirect
	github.com/google/btree v0.0.0-20180813153112-4030bb1f1f0c // indirect
	github.com/hashicorp/errwrap v1.0.0 // indirect
	github.com/hashicorp/go-immutable-radix v1.0.0 // indirect
	github.com/hashicorp/go-metrics v0.5.4 // indirect
	github.com/hashicorp/go-msgpack/v2 v2.1.1 // indirect
	github.com/hashicorp/go-multierror v1.1.1 // indirect
	github.com/hashicorp/go-sockaddr v1.0.0 // indirect
	github.com/hashicorp/golang-lru v0.5.0 // indirect
	github.com/libmemberlist/libmemberlist/go v0.0.0 // indirect
	github.com/miekg/dns v1.1.26 // indirect
	github.com/sean-/seed v0.0.0-20170313163322-e2103e2c3529 // indirect
	golang.org/x/crypto v0.32.0 // indirect
	golang.org/x/net v0.34.0 // indirect
	golang.org/x/sys v0.29.0 // indirect
)

replace (
	// grafana/memberlist, the fork Loki, Mimir and Tempo run (through dskit), at the commit dskit
	// pins: hashicorp/memberlist plus CompressionAlgorithm (Snappy), NodeSelectionDelegate and
	// PushPullNodes. Its go.mod names itself github.com/hashicorp/memberlist.
	github.com/hashicorp/memberlist => github.com/grafana/memberlist v0.3.1-0.20260515134459-1798cf41aca7
	github.com/libmemberlist/interop/mixed/mixtest => ../mixtest
	github.com/libmemberlist/libmemberlist/go => ../../..
)
