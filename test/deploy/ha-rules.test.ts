import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { Rule, RuleFile } from '../grafana/grafana-files.js';
import { ensurePrometheus, promtool } from '../grafana/promtool.js';

const HA_RULES = fileURLToPath(
  new URL('../../deploy/ha/chanfitness-ha.rules.yml', import.meta.url),
);
const HA_TESTS = fileURLToPath(new URL('../../deploy/ha/tests/ha.test.yml', import.meta.url));
const SINGLE_RULES = fileURLToPath(
  new URL('../../grafana/alerts/chanfitness.rules.yml', import.meta.url),
);
const README = fileURLToPath(new URL('../../README.md', import.meta.url));

/** The alerts the HA file rewrites so that two exporters make one alert (or adds). */
const REWRITTEN = new Set([
  'ChanfitnessExporterDown',
  'ChanfitnessAllExportersDown',
  'ChanfitnessNatsDisconnected',
  'ChanfitnessNodeNoEvents',
  'ChanfitnessNodeUnobserved',
  'ChanfitnessPeerFlapping',
  'ChanfitnessChannelLowUptime',
  'ChanfitnessChannelLowWindowUptime',
  'ChanfitnessPeerOfflineTooLong',
  'ChanfitnessEventsRejected',
]);

/** Alerts whose series are per channel, peer or node: they must not carry `instance`. */
const ONCE_PER_SUBJECT = [...REWRITTEN].filter(
  (a) => a !== 'ChanfitnessExporterDown' && a !== 'ChanfitnessNatsDisconnected',
);

function rules(path: string): Rule[] {
  const file = parse(readFileSync(path, 'utf8')) as Omit<RuleFile, 'path'>;
  assert.equal(file.groups.length, 1, `${path}: one group`);
  return file.groups[0]?.rules ?? [];
}

const byName = (list: Rule[]) => new Map(list.map((r) => [r.alert ?? r.record ?? '', r]));

/** deploy/ha: the rules of a highly available pair (README, "Highly available deployment"). */
describe('HA Prometheus rules (deploy/ha)', function () {
  this.timeout(120_000);
  before(async () => {
    await ensurePrometheus();
  });

  it('pass promtool check rules', async () => {
    const result = await promtool(['check', 'rules', HA_RULES]);
    assert.equal(result.code, 0, result.output);
  });

  it('pass their promtool unit tests: one alert per channel, peer or node, whatever the exporters', async () => {
    const result = await promtool(['test', 'rules', HA_TESTS]);
    assert.equal(result.code, 0, result.output);
  });

  it('have every rule of the single-instance file, the same where not rewritten for HA', () => {
    const single = byName(rules(SINGLE_RULES));
    const ha = byName(rules(HA_RULES));
    for (const [name, rule] of single) {
      const found = ha.get(name);
      assert.ok(found, `${name} missing from the HA rules`);
      if (!REWRITTEN.has(name)) assert.deepEqual(found, rule, name);
    }
    for (const name of ha.keys()) {
      assert.ok(single.has(name) || REWRITTEN.has(name), `${name} is neither shared nor listed`);
    }
  });

  it('aggregate instance away in every alert about channels, peers and nodes', () => {
    const ha = byName(rules(HA_RULES));
    for (const name of ONCE_PER_SUBJECT) {
      const expr = ha.get(name)?.expr ?? '';
      assert.match(expr, /without \(instance\)|by \(job\)|by \(job, reason\)/, name);
      assert.doesNotMatch(ha.get(name)?.annotations?.summary ?? '', /\$labels\.instance/, name);
      assert.doesNotMatch(ha.get(name)?.annotations?.description ?? '', /\$labels\.instance/, name);
    }
  });

  it('have a runbook section in the README for the alerts they add', () => {
    const readme = readFileSync(README, 'utf8');
    for (const rule of rules(HA_RULES)) {
      const runbook = rule.annotations?.runbook;
      if (rule.alert === undefined) continue;
      assert.equal(runbook, `README.md#${rule.alert.toLowerCase()}`);
      assert.ok(readme.includes(`#### ${rule.alert}\n`), `README section of ${rule.alert}`);
    }
  });
});
