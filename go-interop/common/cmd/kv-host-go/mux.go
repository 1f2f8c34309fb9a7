//go:build !goplugin_v1_4

package main

import (
	"flag"

	"github.com/hashicorp/go-plugin"
)

func addMuxFlag() *bool {
	return flag.Bool("mux", false, "set ClientConfig.GRPCBrokerMultiplex (go-plugin >= v1.6)")
}

func applyMux(config *plugin.ClientConfig, mux bool) {
	config.GRPCBrokerMultiplex = mux
}
