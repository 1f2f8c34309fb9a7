/**
 * Which services the plugin's main server serves, for reflection's list_services: grpc-js's Server
 * does not tell (loopp's mirrors its surface), so the server handed to plugins is wrapped and every
 * method path added or removed is noted; a service's name is its paths' `/<service>/` part. Services
 * defined with @grpc/proto-loader carry their files' descriptors (`requestType.fileDescriptorProtos`):
 * those are kept too, so such services are described without any option.
 */
import type * as grpc from '@grpc/grpc-js';
import type { GrpcServer } from '../../net/h2server/server';

const METHOD_PATH = /^\/([^/]+)\/[^/]+$/;

export class ServiceCatalog {
  /** Method paths served, e.g. `/grpc.health.v1.Health/Check`. */
  readonly #paths = new Set<string>();
  /** proto-loader's descriptor lists (one array per loaded root, shared by its methods). */
  readonly #loaderFiles = new Set<readonly Uint8Array[]>();

  /** `server` with add/remove noted here; every other call goes straight through. */
  wrap(server: GrpcServer): GrpcServer {
    return {
      addService: (service, implementation) => {
        server.addService(service, implementation);
        for (const m of Object.values(service)) this.#noteMethod(m);
      },
      removeService: (service) => {
        server.removeService(service);
        for (const m of Object.values(service)) this.#paths.delete(m.path);
      },
      register: (name, handler, serialize, deserialize, type) => {
        const added = server.register(name, handler, serialize, deserialize, type);
        if (added) this.#paths.add(name);
        return added;
      },
      unregister: (name) => {
        this.#paths.delete(name);
        return server.unregister(name);
      },
      tryShutdown: (callback) => server.tryShutdown(callback),
      forceShutdown: () => server.forceShutdown(),
      createConnectionInjector: (credentials) => server.createConnectionInjector(credentials),
    };
  }

  /** The names of the services served, sorted (as Go's server lists them). */
  services(): string[] {
    const names = new Set<string>();
    for (const p of this.#paths) {
      const m = METHOD_PATH.exec(p);
      if (m !== null) names.add(m[1] as string);
    }
    return [...names].sort();
  }

  /** The serialized FileDescriptorProtos proto-loader attached to the services added so far. */
  loaderFiles(): Uint8Array[] {
    return [...this.#loaderFiles].flat();
  }

  /** How many descriptor lists were collected (changes when a proto-loader service is added). */
  get loaderGeneration(): number {
    return this.#loaderFiles.size;
  }

  #noteMethod(m: grpc.MethodDefinition<unknown, unknown>): void {
    this.#paths.add(m.path);
    for (const type of [(m as LoaderMethod).requestType, (m as LoaderMethod).responseType]) {
      const files = type?.fileDescriptorProtos;
      if (Array.isArray(files) && files.every((f) => f instanceof Uint8Array)) this.#loaderFiles.add(files);
    }
  }
}

/** The part of @grpc/proto-loader's MethodDefinition that carries descriptors. */
interface LoaderMethod {
  requestType?: { fileDescriptorProtos?: unknown };
  responseType?: { fileDescriptorProtos?: unknown };
}
