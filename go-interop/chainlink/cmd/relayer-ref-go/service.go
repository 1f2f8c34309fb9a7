package main

import "context"

// service is the services.Service part every reference object shares: nothing
// to start or stop, always healthy.
type service struct{ name string }

func (s service) Name() string                   { return s.name }
func (s service) Start(context.Context) error    { return nil }
func (s service) Close() error                   { return nil }
func (s service) Ready() error                   { return nil }
func (s service) HealthReport() map[string]error { return map[string]error{s.name: nil} }
