// Command counter-host-go is the host of go-plugin's examples/bidirectional:
// it launches `sh -c "$COUNTER_PLUGIN"`, dispenses "counter" and runs one
// command. For a put it serves AddHelper (a+b) on a fresh broker id while the
// call runs.
//
//	counter-host-go [-automtls] [-mux] put KEY N   # prints nothing on success
//	counter-host-go [-automtls] [-mux] get KEY     # prints the number and "\n"
//
// Errors go to stderr as "error: …" with exit status 1. The host's hclog
// logger writes to stderr at COUNTER_HOST_LOG_LEVEL (default "warn").
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"loopp/go-interop/common/shellcmd"
	"loopp/go-interop/internal/counter"
)

type adder struct{}

func (adder) Sum(a, b int64) (int64, error) { return a + b, nil }

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	autoMTLS := flag.Bool("automtls", false, "set ClientConfig.AutoMTLS")
	mux := flag.Bool("mux", false, "set ClientConfig.GRPCBrokerMultiplex")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: %s [flags] put KEY N | get KEY\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.CommandLine.Init(os.Args[0], flag.ContinueOnError)
	if err := flag.CommandLine.Parse(os.Args[1:]); err != nil {
		return err
	}
	args := flag.Args()
	var n int64
	switch {
	case len(args) == 3 && args[0] == "put":
		var err error
		if n, err = strconv.ParseInt(args[2], 10, 64); err != nil {
			return fmt.Errorf("not a number: %q", args[2])
		}
	case len(args) == 2 && args[0] == "get":
	default:
		return fmt.Errorf("please only use 'put KEY N' or 'get KEY', given: %q", args)
	}

	level := hclog.Warn
	if s := os.Getenv("COUNTER_HOST_LOG_LEVEL"); s != "" {
		if level = hclog.LevelFromString(s); level == hclog.NoLevel {
			return fmt.Errorf("invalid COUNTER_HOST_LOG_LEVEL %q", s)
		}
	}
	cmdline := os.Getenv("COUNTER_PLUGIN")
	if cmdline == "" {
		return errors.New("COUNTER_PLUGIN is not set")
	}

	pluginCmd := shellcmd.Command(cmdline)
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:     counter.Handshake,
		Plugins:             plugin.PluginSet{"counter": &counter.Plugin{}},
		Cmd:                 pluginCmd,
		AllowedProtocols:    []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:            *autoMTLS,
		GRPCBrokerMultiplex: *mux,
		Logger: hclog.New(&hclog.LoggerOptions{
			Name:   "counter-host-go",
			Output: os.Stderr,
			Level:  level,
		}),
	})
	defer shellcmd.Kill(client, pluginCmd)

	rpcClient, err := client.Client()
	if err != nil {
		return err
	}
	raw, err := rpcClient.Dispense("counter")
	if err != nil {
		return err
	}
	c := raw.(counter.Counter)

	if args[0] == "put" {
		return c.Put(args[1], n, adder{})
	}
	v, err := c.Get(args[1])
	if err != nil {
		return err
	}
	fmt.Println(v)
	return nil
}
