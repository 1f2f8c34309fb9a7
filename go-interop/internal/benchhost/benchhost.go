// Package benchhost holds what the Go benchmark hosts share: the KV plugin client they launch
// (the plugin executable run directly, gRPC only) and a logger whose level comes from the
// environment.
package benchhost

import (
	"fmt"
	"os"
	"os/exec"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"loopp/go-interop/common/kv"
)

// Logger writes to stderr at the level named by the environment variable levelEnv (default warn).
func Logger(name, levelEnv string) (hclog.Logger, error) {
	level := hclog.Warn
	if s := os.Getenv(levelEnv); s != "" {
		if level = hclog.LevelFromString(s); level == hclog.NoLevel {
			return nil, fmt.Errorf("invalid %s %q", levelEnv, s)
		}
	}
	return hclog.New(&hclog.LoggerOptions{Name: name, Output: os.Stderr, Level: level}), nil
}

// KVClientConfig launches argv (no shell) as a KV plugin over gRPC.
func KVClientConfig(argv []string, autoMTLS bool, logger hclog.Logger) *plugin.ClientConfig {
	return &plugin.ClientConfig{
		HandshakeConfig:  kv.Handshake,
		Plugins:          plugin.PluginSet{"kv": &kv.Plugin{}},
		Cmd:              exec.Command(argv[0], argv[1:]...),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         autoMTLS,
		Logger:           logger,
	}
}

// DispenseKV connects the client and dispenses its KV plugin.
func DispenseKV(client *plugin.Client) (kv.KV, error) {
	rpc, err := client.Client()
	if err != nil {
		return nil, err
	}
	raw, err := rpc.Dispense("kv")
	if err != nil {
		return nil, err
	}
	return raw.(kv.KV), nil
}

// FirstGet is the first app RPC of a launch measurement: Get("bench"). A missing key comes back as
// an error status (Unknown or NotFound) from both KV plugins and still counts as a completed call.
func FirstGet(store kv.KV) error {
	if _, err := store.Get("bench"); err != nil {
		if s, ok := status.FromError(err); !ok || s.Code() != codes.Unknown && s.Code() != codes.NotFound {
			return fmt.Errorf("get: %w", err)
		}
	}
	return nil
}
