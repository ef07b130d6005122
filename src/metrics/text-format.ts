import type { MetricFamily } from './metric-families.js';

/** The content type of the Prometheus text exposition format this exporter answers with. */
export const TEXT_FORMAT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const LABEL_VALUE_SPECIALS = /[\\"\n]/;
const HELP_SPECIALS = /[\\\n]/;

/** A label value as the text format quotes it: backslash, double quote and newline escaped. */
export function escapeLabelValue(value: string): string {
  // Most values (hex keys, channel points) need nothing: test before replacing.
  if (!LABEL_VALUE_SPECIALS.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** A HELP text as the text format wants it: backslash and newline escaped. */
export function escapeHelp(help: string): string {
  if (!HELP_SPECIALS.test(help)) return help;
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/**
 * A sample value as Prometheus parses it (Go's ParseFloat): JavaScript's
 * shortest round-trip form (integers below 1e21 without exponent), and the
 * format's spelling of the non-finite values.
 */
export function formatSampleValue(value: number): string {
  if (Number.isFinite(value)) return String(value);
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? '+Inf' : '-Inf';
}

/** The HELP and TYPE lines that open a family. */
export function familyHeader(family: MetricFamily): string {
  return `# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} ${family.type}\n`;
}
