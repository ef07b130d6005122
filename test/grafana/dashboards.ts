import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { CodedError } from '../../src/errors.js';
import { DASHBOARDS_DIR, filesEndingWith } from './grafana-files.js';

export interface DataSourceRef {
  type?: string;
  uid?: string;
}
export interface GrafanaTarget {
  refId: string;
  expr: string;
  instant?: boolean;
  range?: boolean;
  format?: string;
  legendFormat?: string;
  datasource?: DataSourceRef;
}
export interface GrafanaPanel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: DataSourceRef;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: GrafanaTarget[];
  transformations?: { id: string; options: Record<string, unknown> }[];
  /** The panels of a collapsed row. */
  panels?: GrafanaPanel[];
}
export interface GrafanaVariable {
  name: string;
  type: string;
  label?: string;
  query?: string | { query: string; qryType?: number };
  definition?: string;
  datasource?: DataSourceRef;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
  current?: { value?: string | string[]; text?: string | string[] };
}
export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  tags: string[];
  panels: GrafanaPanel[];
  templating: { list: GrafanaVariable[] };
}
export interface LoadedDashboard {
  file: string;
  /** The file as parsed, for checks that walk all of it. */
  raw: unknown;
  dashboard: Dashboard;
}

export type DashboardErrorCode = 'DASHBOARD_SHAPE' | 'DASHBOARD_UNKNOWN_VARIABLE';

export class DashboardError extends CodedError<DashboardErrorCode> {}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkPanel(p: unknown, where: string): void {
  if (!isRecord(p) || typeof p.id !== 'number' || typeof p.type !== 'string') {
    throw new DashboardError('DASHBOARD_SHAPE', `${where}: a panel needs a numeric id and a type`);
  }
  if (typeof p.title !== 'string' || !isRecord(p.gridPos)) {
    throw new DashboardError(
      'DASHBOARD_SHAPE',
      `${where}: panel ${p.id} needs a title and gridPos`,
    );
  }
  for (const t of (p.targets ?? []) as unknown[]) {
    if (!isRecord(t) || typeof t.refId !== 'string' || typeof t.expr !== 'string') {
      throw new DashboardError(
        'DASHBOARD_SHAPE',
        `${where}: panel ${p.id} has a target without refId or expr`,
      );
    }
  }
  for (const child of (p.panels ?? []) as unknown[]) checkPanel(child, where);
}

/** A dashboard file parsed and checked for the shape these helpers rely on. */
export function loadDashboard(file: string): LoadedDashboard {
  const raw: unknown = JSON.parse(readFileSync(file, 'utf8'));
  const where = basename(file);
  if (!isRecord(raw) || typeof raw.uid !== 'string' || typeof raw.title !== 'string') {
    throw new DashboardError('DASHBOARD_SHAPE', `${where}: needs uid and title`);
  }
  if (
    !Array.isArray(raw.panels) ||
    !isRecord(raw.templating) ||
    !Array.isArray(raw.templating.list)
  ) {
    throw new DashboardError('DASHBOARD_SHAPE', `${where}: needs panels and templating.list`);
  }
  for (const p of raw.panels as unknown[]) checkPanel(p, where);
  for (const v of raw.templating.list as unknown[]) {
    if (!isRecord(v) || typeof v.name !== 'string' || typeof v.type !== 'string') {
      throw new DashboardError('DASHBOARD_SHAPE', `${where}: a variable needs a name and a type`);
    }
  }
  return { file, raw, dashboard: raw as unknown as Dashboard };
}

export function loadDashboards(dir = DASHBOARDS_DIR): LoadedDashboard[] {
  return filesEndingWith(dir, '.json').map(loadDashboard);
}

/** Every panel, the panels of collapsed rows included. */
export function allPanels(dashboard: Dashboard): GrafanaPanel[] {
  return dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** What Grafana would put in place of its built-in and dashboard variables. */
export interface SubstitutionOptions {
  /** Values of dashboard variables, already formatted as Grafana would (regex for multi-value). */
  variables?: Record<string, string>;
  /** $__rate_interval; Grafana makes it at least four scrape intervals. Default 1m. */
  rateInterval?: string;
  /** $__interval: the step of a range query. Default 15s. */
  interval?: string;
  /** $__range: the dashboard's time range. Default 1h. */
  range?: string;
}

const DURATION_SECONDS: Record<string, number> = {
  ms: 0.001,
  s: 1,
  m: 60,
  h: 3600,
  d: 86400,
  w: 604800,
};

/** Seconds in a Prometheus duration like `1h30m`. */
export function durationSeconds(duration: string): number {
  let total = 0;
  let rest = duration;
  while (rest !== '') {
    const m = /^(\d+)(ms|s|m|h|d|w)/.exec(rest);
    if (m === null) throw new DashboardError('DASHBOARD_SHAPE', `bad duration ${duration}`);
    total += Number(m[1]) * (DURATION_SECONDS[m[2] ?? ''] ?? 0);
    rest = rest.slice(m[0].length);
  }
  return total;
}

/** The value Grafana would use for a dashboard variable left at its default. */
function defaultValue(v: GrafanaVariable): string {
  if (v.includeAll === true) return v.allValue ?? '.+';
  const current = v.current?.value;
  if (typeof current === 'string') return current;
  if (Array.isArray(current) && current.length === 1 && current[0] !== undefined) return current[0];
  throw new DashboardError('DASHBOARD_UNKNOWN_VARIABLE', `variable ${v.name} has no default value`);
}

/**
 * Replaces Grafana variables (`$name`, `${name}`, `${name:format}`, `[[name]]`) in an
 * expression. An unknown variable is an error, so a typo cannot pass unnoticed.
 */
export function substituteVariables(
  expr: string,
  dashboard: Dashboard,
  options: SubstitutionOptions = {},
): string {
  const range = options.range ?? '1h';
  const interval = options.interval ?? '15s';
  const builtIns: Record<string, string> = {
    __rate_interval: options.rateInterval ?? '1m',
    __interval: interval,
    __interval_ms: String(durationSeconds(interval) * 1000),
    __range: range,
    __range_s: String(durationSeconds(range)),
    __range_ms: String(durationSeconds(range) * 1000),
  };
  const byName = new Map(dashboard.templating.list.map((v) => [v.name, v]));
  const valueOf = (name: string): string => {
    const builtIn = builtIns[name];
    if (builtIn !== undefined) return builtIn;
    const given = options.variables?.[name];
    if (given !== undefined) return given;
    const variable = byName.get(name);
    if (variable === undefined) {
      throw new DashboardError(
        'DASHBOARD_UNKNOWN_VARIABLE',
        `unknown variable $${name} in: ${expr}`,
      );
    }
    return defaultValue(variable);
  };
  return expr.replace(
    /\$\{(\w+)(?::[\w-]+)?\}|\[\[(\w+)\]\]|\$(\w+)/g,
    (_m, braced?: string, bracketed?: string, plain?: string) =>
      valueOf(braced ?? bracketed ?? plain ?? ''),
  );
}

export interface DashboardExpression {
  dashboardUid: string;
  /** `panel <id> "<title>" <refId>` or `variable <name>`, for messages. */
  where: string;
  /** Panel targets: as the panel asks, instant or range. Variable queries: instant. */
  instant: boolean;
  raw: string;
  expr: string;
}

/**
 * `label_values(<selector>, <label>)` as a PromQL expression that returns one series
 * per value, so that a variable's query can be run and checked like a panel's.
 */
export function labelValuesAsPromql(query: string): string | undefined {
  const m = /^\s*label_values\((.*),\s*(\w+)\s*\)\s*$/s.exec(query);
  if (m === null) return undefined;
  return `group by (${m[2] ?? ''}) (${m[1] ?? ''})`;
}

/** Every PromQL expression of every panel target and query variable, variables substituted. */
export function dashboardExpressions(
  dashboards: LoadedDashboard[],
  options: SubstitutionOptions = {},
): DashboardExpression[] {
  const out: DashboardExpression[] = [];
  for (const { dashboard } of dashboards) {
    for (const v of dashboard.templating.list) {
      if (v.type !== 'query') continue;
      const query = typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
      const raw = labelValuesAsPromql(query) ?? query;
      out.push({
        dashboardUid: dashboard.uid,
        where: `variable ${v.name}`,
        instant: true,
        raw,
        expr: substituteVariables(raw, dashboard, options),
      });
    }
    for (const panel of allPanels(dashboard)) {
      for (const target of panel.targets ?? []) {
        out.push({
          dashboardUid: dashboard.uid,
          where: `panel ${panel.id} "${panel.title}" ${target.refId}`,
          instant: target.instant === true,
          raw: target.expr,
          expr: substituteVariables(target.expr, dashboard, options),
        });
      }
    }
  }
  return out;
}
