// loop-host-go launches a relayer LOOP through chainlink-common's real host-side
// code (loop.NewRelayerService), serves it static keystores and an unimplemented
// capabilities registry, asks the relayer for its chain status, and prints
// everything it got as one JSON object on stdout. See ../../README.md.
package main

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/smartcontractkit/chainlink-common/pkg/logger"
	"github.com/smartcontractkit/chainlink-common/pkg/loop"
	"github.com/smartcontractkit/chainlink-common/pkg/types/core"

	"loopp/go-interop/chainlink/internal/relayerref"
)

// defaultConfig is the relayer config the chainlink-common test driver expects
// when it runs with -static-checks.
const defaultConfig = "[Foo]\nBar = \"Baz\"\n"

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// staticKeystore is a core.Keystore with a fixed account list. Each account signs
// with an ed25519 key derived from its name, so signatures are deterministic.
type staticKeystore struct {
	name     string
	accounts []string
}

func keyFor(account string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("loop-host-go:" + account))
	return ed25519.NewKeyFromSeed(seed[:])
}

func (k *staticKeystore) Accounts(context.Context) ([]string, error) {
	return append([]string(nil), k.accounts...), nil
}

func (k *staticKeystore) has(account string) bool {
	for _, a := range k.accounts {
		if a == account {
			return true
		}
	}
	return false
}

func (k *staticKeystore) Sign(_ context.Context, account string, data []byte) ([]byte, error) {
	if !k.has(account) {
		return nil, fmt.Errorf("account not found: %s", account)
	}
	if data == nil { // nil data: existence check only
		return nil, nil
	}
	return ed25519.Sign(keyFor(account), data), nil
}

func (k *staticKeystore) Decrypt(_ context.Context, account string, _ []byte) ([]byte, error) {
	if !k.has(account) {
		return nil, fmt.Errorf("account not found: %s", account)
	}
	return nil, errors.New("decrypt not supported by " + k.name)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func errString(err error) any {
	if err == nil {
		return nil
	}
	return err.Error()
}

// scrape fetches http://127.0.0.1:<port>/metrics, retrying until the deadline:
// the plugin may open its metrics port only after the handshake.
func scrape(ctx context.Context, port int) map[string]any {
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/metrics"
	client := &http.Client{Timeout: time.Second}
	var lastErr error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			body, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			out := map[string]any{"url": url, "status": resp.StatusCode,
				"contentType": resp.Header.Get("Content-Type"), "body": string(body)}
			if rerr != nil {
				out["error"] = rerr.Error()
			}
			return out
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return map[string]any{"url": url, "error": lastErr.Error()}
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func main() {
	os.Exit(run())
}

func run() int {
	var (
		cmdPath     = flag.String("cmd", "", "plugin executable, exec'd directly with the remaining arguments as its argv (default: $LOOP_CMD via sh -c 'exec ...')")
		config      = flag.String("config", defaultConfig, "relayer config (TOML) passed to PluginRelayer.NewRelayer")
		accounts    = flag.String("accounts", "test-account-1", "comma-separated accounts of the Keystore")
		csaAccounts = flag.String("csa-accounts", "", "comma-separated accounts of the CSA Keystore (default: the hex ed25519 public key derived from \"csa\")")
		metricsPort = flag.Int("metrics-port", 0, "CL_PROMETHEUS_PORT passed to the plugin (0: pick a free port)")
		pageSize    = flag.Int("page-size", 137, "page_size for Relayer.ListNodeStatuses")
		timeout     = flag.Duration("timeout", 30*time.Second, "deadline for launching the plugin and the relayer calls")
		doScrape    = flag.Bool("scrape", false, "GET http://127.0.0.1:<port>/metrics before closing and add it to the output")
		hold        = flag.Duration("hold", 0, "keep the plugin running this long after printing the JSON (scrape it meanwhile)")
		logLevel    = flag.String("log-level", "info", "host log level (zap: debug, info, warn, error); host logs go to stderr")
		methodsRef  = flag.String("methods", "", "call every Relayer method with the inputs of this reference file (fixtures/relayer/reference.json) and print the results")
		expectRef   = flag.String("expect", "", "like -methods, and also compare every result with this reference file: exit 1 and list the mismatches when one differs")
		extraEnv    listFlag
		passEnv     listFlag
	)
	flag.Var(&extraEnv, "env", "KEY=VALUE for the plugin's environment, before the EnvConfig variables (repeatable)")
	flag.Var(&passEnv, "pass-env", "name of a host variable to forward to the plugin (repeatable); go-plugin runs it with SkipHostEnv")
	flag.Parse()

	fail := func(format string, args ...any) int {
		fmt.Fprintf(os.Stderr, "error: "+format+"\n", args...)
		return 1
	}

	var argv []string
	switch {
	case *cmdPath != "":
		argv = append([]string{*cmdPath}, flag.Args()...)
	case os.Getenv("LOOP_CMD") != "":
		if flag.NArg() > 0 {
			return fail("positional arguments need -cmd")
		}
		argv = []string{"/bin/sh", "-c", "exec " + os.Getenv("LOOP_CMD")}
	default:
		return fail("no plugin: use -cmd PATH [ARGS...] or set LOOP_CMD")
	}

	refPath := *methodsRef
	if *expectRef != "" {
		if refPath != "" && refPath != *expectRef {
			return fail("-methods and -expect name different files")
		}
		refPath = *expectRef
	}
	var ref *relayerref.Reference
	if refPath != "" {
		var err error
		if ref, err = relayerref.Load(refPath); err != nil {
			return fail("%v", err)
		}
		configSet := false
		flag.Visit(func(f *flag.Flag) { configSet = configSet || f.Name == "config" })
		if !configSet {
			abs, err := filepath.Abs(refPath)
			if err != nil {
				return fail("%v", err)
			}
			*config = "ReferenceFile = " + strconv.Quote(abs) + "\n"
		}
	}

	var lvl zapcore.Level
	if err := lvl.Set(*logLevel); err != nil {
		return fail("bad -log-level: %v", err)
	}
	lggr, err := logger.NewWith(func(c *zap.Config) { c.Level.SetLevel(lvl) })
	if err != nil {
		return fail("logger: %v", err)
	}
	lggr = logger.Named(lggr, "LoopHost")
	defer func() { _ = lggr.Sync() }()

	port := *metricsPort
	if port == 0 {
		if port, err = freePort(); err != nil {
			return fail("free port: %v", err)
		}
	}
	envCfg := loop.EnvConfig{PrometheusPort: port}
	childEnv := append([]string(nil), extraEnv...)
	for _, name := range passEnv {
		if v, ok := os.LookupEnv(name); ok {
			childEnv = append(childEnv, name+"="+v)
		}
	}
	// Same order as chainlink's plugins.NewCmdFactory: per-plugin env first, then
	// the registry's EnvConfig, so the EnvConfig values win.
	childEnv = append(childEnv, envCfg.AsCmdEnv()...)
	cmdFn := func() *exec.Cmd {
		c := exec.Command(argv[0], argv[1:]...)
		c.Env = append([]string(nil), childEnv...)
		return c
	}

	csa := splitList(*csaAccounts)
	if *csaAccounts == "" {
		csa = []string{hex.EncodeToString(keyFor("csa").Public().(ed25519.PublicKey))}
	}
	ks := &staticKeystore{name: "Keystore", accounts: splitList(*accounts)}
	csaKs := &staticKeystore{name: "CSAKeystore", accounts: csa}

	grpcOpts := loop.GRPCOptsConfig{}.New(lggr)
	rs := loop.NewRelayerService(lggr, grpcOpts, cmdFn, *config, ks, csaKs, core.UnimplementedCapabilitiesRegistry{})

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	out := map[string]any{"prometheusPort": port, "command": argv}
	if err := rs.Start(ctx); err != nil {
		return fail("start: %v", err)
	}
	if ref != nil {
		return runMethods(ctx, rs, ref, *expectRef != "", out, lggr)
	}
	code := 0
	status, err := rs.GetChainStatus(ctx)
	if err != nil {
		out["chainStatusError"] = err.Error()
		code = 1
	} else {
		out["chainStatus"] = map[string]any{"id": status.ID, "enabled": status.Enabled, "config": status.Config}
	}
	if code == 0 {
		if info, err := rs.GetChainInfo(ctx); err != nil {
			out["chainInfoError"] = err.Error()
		} else {
			out["chainInfo"] = map[string]any{"familyName": info.FamilyName, "chainID": info.ChainID,
				"networkName": info.NetworkName, "networkNameFull": info.NetworkNameFull}
		}
		nodes, next, total, err := rs.ListNodeStatuses(ctx, int32(*pageSize), "")
		if err != nil {
			out["nodeStatusesError"] = err.Error()
		} else {
			list := make([]map[string]any, 0, len(nodes))
			for _, n := range nodes {
				list = append(list, map[string]any{"chainID": n.ChainID, "name": n.Name, "config": n.Config, "state": n.State})
			}
			out["nodeStatuses"] = map[string]any{"nodes": list, "nextPageToken": next, "total": total}
		}
	}
	readyErr := rs.Ready()
	out["ready"] = readyErr == nil
	out["readyError"] = errString(readyErr)
	health := map[string]any{}
	for k, v := range rs.HealthReport() {
		health[k] = errString(v)
	}
	out["health"] = health
	out["name"] = rs.Name()
	if *doScrape {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		out["metrics"] = scrape(sctx, port)
		scancel()
	}
	envOut := append([]string(nil), childEnv...)
	sort.Strings(envOut)
	out["env"] = envOut

	b, _ := json.Marshal(out)
	fmt.Println(string(b))
	if *hold > 0 {
		time.Sleep(*hold)
	}
	if err := rs.Close(); err != nil {
		lggr.Warnw("close", "err", err)
	}
	return code
}

// runMethods is the -methods / -expect mode: one JSON line with every result,
// and with -expect the mismatches against the reference (exit 1 if any).
func runMethods(ctx context.Context, rs *loop.RelayerService, ref *relayerref.Reference, compare bool, out map[string]any, lggr logger.Logger) int {
	code := 0
	res, err := callAll(ctx, rs, ref)
	if err != nil {
		out["error"] = err.Error()
		code = 1
	}
	out["results"] = res
	if compare && err == nil {
		mm := mismatches(res, expected(ref))
		out["mismatches"] = append([]string{}, mm...)
		if len(mm) > 0 {
			code = 1
		}
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
	if err := rs.Close(); err != nil {
		lggr.Warnw("close", "err", err)
	}
	return code
}
