/**
 * What loopp uses of a Prometheus registry; a prom-client Registry is one. Public types name this
 * rather than prom-client's class, so `loopp/loop` type-checks without prom-client installed (an
 * optional peer that only the LOOP plugin side needs).
 */
export interface MetricsRegistry {
  /** The exposition text of every metric. */
  metrics(): Promise<string>;
  /** The Content-Type of `metrics()`. */
  readonly contentType: string;
  getSingleMetric(name: string): unknown;
  // prom-client's own signature takes its Metric class.
  registerMetric(metric: never): void;
}
