/**
 * ContractReader query filters (chainlink-common v1.3.1 pkg/types/query, wire form in
 * loop.chain.common): expressions, limit and sort, as plain TypeScript values, and their
 * conversions to and from the wire. Comparator values travel as codec.VersionedBytes.
 *
 * Enum numbers on the wire are the Go constants cast, not the proto names: a cursor direction is
 * 1 = previous and 2 = following (query.CursorPrevious = iota + 1), although the proto enum names
 * 0 Preceding and 1 Following.
 */
import type { Expression as PbExpression, Limit as PbLimit, LimitAndSort as PbLimitAndSort, Primitive as PbPrimitive, QueryKeyFilter as PbKeyFilter } from '../../gen';
import { ConfigError, LoopError } from '../../core/errors';
import { type CborValue, decodeVersioned, encodeVersioned } from './versioned-bytes';

export type ComparisonOperator = 'eq' | 'neq' | 'gt' | 'lt' | 'gte' | 'lte';
const OPERATORS: readonly ComparisonOperator[] = ['eq', 'neq', 'gt', 'lt', 'gte', 'lte'];

/** primitives.ConfidenceLevel; on the wire 0 unconfirmed, 1 finalized, 2 safe. */
export type Confidence = 'unconfirmed' | 'finalized' | 'safe';
const CONFIDENCES: readonly Confidence[] = ['unconfirmed', 'finalized', 'safe'];

/** query.Expression: a primitive, or `and` / `or` of expressions. */
export type Expression =
  | { comparator: { name: string; valueComparators: Array<{ value: CborValue; operator: ComparisonOperator }> } }
  | { block: { blockNumber: string; operator: ComparisonOperator } }
  | { confidence: Confidence }
  | { timestamp: { timestamp: number; operator: ComparisonOperator } }
  | { txHash: string }
  | { and: Expression[] }
  | { or: Expression[] };

/** query.KeyFilter. */
export interface KeyFilter {
  key: string;
  expressions: Expression[];
}

export type SortType = 'timestamp' | 'block' | 'sequence';
const SORT_TYPES: readonly SortType[] = ['timestamp', 'block', 'sequence'];

/** query.LimitAndSort. A cursor limit has both cursor and direction; a count limit has neither. */
export interface LimitAndSort {
  sortBy: Array<{ sortType: SortType; direction: 'asc' | 'desc' }>;
  limit: { count: number; cursor?: string; direction?: 'previous' | 'following' };
}

function name<T extends string>(table: readonly T[], n: number, what: string): T {
  const v = table[n];
  if (v === undefined) throw new LoopError('ERR_LOOPP_LOOP_CODEC', `unknown ${what} ${n}`, { input: n });
  return v;
}
function num<T extends string>(table: readonly T[], v: T, what: string): number {
  const n = table.indexOf(v);
  if (n < 0) throw new LoopError('ERR_LOOPP_LOOP_CODEC', `unknown ${what} ${JSON.stringify(v)}`, { input: v, hint: `one of ${table.join(', ')}` });
  return n;
}

export const confidenceToPb = (c: Confidence): number => num(CONFIDENCES, c, 'confidence');
export const confidenceFromPb = (n: number): Confidence => name(CONFIDENCES, n, 'confidence');

export function expressionToPb(e: Expression, version: number): PbExpression {
  const op = (o: ComparisonOperator) => num(OPERATORS, o, 'comparison operator');
  if ('and' in e || 'or' in e) {
    const list = 'and' in e ? e.and : e.or;
    return { evaluator: { $case: 'booleanExpression', value: { booleanOperator: 'and' in e ? 0 : 1, expression: list.map((x) => expressionToPb(x, version)) } } };
  }
  const prim = (value: PbPrimitive): PbExpression => ({ evaluator: { $case: 'primitive', value } });
  if ('comparator' in e) {
    const c = e.comparator;
    return prim({ primitive: { $case: 'comparator', value: { name: c.name, valueComparators: c.valueComparators.map((v) => ({ value: encodeVersioned(v.value, version), operator: op(v.operator) })) } } });
  }
  if ('block' in e) return prim({ primitive: { $case: 'block', value: { blockNumber: e.block.blockNumber, operator: op(e.block.operator) } } });
  if ('confidence' in e) return prim({ primitive: { $case: 'confidence', value: confidenceToPb(e.confidence) } });
  if ('timestamp' in e) return prim({ primitive: { $case: 'timestamp', value: { timestamp: e.timestamp.timestamp, operator: op(e.timestamp.operator) } } });
  return prim({ primitive: { $case: 'txHash', value: { txHash: e.txHash } } });
}

export function expressionFromPb(e: PbExpression): Expression {
  const ev = e.evaluator;
  if (ev === undefined) throw new LoopError('ERR_LOOPP_LOOP_CODEC', 'expression without evaluator', { input: e });
  if (ev.$case === 'booleanExpression') {
    const list = ev.value.expression.map(expressionFromPb);
    return ev.value.booleanOperator === 0 ? { and: list } : { or: list };
  }
  const p = ev.value.primitive;
  if (p === undefined) throw new LoopError('ERR_LOOPP_LOOP_CODEC', 'primitive can not be nil', { input: e });
  const op = (n: number) => name(OPERATORS, n, 'comparison operator');
  switch (p.$case) {
    case 'comparator':
      return { comparator: { name: p.value.name, valueComparators: p.value.valueComparators.map((v) => ({ value: decodeVersioned(v.value), operator: op(v.operator) })) } };
    case 'block':
      return { block: { blockNumber: p.value.blockNumber, operator: op(p.value.operator) } };
    case 'confidence':
      return { confidence: confidenceFromPb(p.value) };
    case 'timestamp':
      return { timestamp: { timestamp: p.value.timestamp, operator: op(p.value.operator) } };
    case 'txHash':
      return { txHash: p.value.txHash };
  }
}

export function keyFilterToPb(f: KeyFilter, version: number): PbKeyFilter {
  return { key: f.key, expression: f.expressions.map((e) => expressionToPb(e, version)) };
}
export function keyFilterFromPb(f: PbKeyFilter | undefined): KeyFilter {
  return { key: f?.key ?? '', expressions: (f?.expression ?? []).map(expressionFromPb) };
}

const CURSOR_DIRECTIONS = { previous: 1, following: 2 } as const;

export function limitAndSortToPb(l: LimitAndSort): PbLimitAndSort {
  const hasCursor = l.limit.cursor !== undefined && l.limit.cursor !== '';
  if (hasCursor !== (l.limit.direction !== undefined)) {
    throw new ConfigError('ERR_LOOPP_CONFIG', 'Limit cursor and cursor direction must both be defined or undefined', { input: l.limit });
  }
  return {
    sortBy: l.sortBy.map((s) => ({ sortType: num(SORT_TYPES, s.sortType, 'sort type'), direction: s.direction === 'asc' ? 0 : 1 })),
    limit: { count: l.limit.count, ...(hasCursor ? { cursor: l.limit.cursor, direction: CURSOR_DIRECTIONS[l.limit.direction!] as number as PbLimit['direction'] } : {}) },
  };
}

export function limitAndSortFromPb(l: PbLimitAndSort | undefined): LimitAndSort {
  const lim = l?.limit;
  const cursorSet = lim?.cursor !== undefined;
  if (cursorSet !== (lim?.direction !== undefined)) {
    throw new LoopError('ERR_LOOPP_LOOP_CODEC', 'Limit cursor and cursor direction must both be defined or undefined', { input: lim });
  }
  const wireDirection = lim?.direction as number | undefined;
  const direction = wireDirection === 1 ? 'previous' : wireDirection === 2 ? 'following' : undefined;
  return {
    sortBy: (l?.sortBy ?? []).map((s) => ({ sortType: name(SORT_TYPES, s.sortType, 'sort type'), direction: s.direction === 0 ? 'asc' : 'desc' })),
    limit: { count: lim?.count ?? 0, ...(cursorSet ? { cursor: lim.cursor, ...(direction === undefined ? {} : { direction }) } : {}) },
  };
}
