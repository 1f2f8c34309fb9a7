/**
 * A failed call as people read it: the status code's name and number, the message, and the details
 * of the `grpc-status-details-bin` trailer (a google.rpc.Status: each detail an Any, shown as JSON
 * when the plugin's descriptors know its type, else as its type URL and base64 bytes).
 */
import * as grpc from '@grpc/grpc-js';
import { fromBinary, toJson, type Registry } from '@bufbuild/protobuf';
import { AnySchema, type Any } from '@bufbuild/protobuf/wkt';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';

/** google.rpc.Status's field 3, `repeated google.protobuf.Any details`. */
function detailsOf(statusBytes: Uint8Array): Any[] {
  const reader = new BinaryReader(statusBytes);
  const details: Any[] = [];
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 3 && wireType === WireType.LengthDelimited) details.push(fromBinary(AnySchema, reader.bytes()));
    // Protobuf's skip, not a test's: code (1) and message (2) are already on the ServiceError.
    else reader.skip(wireType, field);
  }
  return details;
}

function detailJson(any: Any, registry: Registry): string {
  try {
    return JSON.stringify(toJson(AnySchema, any, { registry }));
  } catch {
    return JSON.stringify({ '@type': any.typeUrl, value: Buffer.from(any.value).toString('base64') });
  }
}

export function statusName(code: number): string {
  return (grpc.status as unknown as Record<number, string | undefined>)[code] ?? 'UNKNOWN_CODE';
}

/** `proto.KV/Get: NOT_FOUND (5): no such key` and, indented, one line per detail. */
export function formatStatus(target: string, err: grpc.ServiceError, registry: Registry): string {
  const lines = [`${target}: ${statusName(err.code)} (${err.code}): ${err.details}`];
  for (const bin of err.metadata?.get('grpc-status-details-bin') ?? []) {
    try {
      for (const any of detailsOf(bin as Buffer)) lines.push(`  detail: ${detailJson(any, registry)}`);
    } catch (e) {
      lines.push(`  detail: (grpc-status-details-bin is not a google.rpc.Status: ${(e as Error).message})`);
    }
  }
  return `${lines.join('\n')}\n`;
}
