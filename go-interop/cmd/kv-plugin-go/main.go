// Command kv-plugin-go is the Go KV plugin of go-plugin's examples/grpc
// (plugin-go-grpc): it serves proto.KV over gRPC and stores every key in the
// file kv_<key> of its working directory.
//
// Like upstream, Put stores the value followed by "\n\nWritten from
// plugin-go-grpc"; Get returns the file content unchanged.
package main

import (
	"os"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"loopp/go-interop/common/kv"
)

// storedSuffix is what upstream's plugin-go-grpc appends to every stored value.
const storedSuffix = "\n\nWritten from plugin-go-grpc"

type fileKV struct{ log hclog.Logger }

func (s fileKV) Put(key string, value []byte) error {
	s.log.Debug("put", "key", key, "bytes", len(value))
	return os.WriteFile("kv_"+key, []byte(string(value)+storedSuffix), 0o644)
}

func (s fileKV) Get(key string) ([]byte, error) {
	s.log.Debug("get", "key", key)
	return os.ReadFile("kv_" + key)
}

func main() {
	// JSON on stderr is what the go-plugin host parses and re-logs under its
	// own logger (at the level given here).
	logger := hclog.New(&hclog.LoggerOptions{
		Name:       "kv-plugin-go",
		Level:      hclog.Trace,
		Output:     os.Stderr,
		JSONFormat: true,
	})
	wd, _ := os.Getwd()
	logger.Info("kv plugin starting", "pid", os.Getpid(), "dir", wd)

	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: kv.Handshake,
		Plugins:         plugin.PluginSet{"kv": &kv.Plugin{Impl: fileKV{logger}}},
		GRPCServer:      plugin.DefaultGRPCServer,
		Logger:          logger,
	})
}
