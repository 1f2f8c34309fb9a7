import type * as grpc from '@grpc/grpc-js';
import { HEALTH_SERVICE_NAME } from '../core/constants';
import { type HealthCheckRequest, type HealthCheckResponse, HealthCheckResponse_ServingStatus as Status, type HealthServer, HealthService } from '../gen';
import type { GrpcServer } from '../net/h2server/server';

/**
 * grpc.health.v1.Health as go-plugin registers it: "" and "plugin" SERVING, unknown names NOT_FOUND
 * (Check) or SERVICE_UNKNOWN (Watch).
 */
export class HealthState {
  #status = new Map<string, Status>([
    ['', Status.SERVING],
    [HEALTH_SERVICE_NAME, Status.SERVING],
  ]);
  #watchers = new Set<{ service: string; call: grpc.ServerWritableStream<HealthCheckRequest, HealthCheckResponse> }>();

  setStatus(service: string, status: Status): void {
    this.#status.set(service, status);
    for (const w of this.#watchers) if (w.service === service) w.call.write({ status });
  }

  /** Marks every service NOT_SERVING (on shutdown) and ends the watches. */
  shutdown(): void {
    for (const key of this.#status.keys()) this.setStatus(key, Status.NOT_SERVING);
    for (const w of this.#watchers) w.call.end();
    this.#watchers.clear();
  }

  addTo(server: GrpcServer): void {
    const impl: HealthServer = {
      check: (call, callback) => {
        const status = this.#status.get(call.request.service);
        if (status === undefined) {
          callback({ code: 5 /* NOT_FOUND */, details: 'unknown service' });
          return;
        }
        callback(null, { status });
      },
      watch: (call) => {
        const service = call.request.service;
        const entry = { service, call };
        this.#watchers.add(entry);
        call.write({ status: this.#status.get(service) ?? Status.SERVICE_UNKNOWN });
        call.on('cancelled', () => this.#watchers.delete(entry));
        call.on('close', () => this.#watchers.delete(entry));
      },
    };
    server.addService(HealthService, impl);
  }
}
