/** Outcomes of flap-count flushes, read by the metrics collector at scrape time. */
export class FlushStats {
  success = 0;
  error = 0;
  /** Time of the last successful flush (ms since epoch); undefined before one. */
  lastSuccessAt: number | undefined;
}
