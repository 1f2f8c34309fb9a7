// relayer-ref-go is loopp's reference relayer LOOP: a Relayer plugin served by
// chainlink-common v1.3.1's own plugin-side code (loop.NewStartedServer,
// loop.GRPCPluginRelayer, plugin.Serve) whose answers are the data in
// fixtures/relayer/reference.json. See ../../README.md.
package main

import (
	"fmt"
	"os"

	"github.com/hashicorp/go-plugin"

	"github.com/smartcontractkit/chainlink-common/pkg/loop"
)

func main() {
	s, err := loop.NewStartedServer("PluginRelayerRef")
	if err != nil {
		fmt.Fprintf(os.Stderr, "relayer-ref-go: %v\n", err)
		os.Exit(1)
	}
	defer s.Stop()

	p := newPluginRelayer(s.Logger)
	s.MustRegister(p)

	stop := make(chan struct{})
	defer close(stop)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: loop.PluginRelayerHandshakeConfig(),
		Plugins: map[string]plugin.Plugin{
			loop.PluginRelayerName: &loop.GRPCPluginRelayer{
				PluginServer: p,
				BrokerConfig: loop.BrokerConfig{StopCh: stop, Logger: s.Logger, GRPCOpts: s.GRPCOpts},
			},
		},
		GRPCServer: s.GRPCOpts.NewServer,
	})
}
