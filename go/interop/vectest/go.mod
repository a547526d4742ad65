module github.com/libmemberlist/interop/vectest

go 1.22
