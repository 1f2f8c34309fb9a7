// Command reflect-probe-go is a go-plugin (v1.8.0) host that starts the
// plugin given by `sh -c "$PLUGIN_CMD"` and explores it the way grpcurl does,
// over gRPC server reflection on the plugin's own connection
// (GRPCClient.Conn, so AutoMTLS and multiplexing are the host's):
//
//  1. list_services;
//  2. file_containing_symbol for every service, and for each -symbol;
//  3. file_by_filename for every file received (each must come back first);
//  4. a registry of every file received (protodesc), in which each service
//     and its methods must resolve;
//  5. proto.KV's Put then Get (when the plugin serves proto.KV), called with
//     dynamicpb messages built from the reflected descriptors only, so the
//     descriptors were complete.
//
// Usage:
//
//	reflect-probe-go [-automtls] [-mux] [-api v1|v1alpha] [-symbol NAME]...
//	    [-key K] [-value V] [-cookie KEY=VALUE] [-app-version N]
//
// The handshake is the KV example's unless -cookie (and -app-version) name
// another plugin's, e.g. a Chainlink LOOP's (app protocol version 0).
//
// Output is one JSON object on stdout (exit 0) whenever the plugin started:
// a refused reflection stream is reported in it (listError), as are
// descriptors that do not build a registry (registryError). Other errors go to
// stderr with exit status 1.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"loopp/go-interop/common/kv"
	"loopp/go-interop/common/shellcmd"
)

type symbolList []string

func (s *symbolList) String() string     { return strings.Join(*s, ",") }
func (s *symbolList) Set(v string) error { *s = append(*s, v); return nil }

var (
	autoMTLS = flag.Bool("automtls", false, "set ClientConfig.AutoMTLS")
	mux      = flag.Bool("mux", false, "set ClientConfig.GRPCBrokerMultiplex")
	api      = flag.String("api", "v1", "reflection API: v1 or v1alpha")
	key      = flag.String("key", "reflect-probe", "proto.KV key to Put and Get")
	value    = flag.String("value", "written through reflection", "proto.KV value to Put")
	cookie   = flag.String("cookie", "", "the plugin's magic cookie KEY=VALUE (default: the KV example's)")
	version  = flag.Uint("app-version", 1, "the app protocol version offered with -cookie")
	symbols  symbolList
)

func main() {
	flag.Var(&symbols, "symbol", "also ask file_containing_symbol for this name (repeatable)")
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	if *api != "v1" && *api != "v1alpha" {
		return fmt.Errorf("-api must be v1 or v1alpha, not %q", *api)
	}
	cmdline := os.Getenv("PLUGIN_CMD")
	if cmdline == "" {
		return errors.New("PLUGIN_CMD is not set")
	}
	handshake := kv.Handshake
	if *cookie != "" {
		k, v, ok := strings.Cut(*cookie, "=")
		if !ok {
			return fmt.Errorf("-cookie must be KEY=VALUE, not %q", *cookie)
		}
		handshake = plugin.HandshakeConfig{ProtocolVersion: *version, MagicCookieKey: k, MagicCookieValue: v}
	}
	cmd := shellcmd.Command(cmdline)
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:     handshake,
		Plugins:             plugin.PluginSet{"kv": &kv.Plugin{}},
		Cmd:                 cmd,
		AllowedProtocols:    []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:            *autoMTLS,
		GRPCBrokerMultiplex: *mux,
		Logger:              hclog.New(&hclog.LoggerOptions{Name: "reflect-probe-go", Output: os.Stderr, Level: hclog.Warn}),
	})
	defer shellcmd.Kill(client, cmd)

	rpc, err := client.Client()
	if err != nil {
		return err
	}
	grpcClient, ok := rpc.(*plugin.GRPCClient)
	if !ok {
		return fmt.Errorf("the plugin speaks %T, not gRPC", rpc)
	}
	report, err := probe(grpcClient.Conn, *api, symbols, *key, *value)
	if err != nil {
		return err
	}
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", "  ")
	return out.Encode(report)
}
