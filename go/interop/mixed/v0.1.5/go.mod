module github.com/libmemberlist/interop/mixed/v015

go 1.22

require (
	github.com/hashicorp/memberlist v0.1.5
	github.com/libmemberlist/interop/mixed/mixtest v0.0.0
)

require (
	github.com/armon/go-metrics v0.4.1 // indirect
	github.com/google/btree v0.0.0-20180813153112-4030bb1f1f0c // indirect
	github.com/hashicorp/errwrap v1.0.0 // indirect
	github.com/hashicorp/go-immutable-radix v1.0.0 // indirect
	github.com/hashicorp/go-metrics v0.5.4 // indirect
	github.com/hashicorp/go-msgpack v0.5.3 // indirect
	github.com/hashicorp/go-multierror v1.1.1 // indirect
	github.com/hashicorp/go-sockaddr v1.0.0 // indirect
	github.com/hashicorp/golang-lru v0.5.0 // indirect
	github.com/libmemberlist/libmemberlist/go v0.0.0 // indirect
	github.com/miekg/dns v1.0.14 // indirect
	github.com/sean-/seed v0.0.0-20170313163322-e2103e2c3529 // indirect
	golang.org/x/crypto v0.0.0-20200622213623-75b288015ac9 // indirect
	golang.org/x/net v0.0.0-20200625001655-4c5254603344 // indirect
	golang.org/x/sys v0.0.0-20210603081109-ebe580a85c40 // indirect
)

replace (
	github.com/libmemberlist/interop/mixed/mixtest => ../mixtest
	github.com/libmemberlist/libmemberlist/go => ../../..
)
