/**
 * A strict parser of the Prometheus text exposition format 0.0.4, for tests:
 * it throws on anything Prometheus would reject or that the format forbids
 * (a family's HELP/TYPE twice, its samples split, a TYPE after its samples,
 * bad escapes, bad values).
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  help: string | undefined;
  type: string | undefined;
  readonly samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const VALUE = /^(?:[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|NaN|[+-]Inf)$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXED_TYPES: Record<string, readonly string[]> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['_sum', '_count'],
};

export function parseExposition(text: string): Map<string, Family> {
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('exposition does not end with \\n');
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  let current: Family | undefined;
  const lines = text.split('\n');
  lines.pop();
  const enter = (name: string, lineNo: number): Family => {
    if (current?.name === name) return current;
    if (current !== undefined) closed.add(current.name);
    if (closed.has(name)) throw new Error(`line ${lineNo}: family ${name} is split`);
    let family = families.get(name);
    if (family === undefined) {
      family = { name, help: undefined, type: undefined, samples: [] };
      families.set(name, family);
    }
    current = family;
    return family;
  };
  lines.forEach((line, i) => {
    const lineNo = i + 1;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const match = /^# (HELP|TYPE) ([^ ]+)(?: (.*))?$/.exec(line);
      if (match === null) return; // a plain comment
      const [, keyword, name = '', rest = ''] = match;
      if (!NAME.test(name) || NAME.exec(name)?.[0] !== name) {
        throw new Error(`line ${lineNo}: bad metric name ${name}`);
      }
      const family = enter(name, lineNo);
      if (keyword === 'HELP') {
        if (family.help !== undefined) throw new Error(`line ${lineNo}: second HELP for ${name}`);
        family.help = unescape(rest, false, lineNo);
      } else {
        if (family.type !== undefined) throw new Error(`line ${lineNo}: second TYPE for ${name}`);
        if (family.samples.length > 0) throw new Error(`line ${lineNo}: TYPE after samples`);
        if (!TYPES.has(rest)) throw new Error(`line ${lineNo}: bad type ${rest}`);
        family.type = rest;
      }
      return;
    }
    const sample = parseSample(line, lineNo);
    enter(familyOf(sample.name, families), lineNo).samples.push(sample);
  });
  return families;
}

function familyOf(sampleName: string, families: Map<string, Family>): string {
  if (families.has(sampleName)) return sampleName;
  for (const [type, suffixes] of Object.entries(SUFFIXED_TYPES)) {
    for (const suffix of suffixes) {
      if (!sampleName.endsWith(suffix)) continue;
      const base = sampleName.slice(0, -suffix.length);
      if (families.get(base)?.type === type) return base;
    }
  }
  return sampleName;
}

const SAMPLE_NAME = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"(,?)/y;
const REST = / ([^ ]+)(?: ([^ ]+))?$/y;

function parseSample(line: string, lineNo: number): Sample {
  SAMPLE_NAME.lastIndex = 0;
  const name = SAMPLE_NAME.exec(line)?.[0];
  if (name === undefined) throw new Error(`line ${lineNo}: no metric name in ${line}`);
  let at = name.length;
  const labels: Record<string, string> = {};
  if (line[at] === '{') {
    at += 1;
    let separated = true;
    while (line[at] !== '}') {
      LABEL.lastIndex = at;
      const match = LABEL.exec(line);
      if (match === null || !separated) throw new Error(`line ${lineNo}: bad labels in ${line}`);
      const [whole, labelName = '', raw = '', comma] = match;
      if (labelName in labels) throw new Error(`line ${lineNo}: label ${labelName} twice`);
      labels[labelName] = unescape(raw, true, lineNo);
      separated = comma === ',';
      at += whole.length;
    }
    at += 1;
  }
  REST.lastIndex = at;
  const rest = REST.exec(line);
  if (rest === null) throw new Error(`line ${lineNo}: expected " <value> [timestamp]" in ${line}`);
  const [, valueText = '', timestamp] = rest;
  if (!VALUE.test(valueText)) throw new Error(`line ${lineNo}: bad value ${valueText}`);
  const value =
    valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
  if (timestamp !== undefined && !/^-?[0-9]+$/.test(timestamp)) {
    throw new Error(`line ${lineNo}: bad timestamp ${timestamp}`);
  }
  return { name, labels, value };
}

function unescape(raw: string, quotes: boolean, lineNo: number): string {
  if (!raw.includes('\\')) return raw;
  return raw.replace(/\\(.?)/g, (_, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    if (c === '"' && quotes) return '"';
    throw new Error(`line ${lineNo}: bad escape \\${c}`);
  });
}
