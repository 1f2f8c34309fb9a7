//go:build goplugin_v1_4

package main

import "github.com/hashicorp/go-plugin"

// go-plugin v1.4.x has no GRPCBrokerMultiplex: there is no -mux flag, so
// passing one fails flag parsing.
func addMuxFlag() *bool { return new(bool) }

func applyMux(*plugin.ClientConfig, bool) {}
