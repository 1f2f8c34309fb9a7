// Command counter-plugin-go is the Go counter plugin of go-plugin's
// examples/bidirectional (plugin-go-grpc): it serves proto.Counter under the
// plugin name "counter". Put(key, n) asks the host's AddHelper (dialled
// through the broker id the host sent) for current+n and stores the decimal
// result in the file kv_<key> of its working directory (mode 0644). Get
// returns the stored number, 0 when the file does not exist.
//
// Unlike upstream, which stores JSON ({"Value":n}) and fails Get on a
// missing file, the file holds just the number, as in loopp's TS port.
package main

import (
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"loopp/go-interop/internal/counter"
)

type fileCounter struct{ log hclog.Logger }

func (c fileCounter) Put(key string, value int64, add counter.AddHelper) error {
	current, err := c.Get(key)
	if err != nil {
		return err
	}
	sum, err := add.Sum(current, value)
	if err != nil {
		return err
	}
	c.log.Debug("put", "key", key, "old", current, "add", value, "new", sum)
	return os.WriteFile("kv_"+key, []byte(strconv.FormatInt(sum, 10)), 0o644)
}

func (c fileCounter) Get(key string) (int64, error) {
	data, err := os.ReadFile("kv_" + key)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	text := strings.TrimSpace(string(data))
	if text == "" {
		return 0, nil
	}
	return strconv.ParseInt(text, 10, 64)
}

func main() {
	logger := hclog.New(&hclog.LoggerOptions{
		Name:       "counter-plugin-go",
		Level:      hclog.Trace,
		Output:     os.Stderr,
		JSONFormat: true,
	})
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: counter.Handshake,
		Plugins:         plugin.PluginSet{"counter": &counter.Plugin{Impl: fileCounter{logger}}},
		GRPCServer:      plugin.DefaultGRPCServer,
		Logger:          logger,
	})
}
