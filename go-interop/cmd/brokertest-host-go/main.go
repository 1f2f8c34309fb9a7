// Command brokertest-host-go (go-plugin v1.8.0) drives a brokertest plugin,
// started as `sh -c "$PLUGIN_CMD"`, through both directions of the gRPC
// broker and times each round trip.
//
//	brokertest-host-go [-automtls] [-mux] [-n N] [-scenario plugin-serves|host-serves|both]
//
// Iteration i (0-based) runs, in this order:
//
//   - plugin-serves: ServeEcho{prefix "p<i>:"} -> id; broker.Dial(id);
//     Echo{"x"} on that connection, expecting "p<i>:x"; Close; StopEcho{id}.
//     Timed from before ServeEcho to the Echo reply.
//   - host-serves: id := broker.NextId(); go broker.AcceptAndServe(id, Echo
//     replying "h<i>:"+text); CallHostEcho{id, "y"}, expecting "h<i>:y";
//     then the server is stopped. Timed from NextId to the CallHostEcho reply.
//
// Only one broker sub-connection is ever being set up at a time, which
// go-plugin's multiplexed broker requires. Every RPC has a 10 s deadline.
//
// Output, once the plugin started: one JSON line on stdout and exit 0,
// {"pluginServesMs":[…],"hostServesMs":[…],"errors":[…],"forceKilled":bool}.
// The *Ms arrays hold the times of the iterations that succeeded; a failed
// step adds "<scenario> #<i>: <error>" to errors. forceKilled is set when
// the host's log has "plugin failed to exit gracefully" after Kill().
// A usage error or a failed start prints "error: …" on stderr and exits 1.
// The host's hclog logger writes to stderr at BROKERTEST_HOST_LOG_LEVEL
// (default "warn").
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"loopp/go-interop/common/shellcmd"
	"loopp/go-interop/internal/brokerserve"
	"loopp/go-interop/internal/brokertest"
	"loopp/go-interop/internal/brokertestproto"
)

const rpcTimeout = 10 * time.Second

type result struct {
	PluginServesMs []float64 `json:"pluginServesMs"`
	HostServesMs   []float64 `json:"hostServesMs"`
	Errors         []string  `json:"errors"`
	ForceKilled    bool      `json:"forceKilled"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	autoMTLS := flag.Bool("automtls", false, "set ClientConfig.AutoMTLS")
	mux := flag.Bool("mux", false, "set ClientConfig.GRPCBrokerMultiplex")
	n := flag.Int("n", 1, "iterations")
	scenario := flag.String("scenario", "both", "plugin-serves, host-serves or both")
	flag.CommandLine.Init(os.Args[0], flag.ContinueOnError)
	if err := flag.CommandLine.Parse(os.Args[1:]); err != nil {
		return err
	}
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	}
	pluginServes := *scenario == "plugin-serves" || *scenario == "both"
	hostServes := *scenario == "host-serves" || *scenario == "both"
	if !pluginServes && !hostServes {
		return fmt.Errorf("unknown scenario %q", *scenario)
	}
	if *n < 0 {
		return fmt.Errorf("-n must not be negative")
	}

	level := hclog.Warn
	if s := os.Getenv("BROKERTEST_HOST_LOG_LEVEL"); s != "" {
		if level = hclog.LevelFromString(s); level == hclog.NoLevel {
			return fmt.Errorf("invalid BROKERTEST_HOST_LOG_LEVEL %q", s)
		}
	}
	cmdline := os.Getenv("PLUGIN_CMD")
	if cmdline == "" {
		return errors.New("PLUGIN_CMD is not set")
	}

	// Everything goes to an in-memory log (for forceKilled); stderr gets the
	// chosen level.
	logBuf := &syncBuffer{}
	logger := hclog.NewInterceptLogger(&hclog.LoggerOptions{
		Name: "brokertest-host-go", Output: logBuf, Level: hclog.Trace,
	})
	logger.RegisterSink(hclog.NewSinkAdapter(&hclog.LoggerOptions{
		Name: "brokertest-host-go", Output: os.Stderr, Level: level,
	}))

	pluginCmd := shellcmd.Command(cmdline)
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:     brokertest.Handshake,
		Plugins:             plugin.PluginSet{"brokertest": &brokertest.Plugin{}},
		Cmd:                 pluginCmd,
		AllowedProtocols:    []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:            *autoMTLS,
		GRPCBrokerMultiplex: *mux,
		Logger:              logger,
	})
	killed := false
	defer func() {
		if !killed {
			shellcmd.Kill(client, pluginCmd)
		}
	}()

	rpcClient, err := client.Client()
	if err != nil {
		return err
	}
	raw, err := rpcClient.Dispense("brokertest")
	if err != nil {
		return err
	}
	bt := raw.(*brokertest.Client)

	res := result{PluginServesMs: []float64{}, HostServesMs: []float64{}, Errors: []string{}}
	for i := range *n {
		if pluginServes {
			if ms, err := runPluginServes(bt, i); err != nil {
				res.Errors = append(res.Errors, fmt.Sprintf("plugin-serves #%d: %v", i, err))
			} else {
				res.PluginServesMs = append(res.PluginServesMs, ms)
			}
		}
		if hostServes {
			if ms, err := runHostServes(bt, i); err != nil {
				res.Errors = append(res.Errors, fmt.Sprintf("host-serves #%d: %v", i, err))
			} else {
				res.HostServesMs = append(res.HostServesMs, ms)
			}
		}
	}

	shellcmd.Kill(client, pluginCmd)
	killed = true
	res.ForceKilled = strings.Contains(logBuf.String(), "plugin failed to exit gracefully")
	return json.NewEncoder(os.Stdout).Encode(res)
}

func millis(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

func runPluginServes(bt *brokertest.Client, i int) (float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
	defer cancel()
	prefix := fmt.Sprintf("p%d:", i)

	t0 := time.Now()
	served, err := bt.ServeEcho(ctx, &brokertestproto.ServeEchoRequest{Prefix: prefix})
	if err != nil {
		return 0, fmt.Errorf("ServeEcho: %w", err)
	}
	// The plugin serves until StopEcho: on a failure below, still stop it.
	stopped := false
	defer func() {
		if !stopped {
			stopCtx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
			defer cancel()
			_, _ = bt.StopEcho(stopCtx, &brokertestproto.StopEchoRequest{Id: served.Id})
		}
	}()

	conn, err := bt.Broker.Dial(served.Id)
	if err != nil {
		return 0, fmt.Errorf("broker.Dial(%d): %w", served.Id, err)
	}
	reply, err := brokertestproto.NewEchoClient(conn).Echo(ctx, &brokertestproto.EchoRequest{Text: "x"})
	t1 := time.Now()
	_ = conn.Close()
	if err != nil {
		return 0, fmt.Errorf("Echo via broker id %d: %w", served.Id, err)
	}
	if want := prefix + "x"; reply.Text != want {
		return 0, fmt.Errorf("Echo via broker id %d: got %q, want %q", served.Id, reply.Text, want)
	}
	stopped = true
	if _, err := bt.StopEcho(ctx, &brokertestproto.StopEchoRequest{Id: served.Id}); err != nil {
		return 0, fmt.Errorf("StopEcho(%d): %w", served.Id, err)
	}
	return millis(t1.Sub(t0)), nil
}

func runHostServes(bt *brokertest.Client, i int) (float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
	defer cancel()
	prefix := fmt.Sprintf("h%d:", i)

	t0 := time.Now()
	id := bt.Broker.NextId()
	h := brokerserve.Serve(bt.Broker, id, func(s *grpc.Server) {
		brokertestproto.RegisterEchoServer(s, &brokertest.Echo{Prefix: prefix})
	})
	reply, err := bt.CallHostEcho(ctx, &brokertestproto.CallHostEchoRequest{Id: id, Text: "y"})
	t1 := time.Now()
	h.Stop()
	if err != nil {
		return 0, fmt.Errorf("CallHostEcho(%d): %w", id, err)
	}
	if want := prefix + "y"; reply.Text != want {
		return 0, fmt.Errorf("CallHostEcho(%d): got %q, want %q", id, reply.Text, want)
	}
	return millis(t1.Sub(t0)), nil
}

// syncBuffer is an append-only buffer safe for go-plugin's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
