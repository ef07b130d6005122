import { CodedError } from '../../src/errors.js';

export type PromqlScanErrorCode = 'PROMQL_UNSUBSTITUTED_VARIABLE' | 'PROMQL_UNEXPECTED_CHARACTER';

/** An expression this scanner cannot read: a Grafana variable left in it, or a stray character. */
export class PromqlScanError extends CodedError<PromqlScanErrorCode> {}

/**
 * PromQL's reserved words: binary set operators, vector-matching and grouping clauses,
 * modifiers, number literals and aggregation operators. None can be a bare metric name.
 * PromQL keywords are case-insensitive.
 */
const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'atan2',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'inf',
  'nan',
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
]);

/** Keywords followed by a parenthesised list of label names (not expressions). */
const LABEL_LIST_KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
]);

const IDENT_START = /[A-Za-z_:]/;
const IDENT_PART = /[A-Za-z0-9_:]/;
const NUMBER_OR_DURATION = /^(?:0[xX][0-9a-fA-F]+|[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?[A-Za-z0-9]*)/;
const PUNCTUATION = new Set(['(', ')', ',', '+', '-', '*', '/', '%', '^', '=', '!', '<', '>', '@']);

/**
 * The metric names an expression reads: identifiers that stand as vector selectors
 * (`metric`, `metric{...}`, `metric[5m]`) and `__name__="..."` matchers. Function names
 * (identifiers followed by `(`), keywords, label names in `{}` and in `by (...)`-style
 * lists, strings, numbers and durations are not metric names.
 */
export function promqlMetricNames(expr: string): Set<string> {
  const names = new Set<string>();
  let i = 0;

  const skipSpace = (): void => {
    for (;;) {
      const c = expr[i];
      if (c === undefined) return;
      if (c === '#') {
        while (i < expr.length && expr[i] !== '\n') i++;
      } else if (/\s/.test(c)) {
        i++;
      } else {
        return;
      }
    }
  };

  const fail = (code: PromqlScanErrorCode, what: string): never => {
    throw new PromqlScanError(code, `${what} at offset ${i} of: ${expr}`);
  };

  const readString = (): string => {
    const quote = expr[i];
    i++;
    let value = '';
    while (i < expr.length && expr[i] !== quote) {
      // Backquoted strings have no escapes; the others escape with a backslash.
      if (expr[i] === '\\' && quote !== '`') {
        value += expr[i + 1] ?? '';
        i += 2;
      } else {
        value += expr.charAt(i);
        i++;
      }
    }
    if (i >= expr.length) fail('PROMQL_UNEXPECTED_CHARACTER', 'unterminated string');
    i++;
    return value;
  };

  const readIdent = (): string => {
    const start = i;
    while (i < expr.length && IDENT_PART.test(expr[i] ?? '')) i++;
    return expr.slice(start, i);
  };

  const skipPastClosing = (close: string): void => {
    while (i < expr.length && expr[i] !== close) {
      if (expr[i] === '$') fail('PROMQL_UNSUBSTITUTED_VARIABLE', 'Grafana variable');
      if (expr[i] === '"' || expr[i] === "'" || expr[i] === '`') readString();
      else i++;
    }
    if (i >= expr.length) fail('PROMQL_UNEXPECTED_CHARACTER', `missing ${close}`);
    i++;
  };

  const readMatchers = (): void => {
    i++; // '{'
    for (;;) {
      skipSpace();
      if (expr[i] === '}') {
        i++;
        return;
      }
      if (expr[i] === ',') {
        i++;
        continue;
      }
      if (!IDENT_START.test(expr[i] ?? ''))
        fail('PROMQL_UNEXPECTED_CHARACTER', 'label name expected');
      const label = readIdent();
      skipSpace();
      const op = /^(=~|!~|!=|=)/.exec(expr.slice(i))?.[0];
      if (op === undefined) return fail('PROMQL_UNEXPECTED_CHARACTER', 'matcher operator expected');
      i += op.length;
      skipSpace();
      const q = expr[i];
      if (q !== '"' && q !== "'" && q !== '`')
        fail('PROMQL_UNEXPECTED_CHARACTER', 'string expected');
      const value = readString();
      if (label === '__name__' && op === '=') names.add(value);
    }
  };

  for (;;) {
    skipSpace();
    const c = expr[i];
    if (c === undefined) return names;
    if (c === '$') {
      fail('PROMQL_UNSUBSTITUTED_VARIABLE', 'Grafana variable');
    } else if (c === '"' || c === "'" || c === '`') {
      readString();
    } else if (c === '{') {
      readMatchers();
    } else if (c === '[') {
      skipPastClosing(']');
    } else if (IDENT_START.test(c)) {
      const ident = readIdent();
      const keyword = ident.toLowerCase();
      skipSpace();
      if (LABEL_LIST_KEYWORDS.has(keyword)) {
        if (expr[i] === '(') skipPastClosing(')');
      } else if (!KEYWORDS.has(keyword) && expr[i] !== '(') {
        names.add(ident);
      }
    } else if (/[0-9.]/.test(c)) {
      const token = NUMBER_OR_DURATION.exec(expr.slice(i))?.[0];
      if (token === undefined || token === '') fail('PROMQL_UNEXPECTED_CHARACTER', 'bad number');
      else i += token.length;
    } else if (PUNCTUATION.has(c)) {
      i++;
    } else {
      fail('PROMQL_UNEXPECTED_CHARACTER', `unexpected ${JSON.stringify(c)}`);
    }
  }
}
