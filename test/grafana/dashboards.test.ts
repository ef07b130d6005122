import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parse } from 'yaml';
import {
  type Dashboard,
  type GrafanaPanel,
  type LoadedDashboard,
  DashboardError,
  allPanels,
  dashboardExpressions,
  labelValuesAsPromql,
  loadDashboards,
  substituteVariables,
} from './dashboards.js';
import {
  PROJECT_README,
  PROVISIONING_DIR,
  filesEndingWith,
  loadRuleFiles,
} from './grafana-files.js';
import { knownMetricNames } from './known-metrics.js';
import { promqlMetricNames } from './promql-metric-names.js';

const DATASOURCE_REF = { type: 'prometheus', uid: '${datasource}' };
/** Grafana's built-in annotation source, the only other data source a dashboard may name. */
const BUILT_IN_ANNOTATIONS_REF = { type: 'grafana', uid: '-- Grafana --' };
const NODE_QUERY = 'label_values(chanfitness_peer_flap_count, node)';
/** Panels whose queries give one value per series at one time. */
const INSTANT_PANEL_TYPES = new Set(['table', 'stat', 'bargauge', 'histogram']);
const RANGE_PANEL_TYPES = new Set(['timeseries', 'state-timeline']);

const dashboards = loadDashboards();
const byUid = (uid: string): Dashboard => {
  const found = dashboards.find((d) => d.dashboard.uid === uid);
  assert.ok(found, `dashboard ${uid}`);
  return found.dashboard;
};

/** Every value under `key` anywhere in a JSON document, with its path. */
function valuesOfKey(doc: unknown, key: string, path = '$'): { path: string; value: unknown }[] {
  if (Array.isArray(doc)) return doc.flatMap((v, i) => valuesOfKey(v, key, `${path}[${i}]`));
  if (typeof doc !== 'object' || doc === null) return [];
  return Object.entries(doc as Record<string, unknown>).flatMap(([k, v]) => [
    ...(k === key ? [{ path: `${path}.${k}`, value: v }] : []),
    ...valuesOfKey(v, key, `${path}.${k}`),
  ]);
}

const overlaps = (a: GrafanaPanel['gridPos'], b: GrafanaPanel['gridPos']): boolean =>
  a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

describe('Grafana dashboards', () => {
  it('are the three dashboards the issue asks for', () => {
    assert.deepEqual(dashboards.map((d) => d.dashboard.uid).sort(), [
      'chanfitness-channels',
      'chanfitness-exporter',
      'chanfitness-peers',
    ]);
  });

  for (const { file, raw, dashboard } of dashboards) {
    describe(basename(file), () => {
      it('is an importable dashboard of a current Grafana (schemaVersion 41, Grafana 12, no instance id)', () => {
        assert.equal(dashboard.schemaVersion, 41);
        const doc = raw as Record<string, unknown>;
        assert.equal(doc.id, null);
        assert.equal(doc.__inputs, undefined, 'exported-for-sharing form hard-codes inputs');
        assert.ok(dashboard.tags.includes('chanfitness'));
      });

      it('has unique panel ids, and every panel titled, described and inside the 24-column grid', () => {
        const panels = allPanels(dashboard);
        const ids = panels.map((p) => p.id);
        assert.equal(new Set(ids).size, ids.length, `duplicate ids in ${ids.join(',')}`);
        for (const p of panels) {
          assert.ok(p.title.trim() !== '', `panel ${p.id} title`);
          assert.ok((p.description ?? '').trim() !== '', `panel ${p.id} description`);
          const { x, w, h } = p.gridPos;
          assert.ok(x >= 0 && w > 0 && h > 0 && x + w <= 24, `panel ${p.id} gridPos`);
        }
      });

      it('has no overlapping panels', () => {
        const panels = dashboard.panels;
        for (const [i, a] of panels.entries()) {
          for (const b of panels.slice(i + 1)) {
            assert.ok(!overlaps(a.gridPos, b.gridPos), `panels ${a.id} and ${b.id} overlap`);
          }
        }
      });

      it('has a Prometheus data source variable, and every data source reference uses it', () => {
        const ds = dashboard.templating.list.find((v) => v.type === 'datasource');
        assert.ok(ds, 'datasource variable');
        assert.equal(ds.name, 'datasource');
        assert.equal(ds.query, 'prometheus');
        for (const { path, value } of valuesOfKey(raw, 'datasource')) {
          if (path.startsWith('$.annotations.')) {
            assert.deepEqual(value, BUILT_IN_ANNOTATIONS_REF, path);
          } else {
            assert.deepEqual(value, DATASOURCE_REF, path);
          }
        }
      });

      it('sets the variable data source on every panel, target and query variable', () => {
        for (const p of allPanels(dashboard)) {
          if (p.type === 'row') continue;
          assert.deepEqual(p.datasource, DATASOURCE_REF, `panel ${p.id}`);
          assert.ok((p.targets ?? []).length > 0, `panel ${p.id} has no query`);
          for (const t of p.targets ?? []) {
            assert.deepEqual(t.datasource, DATASOURCE_REF, `panel ${p.id} ${t.refId}`);
          }
        }
        for (const v of dashboard.templating.list.filter((x) => x.type === 'query')) {
          assert.deepEqual(v.datasource, DATASOURCE_REF, `variable ${v.name}`);
        }
      });

      it('runs instant queries for tables, stats and histograms, range queries for time series', () => {
        for (const p of allPanels(dashboard)) {
          for (const t of p.targets ?? []) {
            const where = `panel ${p.id} ${t.refId}`;
            if (INSTANT_PANEL_TYPES.has(p.type)) {
              assert.equal(t.instant, true, where);
              assert.equal(t.range, false, where);
            } else {
              assert.ok(RANGE_PANEL_TYPES.has(p.type), `${where}: unexpected panel type ${p.type}`);
              assert.equal(t.range, true, where);
              assert.equal(t.instant, false, where);
            }
            if (p.type === 'table' || p.type === 'histogram')
              assert.equal(t.format, 'table', where);
          }
        }
      });

      it('has unique refIds within a panel, and merges multi-query tables into one', () => {
        for (const p of allPanels(dashboard)) {
          const refIds = (p.targets ?? []).map((t) => t.refId);
          assert.equal(new Set(refIds).size, refIds.length, `panel ${p.id}`);
          if (p.type === 'table' && refIds.length > 1) {
            assert.equal(p.transformations?.[0]?.id, 'merge', `panel ${p.id}`);
          }
        }
      });

      it('refers only to variables it defines, with no hard-coded job', () => {
        const exprs = dashboardExpressions([{ file, raw, dashboard }]);
        for (const e of exprs) {
          assert.doesNotMatch(e.raw, /job\s*=\s*"/, `${e.where} hard-codes the job`);
        }
      });
    });
  }

  it('select nodes from label values, several at once or all', () => {
    for (const uid of ['chanfitness-channels', 'chanfitness-peers']) {
      const node = byUid(uid).templating.list.find((v) => v.name === 'node');
      assert.ok(node, `${uid} node variable`);
      assert.equal(node.type, 'query');
      assert.equal(typeof node.query === 'string' ? node.query : node.query?.query, NODE_QUERY);
      assert.equal(node.multi, true);
      assert.equal(node.includeAll, true);
    }
  });

  it('filter every channel and peer query by the node variable', () => {
    for (const uid of ['chanfitness-channels', 'chanfitness-peers']) {
      for (const p of allPanels(byUid(uid))) {
        for (const t of p.targets ?? []) {
          for (const m of t.expr.matchAll(/(chanfitness[\w:]*)(\{[^}]*\})?/g)) {
            assert.match(m[2] ?? '', /node=~"\$node"/, `${uid} panel ${p.id} ${t.refId}: ${m[1]}`);
          }
        }
      }
    }
  });

  it('show channels worst first with the columns an operator decides on', () => {
    const table = allPanels(byUid('chanfitness-channels')).find(
      (p) => p.title === 'Channels, worst uptime first',
    );
    assert.ok(table);
    assert.equal(table.type, 'table');
    const transformations = table.transformations ?? [];
    const sort = transformations.find((t) => t.id === 'sortBy');
    assert.deepEqual(sort?.options.sort, [{ desc: false, field: 'Value #A' }]);
    assert.match(table.targets?.[0]?.expr ?? '', /chanfitness_channel_uptime_ratio/);
    const organize = transformations.find((t) => t.id === 'organize');
    const renamed = Object.values((organize?.options.renameByName ?? {}) as Record<string, string>);
    for (const column of [
      'Uptime ratio',
      'Uptime',
      'Lifetime',
      'Peer',
      'Channel point',
      'Peer flap count',
    ]) {
      assert.ok(renamed.includes(column), column);
    }
    const flapTarget = table.targets?.find((t) => t.expr.includes('chanfitness_peer_flap_count'));
    assert.match(flapTarget?.expr ?? '', /on \(node, peer\) group_left/);
  });

  it('read only metrics the exporter, Prometheus or our recording rules provide', () => {
    const known = knownMetricNames(loadRuleFiles());
    const exprs = dashboardExpressions(dashboards);
    assert.ok(exprs.length > 40, `${exprs.length} expressions`);
    for (const e of exprs) {
      for (const name of promqlMetricNames(e.expr)) {
        assert.ok(known.has(name), `${e.dashboardUid} ${e.where}: unknown metric ${name}`);
      }
    }
  });

  it('are each documented panel by panel in the README', () => {
    const readme = readFileSync(PROJECT_README, 'utf8');
    for (const { dashboard } of dashboards) {
      assert.ok(readme.includes(dashboard.title), dashboard.title);
      for (const p of allPanels(dashboard)) {
        assert.ok(
          readme.includes(`**${p.title}**`),
          `${dashboard.uid}: "${p.title}" not in README`,
        );
      }
    }
  });
});

describe('Grafana variable substitution', () => {
  const dashboard = byUid('chanfitness-channels');

  it('replaces built-in and dashboard variables in every syntax', () => {
    assert.equal(
      substituteVariables(
        'x{node=~"$node"} < bool ${ratio} [[min_lifetime_days]] [$__rate_interval] $__range_s',
        dashboard,
        { variables: { node: '(a|b)' }, rateInterval: '10s', range: '2m' },
      ),
      'x{node=~"(a|b)"} < bool 0.8 7 [10s] 120',
    );
  });

  it('uses the all value of a multi-value variable by default', () => {
    assert.equal(substituteVariables('$node', dashboard), '.+');
  });

  it('refuses a variable the dashboard does not define', () => {
    assert.throws(
      () => substituteVariables('x{peer=~"$peer"}', dashboard),
      (e: unknown) => e instanceof DashboardError && e.code === 'DASHBOARD_UNKNOWN_VARIABLE',
    );
  });

  it('turns label_values queries into PromQL returning one series per value', () => {
    assert.equal(
      labelValuesAsPromql('label_values(chanfitness_peer_flap_count{node=~"$node"}, peer)'),
      'group by (peer) (chanfitness_peer_flap_count{node=~"$node"})',
    );
  });
});

describe('Grafana provisioning', () => {
  const yamlFile = (dir: string): Record<string, unknown> => {
    const files = filesEndingWith(`${PROVISIONING_DIR}/${dir}`, '.yml');
    assert.equal(files.length, 1, dir);
    return parse(readFileSync(files[0]!, 'utf8')) as Record<string, unknown>;
  };

  it('provisions a Prometheus data source from PROMETHEUS_URL', () => {
    const doc = yamlFile('datasources');
    assert.equal(doc.apiVersion, 1);
    const [ds] = doc.datasources as [Record<string, unknown>];
    assert.equal(ds.type, 'prometheus');
    assert.equal(ds.url, '$PROMETHEUS_URL');
  });

  it('provisions the dashboards folder from CHANFITNESS_DASHBOARDS', () => {
    const doc = yamlFile('dashboards');
    assert.equal(doc.apiVersion, 1);
    const [provider] = doc.providers as [Record<string, unknown>];
    assert.equal(provider.type, 'file');
    assert.deepEqual(provider.options, {
      path: '$CHANFITNESS_DASHBOARDS',
      foldersFromFilesStructure: false,
    });
  });

  it('leaves every dashboard without a provisioned data source uid, so any Prometheus works', () => {
    const all: LoadedDashboard[] = dashboards;
    for (const d of all) {
      const uids = valuesOfKey(d.raw, 'uid').map((u) => u.value);
      assert.deepEqual(
        uids.filter((u) => u !== '${datasource}' && u !== '-- Grafana --'),
        [d.dashboard.uid],
      );
    }
  });
});
