module github.com/libmemberlist/libmemberlist/bench/cluster

go 1.25.0

require (
	github.com/hashicorp/go-metrics v0.5.4
	github.com/hashicorp/memberlist v0.7.0
)

require (
	github.com/hashicorp/errwrap v1.0.0 // indirect
	github.com/hashicorp/go-immutable-radix v1.0.0 // indirect
	github.com/hashicorp/go-multierror v1.1.1 // indirect
	github.com/hashicorp/golang-lru v0.5.0 // indirect
)

replace github.com/hashicorp/memberlist => ../../go
