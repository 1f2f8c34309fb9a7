// Command feature-host-go is a go-plugin (latest) host that runs one scenario
// against the plugin started by `sh -c "$PLUGIN_CMD"` and reports what it saw.
//
//	feature-host-go [flags] SCENARIO [flags]
//
// Scenarios: kill, stdio, reattach, ping, env (see the run* functions).
// Output is exactly one JSON object on stdout, exit status 0, whenever the
// scenario ran to the end; otherwise the error goes to stderr with status 1.
//
// The host's hclog logger records everything (trace) into an in-memory buffer,
// which some scenarios inspect, and copies it to stderr at the level in
// FEATURE_HOST_LOG_LEVEL (default "debug").
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"loopp/go-interop/common/kv"
	"loopp/go-interop/common/shellcmd"
)

var (
	autoMTLS    = flag.Bool("automtls", false, "set ClientConfig.AutoMTLS (not with reattach)")
	skipHostEnv = flag.Bool("skip-host-env", false, "env: set ClientConfig.SkipHostEnv")
	envName     = flag.String("name", "", "env: name of the variable to ask the plugin for")
	stdoutBytes = flag.Int("stdout-bytes", 0, "stdio: wait for this many SyncStdout bytes")
	stderrBytes = flag.Int("stderr-bytes", 0, "stdio: wait for this many SyncStderr bytes")
	stdoutFile  = flag.String("stdout-file", "", "stdio: write what SyncStdout received here")
	stderrFile  = flag.String("stderr-file", "", "stdio: write what SyncStderr received here")
)

var scenarios = map[string]func(*host) (any, error){
	"kill":     runKill,
	"stdio":    runStdio,
	"reattach": runReattach,
	"ping":     runPing,
	"env":      runEnv,
}

func main() {
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: %s [flags] kill|stdio|reattach|ping|env [flags]\n", os.Args[0])
		flag.PrintDefaults()
	}
	// Flags may come before and after the scenario name.
	flag.Parse()
	name := flag.Arg(0)
	_ = flag.CommandLine.Parse(flag.Args()[min(1, flag.NArg()):])
	if flag.NArg() > 0 {
		fail(fmt.Errorf("unexpected arguments %q", flag.Args()))
	}

	scenario, ok := scenarios[name]
	if !ok {
		flag.Usage()
		fail(fmt.Errorf("unknown scenario %q", name))
	}
	h, err := newHost()
	if err != nil {
		fail(err)
	}
	out, err := scenario(h)
	h.killAll() // no-op for clients the scenario already killed
	if err != nil {
		fail(err)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "error:", err)
	os.Exit(1)
}

// host holds what every scenario shares: the plugin command, the logger and
// the clients to kill on the way out.
type host struct {
	cmd     string
	log     hclog.Logger
	logBuf  *syncBuffer
	clients []started // not killed yet
}

type started struct {
	client *plugin.Client
	cmd    *exec.Cmd // nil when reattached
}

func newHost() (*host, error) {
	cmd := os.Getenv("PLUGIN_CMD")
	if cmd == "" {
		return nil, errors.New("PLUGIN_CMD is not set")
	}
	level := hclog.Debug
	if s := os.Getenv("FEATURE_HOST_LOG_LEVEL"); s != "" {
		if level = hclog.LevelFromString(s); level == hclog.NoLevel {
			return nil, fmt.Errorf("invalid FEATURE_HOST_LOG_LEVEL %q", s)
		}
	}
	buf := &syncBuffer{}
	logger := hclog.NewInterceptLogger(&hclog.LoggerOptions{
		Name: "feature-host-go", Output: buf, Level: hclog.Trace,
	})
	logger.RegisterSink(hclog.NewSinkAdapter(&hclog.LoggerOptions{
		Name: "feature-host-go", Output: os.Stderr, Level: level,
	}))
	return &host{cmd: cmd, log: logger, logBuf: buf}, nil
}

// config is the ClientConfig for a new plugin process.
func (h *host) config() *plugin.ClientConfig {
	return &plugin.ClientConfig{
		HandshakeConfig:  kv.Handshake,
		Plugins:          plugin.PluginSet{"kv": &kv.Plugin{}},
		Cmd:              shellcmd.Command(h.cmd),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         *autoMTLS,
		Logger:           h.log,
	}
}

// start creates the client, connects and dispenses "kv".
func (h *host) start(config *plugin.ClientConfig) (*plugin.Client, plugin.ClientProtocol, kv.KV, error) {
	client := plugin.NewClient(config)
	h.clients = append(h.clients, started{client, config.Cmd})
	rpcClient, err := client.Client()
	if err != nil {
		return nil, nil, nil, err
	}
	raw, err := rpcClient.Dispense("kv")
	if err != nil {
		return nil, nil, nil, err
	}
	return client, rpcClient, raw.(kv.KV), nil
}

// kill is client.Kill(), also ending a plugin that outlives its shell.
func (h *host) kill(client *plugin.Client) {
	for i, c := range h.clients {
		if c.client == client {
			shellcmd.Kill(client, c.cmd)
			h.clients = append(h.clients[:i], h.clients[i+1:]...)
			return
		}
	}
	client.Kill()
}

func (h *host) killAll() {
	for len(h.clients) > 0 {
		h.kill(h.clients[0].client)
	}
}

// runKill: Put, Get and Ping, then time Kill().
// {"value","killMs","forceKilled","exited"}; forceKilled means go-plugin gave
// up on the graceful shutdown (2 s) and killed the process.
func runKill(h *host) (any, error) {
	client, rpcClient, store, err := h.start(h.config())
	if err != nil {
		return nil, err
	}
	if err := store.Put("k", []byte("v")); err != nil {
		return nil, fmt.Errorf("put: %w", err)
	}
	value, err := store.Get("k")
	if err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	if err := rpcClient.Ping(); err != nil {
		return nil, fmt.Errorf("ping: %w", err)
	}
	start := time.Now()
	h.kill(client)
	return map[string]any{
		"value":       string(value),
		"killMs":      time.Since(start).Milliseconds(),
		"forceKilled": strings.Contains(h.logBuf.String(), "plugin failed to exit gracefully"),
		"exited":      client.Exited(),
	}, nil
}

// runStdio: collect the plugin's forwarded stdout/stderr (the GRPCStdio
// stream) until -stdout-bytes/-stderr-bytes arrived or 10 s passed.
// {"stdoutBytes","stderrBytes","timedOut","stdoutWrites","stdoutMaxWrite",
// "stderrWrites","stderrMaxWrite"}, counted before Kill.
func runStdio(h *host) (any, error) {
	var stdout, stderr syncBuffer
	config := h.config()
	config.SyncStdout = &stdout
	config.SyncStderr = &stderr
	client, _, _, err := h.start(config)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(10 * time.Second)
	timedOut := false
	for stdout.Len() < *stdoutBytes || stderr.Len() < *stderrBytes {
		if time.Now().After(deadline) {
			timedOut = true
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	out, errOut := stdout.Bytes(), stderr.Bytes()
	for _, f := range []struct {
		name string
		data []byte
	}{{*stdoutFile, out}, {*stderrFile, errOut}} {
		if f.name != "" {
			if err := os.WriteFile(f.name, f.data, 0o644); err != nil {
				return nil, err
			}
		}
	}
	h.kill(client)
	outWrites, outMax := stdout.stats()
	errWrites, errMax := stderr.stats()
	return map[string]any{
		"stdoutBytes": len(out), "stderrBytes": len(errOut), "timedOut": timedOut,
		"stdoutWrites": outWrites, "stdoutMaxWrite": outMax, "stderrWrites": errWrites, "stderrMaxWrite": errMax,
	}, nil
}

// runReattach: client A starts the plugin; client B reattaches to it with
// A's ReattachConfig; both must see the same store; B.Kill() must end the
// process that A started. {"reattachConfig","viaB","viaA","exitedAfterKill"}
func runReattach(h *host) (any, error) {
	if *autoMTLS {
		return nil, errors.New("reattach cannot be combined with -automtls (go-plugin does not keep the TLS config)")
	}
	a, _, storeA, err := h.start(h.config())
	if err != nil {
		return nil, err
	}
	if err := storeA.Put("k", []byte("v1")); err != nil {
		return nil, fmt.Errorf("put via A: %w", err)
	}
	rc := a.ReattachConfig()
	if rc == nil {
		return nil, errors.New("A.ReattachConfig() is nil")
	}

	b, _, storeB, err := h.start(&plugin.ClientConfig{
		HandshakeConfig:  kv.Handshake,
		Plugins:          plugin.PluginSet{"kv": &kv.Plugin{}},
		Reattach:         rc,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           h.log.Named("reattached"),
	})
	if err != nil {
		return nil, fmt.Errorf("reattach: %w", err)
	}
	viaB, err := storeB.Get("k")
	if err != nil {
		return nil, fmt.Errorf("get via B: %w", err)
	}
	if err := storeB.Put("k", []byte("v2")); err != nil {
		return nil, fmt.Errorf("put via B: %w", err)
	}
	viaA, err := storeA.Get("k")
	if err != nil {
		return nil, fmt.Errorf("get via A: %w", err)
	}

	h.kill(b)
	exited := false
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if exited = a.Exited(); exited || time.Now().After(deadline) {
			break
		}
	}

	var addr map[string]string
	if rc.Addr != nil {
		addr = map[string]string{"Network": rc.Addr.Network(), "String": rc.Addr.String()}
	}
	return map[string]any{
		"reattachConfig": map[string]any{
			"Protocol":        string(rc.Protocol),
			"ProtocolVersion": rc.ProtocolVersion,
			"Pid":             rc.Pid,
			"Addr":            addr,
		},
		"viaB":            string(viaB),
		"viaA":            string(viaA),
		"exitedAfterKill": exited,
	}, nil
}

// runPing: start and Ping. {"ok":true}
func runPing(h *host) (any, error) {
	_, rpcClient, _, err := h.start(h.config())
	if err != nil {
		return nil, err
	}
	if err := rpcClient.Ping(); err != nil {
		return nil, fmt.Errorf("ping: %w", err)
	}
	return map[string]any{"ok": true}, nil
}

// runEnv: Get("env:" + -name) from a plugin started with -skip-host-env or
// not; the plugin under test answers such keys with its environment.
// {"value"}
func runEnv(h *host) (any, error) {
	if *envName == "" {
		return nil, errors.New("env needs -name")
	}
	config := h.config()
	config.SkipHostEnv = *skipHostEnv
	_, _, store, err := h.start(config)
	if err != nil {
		return nil, err
	}
	value, err := store.Get("env:" + *envName)
	if err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	return map[string]any{"value": string(value)}, nil
}

// syncBuffer is a bytes.Buffer safe for go-plugin's writer goroutines.
// It counts the Write calls and the largest one: go-plugin's host writes each
// GRPCStdio message's data in one Write, so they are the messages' count and size.
type syncBuffer struct {
	mu       sync.Mutex
	buf      []byte
	writes   int
	maxWrite int
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	b.writes++
	b.maxWrite = max(b.maxWrite, len(p))
	return len(p), nil
}

// stats returns the number of Write calls and the largest one's length.
func (b *syncBuffer) stats() (writes, maxWrite int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.writes, b.maxWrite
}

func (b *syncBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.buf)
}

// Bytes returns a copy of the contents.
func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.buf...)
}

func (b *syncBuffer) String() string { return string(b.Bytes()) }
