package main

import (
	"context"
	"fmt"
	"sort"
	"time"

	"google.golang.org/grpc"
	refv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// Report is what the probe prints.
type Report struct {
	API       string   `json:"api"`
	Services  []string `json:"services"`
	ListError *Failure `json:"listError,omitempty"`
	// Resolved: service -> its file and method names, from the registry.
	Resolved map[string]Service `json:"resolved"`
	// NotFound: symbol -> the reflection error answer.
	NotFound map[string]Failure `json:"notFound"`
	// Symbols: each -symbol -> the name of the file that declares it.
	Symbols map[string]string `json:"symbols"`
	// Files: every file received, sorted.
	Files []string `json:"files"`
	// ByFilenameMismatch: files that file_by_filename did not return first.
	ByFilenameMismatch []string `json:"byFilenameMismatch"`
	RegistryError      string   `json:"registryError,omitempty"`
	KV                 *KVCalls `json:"kv,omitempty"`
}

type Service struct {
	File    string   `json:"file"`
	Methods []string `json:"methods"`
}

type Failure struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type KVCalls struct {
	Get   string `json:"get,omitempty"`
	Error string `json:"error,omitempty"`
}

// session is one reflection stream; the v1alpha path carries the same messages.
type session struct {
	stream grpc.ClientStream
}

func open(ctx context.Context, conn grpc.ClientConnInterface, api string) (*session, error) {
	desc := &grpc.StreamDesc{StreamName: "ServerReflectionInfo", ServerStreams: true, ClientStreams: true}
	stream, err := conn.NewStream(ctx, desc, "/grpc.reflection."+api+".ServerReflection/ServerReflectionInfo")
	if err != nil {
		return nil, err
	}
	return &session{stream: stream}, nil
}

func (s *session) ask(req *refv1.ServerReflectionRequest) (*refv1.ServerReflectionResponse, error) {
	if err := s.stream.SendMsg(req); err != nil {
		return nil, err
	}
	resp := new(refv1.ServerReflectionResponse)
	if err := s.stream.RecvMsg(resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// files asks for a file set; an error answer comes back as a Failure.
func (s *session) files(req *refv1.ServerReflectionRequest) ([]*descriptorpb.FileDescriptorProto, *Failure, error) {
	resp, err := s.ask(req)
	if err != nil {
		return nil, nil, err
	}
	if e := resp.GetErrorResponse(); e != nil {
		return nil, &Failure{Code: fmt.Sprint(e.GetErrorCode()), Message: e.GetErrorMessage()}, nil
	}
	var out []*descriptorpb.FileDescriptorProto
	for _, b := range resp.GetFileDescriptorResponse().GetFileDescriptorProto() {
		fd := new(descriptorpb.FileDescriptorProto)
		if err := proto.Unmarshal(b, fd); err != nil {
			return nil, nil, fmt.Errorf("a FileDescriptorProto does not decode: %w", err)
		}
		out = append(out, fd)
	}
	if len(out) == 0 {
		return nil, nil, fmt.Errorf("an empty file_descriptor_response to %v", req)
	}
	return out, nil, nil
}

func probe(conn grpc.ClientConnInterface, api string, symbols []string, key, value string) (*Report, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r := &Report{API: api, Services: []string{}, Resolved: map[string]Service{}, NotFound: map[string]Failure{}, Symbols: map[string]string{}, Files: []string{}, ByFilenameMismatch: []string{}}
	s, err := open(ctx, conn, api)
	if err != nil {
		return nil, err
	}
	list, err := s.ask(&refv1.ServerReflectionRequest{MessageRequest: &refv1.ServerReflectionRequest_ListServices{ListServices: "*"}})
	if err != nil {
		st := status.Convert(err)
		r.ListError = &Failure{Code: st.Code().String(), Message: st.Message()}
		return r, nil
	}
	for _, svc := range list.GetListServicesResponse().GetService() {
		r.Services = append(r.Services, svc.GetName())
	}
	received := map[string]*descriptorpb.FileDescriptorProto{}
	lookup := func(symbol string) (string, error) {
		fds, failure, err := s.files(&refv1.ServerReflectionRequest{MessageRequest: &refv1.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: symbol}})
		if err != nil || failure != nil {
			if failure != nil {
				r.NotFound[symbol] = *failure
			}
			return "", err
		}
		for _, fd := range fds {
			received[fd.GetName()] = fd
		}
		return fds[0].GetName(), nil
	}
	for _, svc := range r.Services {
		if _, err := lookup(svc); err != nil {
			return nil, err
		}
	}
	for _, sym := range symbols {
		file, err := lookup(sym)
		if err != nil {
			return nil, err
		}
		if file != "" {
			r.Symbols[sym] = file
		}
	}
	if err := checkByFilename(s, received, r); err != nil {
		return nil, err
	}
	registry, err := build(received)
	if err != nil {
		r.RegistryError = err.Error()
		return r, nil
	}
	resolve(registry, r)
	if _, ok := r.Resolved["proto.KV"]; ok {
		r.KV = callKV(ctx, conn, registry, key, value)
	}
	return r, nil
}

// checkByFilename asks for every file received by its name: it must come first.
func checkByFilename(s *session, received map[string]*descriptorpb.FileDescriptorProto, r *Report) error {
	for name := range received {
		r.Files = append(r.Files, name)
	}
	sort.Strings(r.Files)
	for _, name := range r.Files {
		fds, failure, err := s.files(&refv1.ServerReflectionRequest{MessageRequest: &refv1.ServerReflectionRequest_FileByFilename{FileByFilename: name}})
		if err != nil {
			return err
		}
		if failure != nil || fds[0].GetName() != name {
			r.ByFilenameMismatch = append(r.ByFilenameMismatch, name)
		}
	}
	return nil
}

func build(received map[string]*descriptorpb.FileDescriptorProto) (*protoregistry.Files, error) {
	set := &descriptorpb.FileDescriptorSet{}
	for _, fd := range received {
		set.File = append(set.File, fd)
	}
	return protodesc.NewFiles(set)
}

func resolve(registry *protoregistry.Files, r *Report) {
	for _, svc := range r.Services {
		d, err := registry.FindDescriptorByName(protoreflect.FullName(svc))
		if err != nil {
			continue
		}
		sd, ok := d.(protoreflect.ServiceDescriptor)
		if !ok {
			continue
		}
		methods := []string{}
		for i := 0; i < sd.Methods().Len(); i++ {
			methods = append(methods, string(sd.Methods().Get(i).Name()))
		}
		r.Resolved[svc] = Service{File: sd.ParentFile().Path(), Methods: methods}
	}
}

// callKV calls proto.KV with messages built from the reflected descriptors only.
func callKV(ctx context.Context, conn grpc.ClientConnInterface, registry *protoregistry.Files, key, value string) *KVCalls {
	d, _ := registry.FindDescriptorByName("proto.KV")
	sd := d.(protoreflect.ServiceDescriptor)
	put := sd.Methods().ByName("Put")
	get := sd.Methods().ByName("Get")
	if put == nil || get == nil {
		return &KVCalls{Error: "proto.KV has no Put or Get"}
	}
	putReq := dynamicpb.NewMessage(put.Input())
	setField(putReq, "key", protoreflect.ValueOfString(key))
	setField(putReq, "value", protoreflect.ValueOfBytes([]byte(value)))
	if err := conn.Invoke(ctx, "/proto.KV/Put", putReq, dynamicpb.NewMessage(put.Output())); err != nil {
		return &KVCalls{Error: "Put: " + err.Error()}
	}
	getReq := dynamicpb.NewMessage(get.Input())
	setField(getReq, "key", protoreflect.ValueOfString(key))
	getResp := dynamicpb.NewMessage(get.Output())
	if err := conn.Invoke(ctx, "/proto.KV/Get", getReq, getResp); err != nil {
		return &KVCalls{Error: "Get: " + err.Error()}
	}
	valueField := get.Output().Fields().ByName("value")
	if valueField == nil {
		return &KVCalls{Error: "GetResponse has no field value"}
	}
	return &KVCalls{Get: string(getResp.Get(valueField).Bytes())}
}

func setField(m *dynamicpb.Message, name string, v protoreflect.Value) {
	if f := m.Descriptor().Fields().ByName(protoreflect.Name(name)); f != nil {
		m.Set(f, v)
	}
}
