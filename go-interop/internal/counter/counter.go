// Package counter is the glue between go-plugin and the services of
// go-plugin's examples/bidirectional (proto.Counter, served by the plugin,
// and proto.AddHelper, served by the host on a broker id for each Put).
package counter

import (
	"context"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"loopp/go-interop/common/kv"
	"loopp/go-interop/common/kvproto"
	"loopp/go-interop/internal/brokerserve"
	"loopp/go-interop/internal/counterproto"
)

// Handshake is the examples' handshake (protocol version 1, BASIC_PLUGIN=hello).
var Handshake = kv.Handshake

// AddHelper is what the host lends the plugin for the duration of a Put.
type AddHelper interface {
	Sum(a, b int64) (int64, error)
}

// Counter is what a plugin implements and what a host gets from Dispense.
type Counter interface {
	Put(key string, value int64, add AddHelper) error
	Get(key string) (int64, error)
}

// Plugin serves Impl (plugin side) or dispenses a Counter client (host side)
// over gRPC only.
type Plugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl Counter
}

var _ plugin.GRPCPlugin = (*Plugin)(nil)

func (p *Plugin) GRPCServer(broker *plugin.GRPCBroker, s *grpc.Server) error {
	counterproto.RegisterCounterServer(s, &server{impl: p.Impl, broker: broker})
	return nil
}

func (p *Plugin) GRPCClient(_ context.Context, broker *plugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return &client{c: counterproto.NewCounterClient(c), broker: broker}, nil
}

// client is the host side. Put serves AddHelper on a fresh broker id while
// the call runs and stops that server afterwards.
type client struct {
	c      counterproto.CounterClient
	broker *plugin.GRPCBroker
}

func (c *client) Put(key string, value int64, add AddHelper) error {
	id := c.broker.NextId()
	h := brokerserve.Serve(c.broker, id, func(s *grpc.Server) {
		counterproto.RegisterAddHelperServer(s, &addServer{impl: add})
	})
	defer h.Stop()
	_, err := c.c.Put(context.Background(), &counterproto.CounterPutRequest{AddServer: id, Key: key, Value: value})
	return err
}

func (c *client) Get(key string) (int64, error) {
	resp, err := c.c.Get(context.Background(), &counterproto.CounterGetRequest{Key: key})
	if err != nil {
		return 0, err
	}
	return resp.Value, nil
}

// server is the plugin side. Put dials the host's AddHelper for the call.
type server struct {
	counterproto.UnimplementedCounterServer
	impl   Counter
	broker *plugin.GRPCBroker
}

func (s *server) Put(ctx context.Context, req *counterproto.CounterPutRequest) (*kvproto.Empty, error) {
	conn, err := s.broker.Dial(req.AddServer)
	if err != nil {
		return nil, err
	}
	defer func() { _ = conn.Close() }()
	add := &addClient{ctx: ctx, c: counterproto.NewAddHelperClient(conn)}
	if err := s.impl.Put(req.Key, req.Value, add); err != nil {
		return nil, err
	}
	return &kvproto.Empty{}, nil
}

func (s *server) Get(_ context.Context, req *counterproto.CounterGetRequest) (*counterproto.CounterGetResponse, error) {
	v, err := s.impl.Get(req.Key)
	if err != nil {
		return nil, err
	}
	return &counterproto.CounterGetResponse{Value: v}, nil
}

// addClient calls the host's AddHelper within the Put call's context.
type addClient struct {
	ctx context.Context
	c   counterproto.AddHelperClient
}

func (a *addClient) Sum(x, y int64) (int64, error) {
	resp, err := a.c.Sum(a.ctx, &counterproto.SumRequest{A: x, B: y})
	if err != nil {
		return 0, err
	}
	return resp.R, nil
}

type addServer struct {
	counterproto.UnimplementedAddHelperServer
	impl AddHelper
}

func (a *addServer) Sum(_ context.Context, req *counterproto.SumRequest) (*counterproto.SumResponse, error) {
	r, err := a.impl.Sum(req.A, req.B)
	if err != nil {
		return nil, err
	}
	return &counterproto.SumResponse{R: r}, nil
}
