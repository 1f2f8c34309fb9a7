/**
 * The node's guard for OCR2 Query deadlines over LOOPs. libocr gives every ReportingPlugin.Query a
 * context deadline of MaxDurationQuery; in process a zero is harmless (the plugin ignores its
 * context), but over gRPC the deadline travels with the call and a zero one fails before the plugin
 * runs. Feeds configured with zero broke when median became a LOOP, so for Solana jobs with
 * CL_MEDIAN_CMD set the node raises MaxDurationQuery to CL_MIN_OCR2_MAX_DURATION_QUERY (default
 * 100ms). loopp applies the same rule, warns when it raises, and refuses a zero it would not raise.
 */
import { ConfigError } from '../../core/errors';
import { tryParseGoDuration, formatGoDuration } from '../../core/go/duration';
import { logAt, type Logger } from '../../core/logger';
import type { EnvSource } from './loop-switch';

export const MIN_OCR2_MAX_DURATION_QUERY_ENV = 'CL_MIN_OCR2_MAX_DURATION_QUERY';
/** The node's default since 2024 (v2.4.0 had 20ms). */
export const DEFAULT_MIN_OCR2_MAX_DURATION_QUERY_NS = 100_000_000;

/** CL_MIN_OCR2_MAX_DURATION_QUERY in nanoseconds (unset or empty: 100ms); a bad value throws the node's text. */
export function minOcr2MaxDurationQueryNs(env: EnvSource = process.env): number {
  const s = env[MIN_OCR2_MAX_DURATION_QUERY_ENV] ?? '';
  if (s === '') return DEFAULT_MIN_OCR2_MAX_DURATION_QUERY_NS;
  const r = tryParseGoDuration(s);
  if (!r.ok) {
    throw new ConfigError('ERR_LOOPP_ENV', `failed to parse ${MIN_OCR2_MAX_DURATION_QUERY_ENV}: ${r.error}`, {
      input: s,
      hint: 'a Go duration such as 100ms or 1s',
    });
  }
  return Number(r.value);
}

/**
 * The Query deadline in nanoseconds: `maxDurationQueryNs` raised to `minNs` (with a warning on
 * `logger`). Zero after that is refused: every Query would fail on arrival.
 */
export function queryDeadlineNs(maxDurationQueryNs: number, minNs: number | undefined, logger?: Logger): number {
  let ns = maxDurationQueryNs;
  if (minNs !== undefined && ns < minNs) {
    if (logger !== undefined) {
      logAt(logger, 'warn', `MaxDurationQuery ${formatGoDuration(ns)} is below ${MIN_OCR2_MAX_DURATION_QUERY_ENV}; raised to ${formatGoDuration(minNs)}`, {
        maxDurationQuery: formatGoDuration(ns),
        min: formatGoDuration(minNs),
      });
    }
    ns = minNs;
  }
  if (ns <= 0) {
    throw new ConfigError('ERR_LOOPP_CONFIG', `MaxDurationQuery is ${formatGoDuration(ns)}: every Query to the LOOP would time out at once`, {
      input: maxDurationQueryNs,
      hint: `set the job's MaxDurationQuery above zero; the node raises it to ${MIN_OCR2_MAX_DURATION_QUERY_ENV} (default 100ms) only for Solana jobs whose median runs as a LOOP (minMaxDurationQueryNs)`,
    });
  }
  return ns;
}
