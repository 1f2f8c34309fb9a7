// Command kv-host-go is a go-plugin host in the style of go-plugin's
// examples/grpc main.go: it launches `sh -c "$KV_PLUGIN"`, dispenses "kv_grpc"
// and runs one command against it.
//
//	kv-host-go [-automtls] [-mux] put KEY VALUE   # prints nothing on success
//	kv-host-go [-automtls] [-mux] get KEY         # prints the value and "\n"
//
// Errors go to stderr with exit status 1. The host's hclog logger writes to
// stderr at the level in KV_HOST_LOG_LEVEL (default "warn").
//
// The same source is built against go-plugin v1.8 (module ..) and v1.4.10
// (module ../../../v1410, with build tag goplugin_v1_4; see mux*.go).
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"loopp/go-interop/common/kv"
	"loopp/go-interop/common/shellcmd"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	autoMTLS := flag.Bool("automtls", false, "set ClientConfig.AutoMTLS")
	mux := addMuxFlag()
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: %s [flags] put KEY VALUE | get KEY\n", os.Args[0])
		flag.PrintDefaults()
	}
	// Usage errors exit 1 like every other error (not flag's default of 2).
	flag.CommandLine.Init(os.Args[0], flag.ContinueOnError)
	if err := flag.CommandLine.Parse(os.Args[1:]); err != nil {
		return err
	}
	args := flag.Args()
	if !(len(args) == 3 && args[0] == "put" || len(args) == 2 && args[0] == "get") {
		return fmt.Errorf("please only use 'put KEY VALUE' or 'get KEY', given: %q", args)
	}

	level := hclog.Warn
	if s := os.Getenv("KV_HOST_LOG_LEVEL"); s != "" {
		if level = hclog.LevelFromString(s); level == hclog.NoLevel {
			return fmt.Errorf("invalid KV_HOST_LOG_LEVEL %q", s)
		}
	}

	cmd := os.Getenv("KV_PLUGIN")
	if cmd == "" {
		return errors.New("KV_PLUGIN is not set")
	}

	pluginCmd := shellcmd.Command(cmd)
	config := &plugin.ClientConfig{
		HandshakeConfig: kv.Handshake,
		// Host-side names only: over gRPC the name is never sent to the plugin.
		Plugins: plugin.PluginSet{
			"kv_grpc": &kv.Plugin{},
			"kv":      &kv.Plugin{},
		},
		Cmd:              pluginCmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolNetRPC, plugin.ProtocolGRPC},
		AutoMTLS:         *autoMTLS,
		Logger: hclog.New(&hclog.LoggerOptions{
			Name:   "kv-host-go",
			Output: os.Stderr,
			Level:  level,
		}),
	}
	applyMux(config, *mux)

	client := plugin.NewClient(config)
	defer shellcmd.Kill(client, pluginCmd)

	rpcClient, err := client.Client()
	if err != nil {
		return err
	}
	raw, err := rpcClient.Dispense("kv_grpc")
	if err != nil {
		return err
	}
	store := raw.(kv.KV)

	if args[0] == "put" {
		return store.Put(args[1], []byte(args[2]))
	}
	value, err := store.Get(args[1])
	if err != nil {
		return err
	}
	fmt.Println(string(value))
	return nil
}
