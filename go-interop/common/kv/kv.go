// Package kv is the glue between go-plugin and the proto.KV service of
// go-plugin's examples/grpc: the handshake, the Go interface and a GRPCPlugin
// that serves/dispenses it.
package kv

import (
	"context"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"loopp/go-interop/common/kvproto"
)

// Handshake is the handshake of go-plugin's examples (protocol version 1,
// magic cookie BASIC_PLUGIN=hello).
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "BASIC_PLUGIN",
	MagicCookieValue: "hello",
}

// KV is what a plugin implements and what a host gets from Dispense.
type KV interface {
	Put(key string, value []byte) error
	Get(key string) ([]byte, error)
}

// Plugin serves Impl (plugin side) or dispenses a KV client (host side) over
// gRPC. net/rpc is refused by the embedded NetRPCUnsupportedPlugin.
type Plugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl KV
}

var _ plugin.GRPCPlugin = (*Plugin)(nil)

func (p *Plugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	kvproto.RegisterKVServer(s, &server{impl: p.Impl})
	return nil
}

func (p *Plugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return &client{kvproto.NewKVClient(c)}, nil
}

type client struct{ c kvproto.KVClient }

func (c *client) Put(key string, value []byte) error {
	_, err := c.c.Put(context.Background(), &kvproto.PutRequest{Key: key, Value: value})
	return err
}

func (c *client) Get(key string) ([]byte, error) {
	resp, err := c.c.Get(context.Background(), &kvproto.GetRequest{Key: key})
	if err != nil {
		return nil, err
	}
	return resp.Value, nil
}

type server struct {
	kvproto.UnimplementedKVServer
	impl KV
}

func (s *server) Put(_ context.Context, req *kvproto.PutRequest) (*kvproto.Empty, error) {
	return &kvproto.Empty{}, s.impl.Put(req.Key, req.Value)
}

func (s *server) Get(_ context.Context, req *kvproto.GetRequest) (*kvproto.GetResponse, error) {
	v, err := s.impl.Get(req.Key)
	return &kvproto.GetResponse{Value: v}, err
}
