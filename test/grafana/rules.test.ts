import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parse, stringify } from 'yaml';
import {
  PROJECT_README,
  RUNBOOK_DOCUMENT,
  allRules,
  filesEndingWith,
  ALERTS_DIR,
  loadRuleFiles,
  loadRuleTestFile,
  ruleTestFiles,
} from './grafana-files.js';
import { knownMetricNames } from './known-metrics.js';
import { ensurePrometheus, promtool } from './promtool.js';
import { promqlMetricNames } from './promql-metric-names.js';

const SEVERITIES = new Set(['critical', 'warning', 'info']);

/** The alerts the issue asks for, by what they watch. */
const REQUIRED_ALERTS = [
  'ChanfitnessPeerFlapping',
  'ChanfitnessChannelLowUptime',
  'ChanfitnessPeerOfflineTooLong',
  'ChanfitnessNoEvents',
  'ChanfitnessFlapFlushFailing',
  'ChanfitnessFlapFlushStale',
  'ChanfitnessNatsDisconnected',
  'ChanfitnessExporterDown',
];

/** GitHub's (and npm's) anchor of a Markdown heading. */
function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a Markdown document's headings; `#` lines in fenced code are not headings. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const m = fenced ? null : /^#{1,6} (.+)$/.exec(line);
    if (m !== null) anchors.add(headingAnchor(m[1] ?? ''));
  }
  return anchors;
}

const ruleFiles = loadRuleFiles();
const rules = allRules(ruleFiles);
const alerts = rules.filter((r) => r.alert !== undefined);
const recordings = rules.filter((r) => r.record !== undefined);
const testFiles = ruleTestFiles().map(loadRuleTestFile);

describe('Prometheus rules', function () {
  // Installing Debian's prometheus package takes a while on a new machine.
  this.timeout(300_000);
  before(async () => {
    await ensurePrometheus();
  });

  it('are the rule files and unit-test files of grafana/alerts', () => {
    assert.deepEqual(
      ruleFiles.map((f) => basename(f.path)),
      ['chanfitness.rules.yml'],
    );
    assert.ok(testFiles.length >= 2);
    assert.ok(REQUIRED_ALERTS.every((a) => alerts.some((r) => r.alert === a)));
  });

  for (const file of filesEndingWith(ALERTS_DIR, '.rules.yml')) {
    it(`pass promtool check rules: ${basename(file)}`, async () => {
      const { code, output } = await promtool(['check', 'rules', file]);
      assert.equal(code, 0, output);
      assert.match(output, new RegExp(`SUCCESS: ${rules.length} rules found`));
    });
  }

  for (const file of ruleTestFiles()) {
    it(`pass promtool test rules: ${basename(file)}`, async () => {
      const { code, output } = await promtool(['test', 'rules', file]);
      assert.equal(code, 0, output);
    });
  }

  it('fail promtool test rules when an expectation is wrong (the test run can fail)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chanfitness-rules-'));
    try {
      for (const f of ruleFiles) await copyFile(f.path, join(dir, basename(f.path)));
      // The first test of alerting.test.yml, with the severity it expects changed.
      const doc = parse(await readFile(join(ALERTS_DIR, 'tests', 'alerting.test.yml'), 'utf8')) as {
        rule_files: string[];
        tests: unknown[];
      };
      const original = stringify({
        ...doc,
        rule_files: ['chanfitness.rules.yml'],
        tests: doc.tests.slice(0, 1),
      });
      const broken = original.replace('severity: critical', 'severity: info');
      assert.notEqual(broken, original);
      await writeFile(join(dir, 'good.test.yml'), original);
      await writeFile(join(dir, 'broken.test.yml'), broken);
      assert.equal((await promtool(['test', 'rules', join(dir, 'good.test.yml')])).code, 0);
      const { code, output } = await promtool(['test', 'rules', join(dir, 'broken.test.yml')]);
      assert.notEqual(code, 0);
      assert.match(output, /FAILED/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('test every alert both firing and not firing', () => {
    const tests = testFiles.flatMap((f) => f.alertTests);
    for (const { alert } of alerts) {
      const mine = tests.filter((t) => t.alertname === alert);
      assert.ok(
        mine.some((t) => t.expectedCount > 0),
        `${alert}: no firing case`,
      );
      assert.ok(
        mine.some((t) => t.expectedCount === 0),
        `${alert}: no quiet case`,
      );
    }
  });

  it('test every recording rule', () => {
    const tested = new Set(testFiles.flatMap((f) => f.exprTests.map((t) => t.expr)));
    for (const { record } of recordings) assert.ok(tested.has(record ?? ''), `${record} untested`);
  });

  it('give every alert a severity, a summary, a templated description and a runbook', () => {
    for (const r of alerts) {
      const name = r.alert ?? '';
      assert.ok(SEVERITIES.has(r.labels?.severity ?? ''), `${name} severity`);
      assert.ok((r.annotations?.summary ?? '') !== '', `${name} summary`);
      assert.match(
        r.annotations?.description ?? '',
        /\{\{ \$(labels|value)/,
        `${name} description`,
      );
      assert.equal(r.annotations?.runbook, `${RUNBOOK_DOCUMENT}#${headingAnchor(name)}`);
      // No URL: where the README is hosted is the operator's to say (README, runbook_url).
      assert.equal(r.annotations.runbook_url, undefined, `${name} runbook_url`);
    }
  });

  it('have a runbook section in the README for every alert', async () => {
    const anchors = new Set(headingAnchors(await readFile(PROJECT_README, 'utf8')));
    for (const r of alerts) {
      const anchor = (r.annotations?.runbook ?? '').split('#')[1] ?? '';
      assert.ok(anchors.has(anchor), `README has no heading for #${anchor}`);
    }
  });

  it('read only metrics the exporter, Prometheus or the recording rules provide', () => {
    const known = knownMetricNames(ruleFiles);
    for (const r of rules) {
      for (const name of promqlMetricNames(r.expr)) {
        assert.ok(known.has(name), `${r.alert ?? r.record}: unknown metric ${name}`);
      }
    }
  });

  it('name recording rules chanfitness:<metric>[:<operation>], apart from exported metrics', () => {
    for (const { record } of recordings) assert.match(record ?? '', /^chanfitness:\w+(:\w+)?$/);
  });
});
