// Package brokertest is the glue between go-plugin and loopp's brokertest
// contract (../../../proto/examples/brokertest/brokertest.proto): the plugin
// serves BrokerTest, and both sides serve Echo on broker ids.
package brokertest

import (
	"context"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"loopp/go-interop/common/kv"
	"loopp/go-interop/internal/brokertestproto"
)

// Handshake is the examples' handshake (protocol version 1, BASIC_PLUGIN=hello).
var Handshake = kv.Handshake

// Plugin is the "brokertest" plugin. On the plugin side, NewServer builds the
// BrokerTest implementation for the connection's broker. On the host side,
// Dispense returns a *Client.
type Plugin struct {
	plugin.NetRPCUnsupportedPlugin
	NewServer func(*plugin.GRPCBroker) brokertestproto.BrokerTestServer
}

var _ plugin.GRPCPlugin = (*Plugin)(nil)

func (p *Plugin) GRPCServer(broker *plugin.GRPCBroker, s *grpc.Server) error {
	brokertestproto.RegisterBrokerTestServer(s, p.NewServer(broker))
	return nil
}

func (p *Plugin) GRPCClient(_ context.Context, broker *plugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return &Client{BrokerTestClient: brokertestproto.NewBrokerTestClient(c), Broker: broker}, nil
}

// Client is what a host dispenses: the raw BrokerTest client and the broker
// of the same plugin connection.
type Client struct {
	brokertestproto.BrokerTestClient
	Broker *plugin.GRPCBroker
}

// Echo answers every request with Prefix + text.
type Echo struct {
	brokertestproto.UnimplementedEchoServer
	Prefix string
}

func (e *Echo) Echo(_ context.Context, req *brokertestproto.EchoRequest) (*brokertestproto.EchoReply, error) {
	return &brokertestproto.EchoReply{Text: e.Prefix + req.Text}, nil
}
