import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** grafana/ of this repository, and its parts. */
export const GRAFANA_DIR = fileURLToPath(new URL('../../grafana/', import.meta.url));
export const DASHBOARDS_DIR = join(GRAFANA_DIR, 'dashboards');
export const ALERTS_DIR = join(GRAFANA_DIR, 'alerts');
export const RULE_TESTS_DIR = join(ALERTS_DIR, 'tests');
export const PROVISIONING_DIR = join(GRAFANA_DIR, 'provisioning');

/** The project's README: it documents every panel and holds the runbook of every alert. */
export const PROJECT_README = fileURLToPath(new URL('../../README.md', import.meta.url));

/**
 * What every alert's `runbook` annotation names: `README.md#<anchor>`, the README section
 * titled with the alert's name. A document and anchor rather than a URL, so that no host
 * is assumed (operators add a runbook_url of their own where they host the README).
 */
export const RUNBOOK_DOCUMENT = 'README.md';

export interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export interface RuleGroup {
  name: string;
  rules: Rule[];
}
export interface RuleFile {
  path: string;
  groups: RuleGroup[];
}

/** Absolute paths of a folder's files whose names end with `suffix`, sorted. */
export function filesEndingWith(dir: string, suffix: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith(suffix))
    .sort()
    .map((name) => join(dir, name));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringMap(value: unknown, where: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value)) throw new Error(`${where}: not a map`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new Error(`${where}.${k}: not a string`);
    out[k] = v;
  }
  return out;
}

function toRule(value: unknown, where: string): Rule {
  if (!isRecord(value)) throw new Error(`${where}: not a map`);
  const { alert, record, expr } = value;
  if (typeof expr !== 'string') throw new Error(`${where}: no expr`);
  if ((typeof alert === 'string') === (typeof record === 'string')) {
    throw new Error(`${where}: needs exactly one of alert and record`);
  }
  const rule: Rule = { expr };
  if (typeof alert === 'string') rule.alert = alert;
  if (typeof record === 'string') rule.record = record;
  if (typeof value.for === 'string') rule.for = value.for;
  const labels = stringMap(value.labels, `${where}.labels`);
  if (labels) rule.labels = labels;
  const annotations = stringMap(value.annotations, `${where}.annotations`);
  if (annotations) rule.annotations = annotations;
  return rule;
}

/** A Prometheus rule file, read and checked for the shape the tests rely on. */
export function loadRuleFile(path: string): RuleFile {
  const doc: unknown = parse(readFileSync(path, 'utf8'));
  if (!isRecord(doc) || !Array.isArray(doc.groups)) throw new Error(`${path}: no groups`);
  const groups = doc.groups.map((g: unknown, gi): RuleGroup => {
    if (!isRecord(g) || typeof g.name !== 'string' || !Array.isArray(g.rules)) {
      throw new Error(`${path}: group ${gi} needs a name and rules`);
    }
    const name = g.name;
    return { name, rules: g.rules.map((r: unknown, ri) => toRule(r, `${path} ${name}[${ri}]`)) };
  });
  return { path, groups };
}

/** Every rule file of grafana/alerts (`*.rules.yml`). */
export function loadRuleFiles(): RuleFile[] {
  return filesEndingWith(ALERTS_DIR, '.rules.yml').map(loadRuleFile);
}

export function allRules(files: RuleFile[]): Rule[] {
  return files.flatMap((f) => f.groups.flatMap((g) => g.rules));
}

export interface AlertRuleTest {
  alertname: string;
  evalTime: string;
  expectedCount: number;
}
export interface PromqlExprTest {
  expr: string;
  evalTime: string;
}
export interface RuleTestFile {
  path: string;
  alertTests: AlertRuleTest[];
  exprTests: PromqlExprTest[];
}

/** A promtool unit-test file: which alerts and expressions it checks, and when. */
export function loadRuleTestFile(path: string): RuleTestFile {
  const doc: unknown = parse(readFileSync(path, 'utf8'));
  if (!isRecord(doc) || !Array.isArray(doc.tests)) throw new Error(`${path}: no tests`);
  const alertTests: AlertRuleTest[] = [];
  const exprTests: PromqlExprTest[] = [];
  for (const test of doc.tests as unknown[]) {
    if (!isRecord(test)) throw new Error(`${path}: a test is not a map`);
    for (const t of (test.alert_rule_test ?? []) as unknown[]) {
      if (!isRecord(t) || typeof t.alertname !== 'string' || !Array.isArray(t.exp_alerts)) {
        throw new Error(`${path}: bad alert_rule_test`);
      }
      alertTests.push({
        alertname: t.alertname,
        evalTime: String(t.eval_time),
        expectedCount: t.exp_alerts.length,
      });
    }
    for (const t of (test.promql_expr_test ?? []) as unknown[]) {
      if (!isRecord(t) || typeof t.expr !== 'string')
        throw new Error(`${path}: bad promql_expr_test`);
      exprTests.push({ expr: t.expr, evalTime: String(t.eval_time) });
    }
  }
  return { path, alertTests, exprTests };
}

export function ruleTestFiles(): string[] {
  return filesEndingWith(RULE_TESTS_DIR, '.test.yml');
}
