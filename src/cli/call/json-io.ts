/**
 * The request's JSON (proto3's JSON mapping, @bufbuild/protobuf's fromJson) and the replies' JSON.
 * A syntax error says where, with the line and a caret; JSON that does not fit the message names the
 * field and lists the message's fields with their types.
 */
import { ScalarType, fromJson, toJson, type DescField, type DescMessage, type JsonValue, type Message, type Registry } from '@bufbuild/protobuf';
import { UsageError } from '../args';

/** The request text as JSON; a UsageError with the line, column and a caret. */
export function parseJsonText(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    // V8 says "at position N" (newer versions add "(line L column C)", which is ours below).
    const message = (err as Error).message.replace(/\s*\(line \d+ column \d+\)$/, '');
    const at = /at position (\d+)/.exec(message);
    const offset = at ? Number(at[1]) : text.length;
    const before = text.slice(0, offset).split('\n');
    const line = before.length;
    const column = before[before.length - 1]!.length + 1;
    const source = text.split('\n')[line - 1] ?? '';
    throw new UsageError(`the request is not JSON: ${message} (line ${line}, column ${column})\n  ${source}\n  ${' '.repeat(column - 1)}^`);
  }
}

function fieldType(f: DescField): string {
  const scalar = (t: ScalarType): string => (t === ScalarType.BYTES ? 'bytes, base64' : ScalarType[t]!.toLowerCase());
  switch (f.fieldKind) {
    case 'scalar':
      return scalar(f.scalar);
    case 'enum':
      return `enum ${f.enum.typeName}`;
    case 'message':
      return f.message.typeName;
    case 'list':
      return `list of ${f.listKind === 'scalar' ? scalar(f.scalar) : f.listKind === 'enum' ? `enum ${f.enum.typeName}` : f.message.typeName}`;
    case 'map':
      return `map of ${scalar(f.mapKey)} to ${f.mapKind === 'scalar' ? scalar(f.scalar) : f.mapKind === 'enum' ? `enum ${f.enum.typeName}` : f.message.typeName}`;
  }
}

/** `key (string), value (bytes, base64)`: the fields of `schema` by their JSON names. */
export function fieldList(schema: DescMessage): string {
  return schema.fields.length === 0 ? '(no fields: send {})' : schema.fields.map((f) => `${f.jsonName} (${fieldType(f)})`).join(', ');
}

/** The request message from its JSON; a UsageError naming the field and listing the message's. */
export function requestFrom(schema: DescMessage, json: JsonValue, registry: Registry): Message {
  try {
    return fromJson(schema, json, { registry });
  } catch (err) {
    throw new UsageError(`the JSON does not fit ${schema.typeName}: ${(err as Error).message}\n  ${schema.typeName} has the fields: ${fieldList(schema)}`);
  }
}

/** One reply as one line of JSON, every field shown (zero values too: the whole shape of the reply). */
export function replyJson(schema: DescMessage, message: Message, registry: Registry): string {
  return JSON.stringify(toJson(schema, message, { registry, alwaysEmitImplicit: true }));
}
