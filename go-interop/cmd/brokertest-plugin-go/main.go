// Command brokertest-plugin-go serves brokertest.BrokerTest under the plugin
// name "brokertest" (handshake: protocol version 1, BASIC_PLUGIN=hello):
//
//   - ServeEcho{prefix}: allocates id := broker.NextId(), serves an Echo that
//     replies prefix+text under it (go broker.AcceptAndServe), returns {id}.
//   - StopEcho{id}: stops that Echo server (unknown ids are ignored).
//   - CallHostEcho{id, text}: broker.Dial(id), calls the host's Echo{text},
//     closes the connection and returns the reply.
package main

import (
	"context"
	"os"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"loopp/go-interop/internal/brokerserve"
	"loopp/go-interop/internal/brokertest"
	"loopp/go-interop/internal/brokertestproto"
)

type server struct {
	brokertestproto.UnimplementedBrokerTestServer
	broker *plugin.GRPCBroker
	log    hclog.Logger

	mu     sync.Mutex
	served map[uint32]*brokerserve.Handle
}

func (s *server) ServeEcho(_ context.Context, req *brokertestproto.ServeEchoRequest) (*brokertestproto.ServeEchoResponse, error) {
	id := s.broker.NextId()
	h := brokerserve.Serve(s.broker, id, func(g *grpc.Server) {
		brokertestproto.RegisterEchoServer(g, &brokertest.Echo{Prefix: req.Prefix})
	})
	s.mu.Lock()
	s.served[id] = h
	s.mu.Unlock()
	s.log.Debug("serving echo", "id", id, "prefix", req.Prefix)
	return &brokertestproto.ServeEchoResponse{Id: id}, nil
}

func (s *server) StopEcho(_ context.Context, req *brokertestproto.StopEchoRequest) (*brokertestproto.StopEchoResponse, error) {
	s.mu.Lock()
	h := s.served[req.Id]
	delete(s.served, req.Id)
	s.mu.Unlock()
	if h != nil {
		h.Stop()
	}
	s.log.Debug("stopped echo", "id", req.Id, "known", h != nil)
	return &brokertestproto.StopEchoResponse{}, nil
}

func (s *server) CallHostEcho(ctx context.Context, req *brokertestproto.CallHostEchoRequest) (*brokertestproto.EchoReply, error) {
	conn, err := s.broker.Dial(req.Id)
	if err != nil {
		return nil, err
	}
	defer func() { _ = conn.Close() }()
	return brokertestproto.NewEchoClient(conn).Echo(ctx, &brokertestproto.EchoRequest{Text: req.Text})
}

func main() {
	logger := hclog.New(&hclog.LoggerOptions{
		Name:       "brokertest-plugin-go",
		Level:      hclog.Trace,
		Output:     os.Stderr,
		JSONFormat: true,
	})
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: brokertest.Handshake,
		Plugins: plugin.PluginSet{"brokertest": &brokertest.Plugin{
			NewServer: func(b *plugin.GRPCBroker) brokertestproto.BrokerTestServer {
				return &server{broker: b, log: logger, served: map[uint32]*brokerserve.Handle{}}
			},
		}},
		GRPCServer: plugin.DefaultGRPCServer,
		Logger:     logger,
	})
}
