// protocheck-go compares loopp's hand-written proto/loop/*.proto with the descriptors
// the pinned chainlink-common registers at run time (its generated pb package is
// linked in through pkg/loop). Input: a FileDescriptorSet or Buf image, e.g.
//
//	node_modules/.bin/buf build -o /tmp/loop.binpb --path proto/loop
//	go-interop/bin/protocheck-go /tmp/loop.binpb
//
// For every service and message of package loop (and its sub-packages, such as
// loop.chain.common and loop.evm) in the input it checks that the
// real one exists with the same full name, that every method has the same request
// and response types and streaming flags, and that every field has the same number,
// name, kind, cardinality, presence and message/enum type. Methods and fields the
// real definitions have but the input lacks are listed as "omitted" (not an error).
// Exit status 1 on any mismatch.
package main

import (
	"fmt"
	"os"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	_ "github.com/smartcontractkit/chainlink-common/pkg/loop" // registers loop.* descriptors
)

var bad int

func mismatch(format string, args ...any) {
	bad++
	fmt.Printf("MISMATCH "+format+"\n", args...)
}

func typeName(f protoreflect.FieldDescriptor) string {
	switch {
	case f.Message() != nil:
		return string(f.Message().FullName())
	case f.Enum() != nil:
		return string(f.Enum().FullName())
	}
	return ""
}

func checkMessage(mine protoreflect.MessageDescriptor) {
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(mine.FullName())
	if err != nil {
		mismatch("message %s: not in the pinned version", mine.FullName())
		return
	}
	real, ok := d.(protoreflect.MessageDescriptor)
	if !ok {
		mismatch("message %s: is a %T in the pinned version", mine.FullName(), d)
		return
	}
	for i := 0; i < mine.Fields().Len(); i++ {
		f := mine.Fields().Get(i)
		r := real.Fields().ByNumber(f.Number())
		if r == nil {
			mismatch("field %s.%s = %d: no such number in the pinned version", mine.FullName(), f.Name(), f.Number())
			continue
		}
		if f.Name() != r.Name() || f.Kind() != r.Kind() || f.Cardinality() != r.Cardinality() ||
			f.HasPresence() != r.HasPresence() || f.IsMap() != r.IsMap() || typeName(f) != typeName(r) {
			mismatch("field %s = %d: mine %s %v %v %s presence=%v, pinned %s %v %v %s presence=%v", mine.FullName(), f.Number(),
				f.Name(), f.Cardinality(), f.Kind(), typeName(f), f.HasPresence(),
				r.Name(), r.Cardinality(), r.Kind(), typeName(r), r.HasPresence())
		}
	}
	for i := 0; i < real.Fields().Len(); i++ {
		r := real.Fields().Get(i)
		if mine.Fields().ByNumber(r.Number()) == nil {
			fmt.Printf("omitted field %s.%s = %d\n", real.FullName(), r.Name(), r.Number())
		}
	}
	for i := 0; i < mine.Messages().Len(); i++ {
		if !mine.Messages().Get(i).IsMapEntry() {
			checkMessage(mine.Messages().Get(i))
		}
	}
}

func checkEnum(mine protoreflect.EnumDescriptor) {
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(mine.FullName())
	real, ok := d.(protoreflect.EnumDescriptor)
	if err != nil || !ok {
		mismatch("enum %s: not in the pinned version", mine.FullName())
		return
	}
	for i := 0; i < mine.Values().Len(); i++ {
		v := mine.Values().Get(i)
		r := real.Values().ByName(v.Name())
		if r == nil || r.Number() != v.Number() {
			mismatch("enum value %s = %d differs", v.FullName(), v.Number())
		}
	}
}

func checkService(mine protoreflect.ServiceDescriptor) {
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(mine.FullName())
	real, ok := d.(protoreflect.ServiceDescriptor)
	if err != nil || !ok {
		mismatch("service %s: not in the pinned version", mine.FullName())
		return
	}
	for i := 0; i < mine.Methods().Len(); i++ {
		m := mine.Methods().Get(i)
		r := real.Methods().ByName(m.Name())
		if r == nil {
			mismatch("method /%s/%s: not in the pinned version", mine.FullName(), m.Name())
			continue
		}
		if m.Input().FullName() != r.Input().FullName() || m.Output().FullName() != r.Output().FullName() ||
			m.IsStreamingClient() != r.IsStreamingClient() || m.IsStreamingServer() != r.IsStreamingServer() {
			mismatch("method /%s/%s: mine (%s) %s, pinned (%s) %s", mine.FullName(), m.Name(),
				m.Input().FullName(), m.Output().FullName(), r.Input().FullName(), r.Output().FullName())
		}
	}
	for i := 0; i < real.Methods().Len(); i++ {
		r := real.Methods().Get(i)
		if mine.Methods().ByName(r.Name()) == nil {
			fmt.Printf("omitted method /%s/%s (%s) returns (%s)\n", real.FullName(), r.Name(), r.Input().FullName(), r.Output().FullName())
		}
	}
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: protocheck-go DESCRIPTOR_SET")
		os.Exit(2)
	}
	b, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var set descriptorpb.FileDescriptorSet
	if err := (proto.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, &set); err != nil {
		fmt.Fprintln(os.Stderr, "descriptor set:", err)
		os.Exit(2)
	}
	files, err := protodesc.NewFiles(&set)
	if err != nil {
		fmt.Fprintln(os.Stderr, "descriptor set:", err)
		os.Exit(2)
	}
	checked := 0
	files.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if pkg := string(fd.Package()); pkg != "loop" && !strings.HasPrefix(pkg, "loop.") {
			return true
		}
		checked++
		for i := 0; i < fd.Services().Len(); i++ {
			checkService(fd.Services().Get(i))
		}
		for i := 0; i < fd.Messages().Len(); i++ {
			checkMessage(fd.Messages().Get(i))
		}
		for i := 0; i < fd.Enums().Len(); i++ {
			checkEnum(fd.Enums().Get(i))
		}
		return true
	})
	if checked == 0 {
		fmt.Fprintln(os.Stderr, "no file of package loop in the input")
		os.Exit(2)
	}
	fmt.Printf("%d files of package loop (and loop.*) checked, %d mismatches\n", checked, bad)
	if bad > 0 {
		os.Exit(1)
	}
}
