// envcheck-go parses the current environment with chainlink-common's own
// loop.EnvConfig parser (the private (*EnvConfig).parse that loop.NewStartedServer
// runs in every LOOP) and prints the result as JSON. See ../../README.md.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"sort"
	"time"

	_ "unsafe" // go:linkname

	"go.uber.org/zap/zapcore"

	"github.com/smartcontractkit/chainlink-common/pkg/config"
	"github.com/smartcontractkit/chainlink-common/pkg/loop"
)

// parseEnvConfig is chainlink-common's unexported (*loop.EnvConfig).parse.
// There is no exported wrapper at the pinned version (NewStartedServer calls it
// and then starts servers), so it is reached by symbol name.
//
//go:linkname parseEnvConfig github.com/smartcontractkit/chainlink-common/pkg/loop.(*EnvConfig).parse
func parseEnvConfig(e *loop.EnvConfig) error

var (
	durationType = reflect.TypeOf(time.Duration(0))
	levelType    = reflect.TypeOf(zapcore.Level(0))
	secretURL    = reflect.TypeOf((*config.SecretURL)(nil))
)

// jsonValue renders one EnvConfig field: durations as Go duration strings,
// the zap level by name, the database URL unredacted (or null), maps and
// slices as JSON objects and arrays (nil stays null).
func jsonValue(v reflect.Value) any {
	switch v.Type() {
	case durationType:
		return time.Duration(v.Int()).String()
	case levelType:
		return zapcore.Level(v.Int()).String()
	case secretURL:
		if v.IsNil() {
			return nil
		}
		return (*url.URL)(v.Interface().(*config.SecretURL)).String()
	}
	switch v.Kind() {
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		m := map[string]string{}
		for _, k := range v.MapKeys() {
			m[k.String()] = v.MapIndex(k).String()
		}
		return m
	case reflect.Slice:
		if v.IsNil() {
			return nil
		}
		s := make([]string, v.Len())
		for i := range s {
			s[i] = v.Index(i).String()
		}
		return s
	}
	return v.Interface()
}

func main() {
	asCmdEnv := flag.Bool("ascmdenv", false, "print the parsed config re-serialised by EnvConfig.AsCmdEnv (one KEY=VALUE a line, sorted) instead of JSON")
	flag.Parse()

	var cfg loop.EnvConfig
	if err := parseEnvConfig(&cfg); err != nil {
		fmt.Fprintln(os.Stderr, err.Error())
		os.Exit(1)
	}
	if *asCmdEnv {
		env := cfg.AsCmdEnv()
		sort.Strings(env)
		for _, kv := range env {
			fmt.Println(kv)
		}
		return
	}
	out := map[string]any{}
	rv := reflect.ValueOf(cfg)
	for i := 0; i < rv.NumField(); i++ {
		f := rv.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		out[f.Name] = jsonValue(rv.Field(i))
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		fmt.Fprintln(os.Stderr, "marshal:", err)
		os.Exit(2)
	}
	fmt.Println(string(b))
}
