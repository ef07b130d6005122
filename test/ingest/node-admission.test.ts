import assert from 'node:assert/strict';
import { definitionOf } from '../../src/config/setting-definitions.js';
import { BootstrapPeers } from '../../src/ingest/bootstrap-peers.js';
import { EventIngest } from '../../src/ingest/event-ingest.js';
import { IngestStats } from '../../src/ingest/ingest-stats.js';
import {
  DEFAULT_MAX_NODES,
  NodeAdmission,
  type NodeAdmissionOptions,
} from '../../src/ingest/node-admission.js';
import type { NodeSnapshot } from '../../src/ingest/node-snapshot.js';
import { RecordGate } from '../../src/ingest/record-gate.js';
import { NodeStores } from '../../src/store/node-stores.js';
import { captureLogger, type CapturedLog } from '../support/log-capture.js';
import { bytes, openChannelJson, peerEventJson } from '../support/lnd-json.js';
import { channelPoint, pubkey, RecordReader, nodeStores } from '../support/store-fixture.js';
import { MINUTE, TEST_NOW, TestClock } from '../support/test-clock.js';

/** Tracked nodes as a plain set: what NodeAdmission reads of the stores. */
const tracked = (...nodes: string[]) => new Set(nodes);

describe('NodeAdmission', () => {
  it('tracks at most 100 nodes by default', () => {
    assert.equal(DEFAULT_MAX_NODES, 100);
    assert.equal(definitionOf('nats.max-nodes').default, String(DEFAULT_MAX_NODES));
    const nodes = tracked();
    const admission = new NodeAdmission(nodes);
    assert.equal(admission.maxNodes, 100);
    for (let i = 0; i < 100; i++) {
      assert.equal(admission.refusal(`n${i}`), undefined, `n${i}`);
      nodes.add(`n${i}`);
    }
    assert.equal(admission.refusal('n100'), 'too_many_nodes');
  });

  it('takes new nodes while fewer than the maximum are tracked, and tracked ones always', () => {
    const nodes = tracked('a');
    const admission = new NodeAdmission(nodes, { maxNodes: 2 });
    assert.equal(admission.refusal('b'), undefined);
    nodes.add('b');
    assert.equal(admission.refusal('c'), 'too_many_nodes');
    assert.equal(admission.refusal('a'), undefined);
    assert.equal(admission.refusal('b'), undefined);
  });

  it('takes exactly the nodes of an allow-list, whatever else is tracked', () => {
    // x and y restored from an earlier configuration: they crowd out no named node.
    const admission = new NodeAdmission(tracked('x', 'y'), { allowed: ['a', 'b'], maxNodes: 2 });
    assert.equal(admission.refusal('a'), undefined);
    assert.equal(admission.refusal('b'), undefined);
    assert.equal(admission.refusal('c'), 'node_not_allowed');
    assert.equal(admission.refusal('x'), 'node_not_allowed');
  });

  it('reads an empty allow-list as none', () => {
    const admission = new NodeAdmission(tracked(), { allowed: [], maxNodes: 1 });
    assert.equal(admission.refusal('anything'), undefined);
  });

  it('explains each refusal with the setting that decides it', () => {
    const admission = new NodeAdmission(tracked(), { maxNodes: 7 });
    assert.match(admission.explain('too_many_nodes'), /^7 nodes .*--nats\.max-nodes/);
    assert.match(admission.explain('node_not_allowed'), /--nats\.nodes \(NATS_NODES\)/);
  });
});

interface Harness {
  clock: TestClock;
  stores: NodeStores;
  stats: IngestStats;
  ingest: EventIngest;
  log: CapturedLog;
  /** The nodes asked for their snapshot, in order. */
  bootstraps: string[];
  peer: (node: string, online: boolean) => void;
}

function harness(
  admission: NodeAdmissionOptions,
  bootstrap: (node: string) => Promise<NodeSnapshot | undefined> = () =>
    Promise.resolve({ channels: [], onlinePeers: new Set() }),
  restored: readonly string[] = [],
): Harness {
  const clock = new TestClock(TEST_NOW);
  const reader = new RecordReader();
  const bootstrapPeers = new BootstrapPeers();
  const stores = nodeStores(clock, bootstrapPeers);
  // As the history restore creates them: stores, before any event.
  for (const node of restored) stores.getOrCreate(node);
  const stats = new IngestStats();
  const log = captureLogger();
  const bootstraps: string[] = [];
  const gate = new RecordGate({ read: reader.readOf });
  const ingest = new EventIngest({
    stores,
    gate,
    bootstrapPeers,
    clock,
    stats,
    logger: log.logger,
    admission,
    bootstrap: (node) => {
      bootstraps.push(node);
      return bootstrap(node);
    },
  });
  ingests.push(ingest);
  return {
    clock,
    stores,
    stats,
    ingest,
    log,
    bootstraps,
    peer: (node, online) => {
      ingest.handle({
        node,
        subject: 'peer_events',
        data: bytes(peerEventJson(pubkey(1), online, clock.now())),
      });
    },
  };
}

const ingests: EventIngest[] = [];
const settle = () => new Promise(setImmediate);
const appliedOf = (h: Harness, node: string) => h.stats.applied.get(node)?.get('peer');
const rejectionLines = (h: Harness, reason: string) =>
  h.log.lines().filter((l) => l.msg === 'rejected message' && l.reason === reason);

describe('EventIngest node admission', () => {
  afterEach(() => {
    for (const ingest of ingests.splice(0)) ingest.stop();
  });

  it('tracks the first max-nodes nodes of a flood of names and rejects the rest, logging a few lines', async () => {
    const h = harness({ maxNodes: 3 });
    for (let i = 0; i < 1000; i++) h.peer(`flood${i}`, true);
    await settle();
    assert.deepEqual([...h.stores.nodes()], ['flood0', 'flood1', 'flood2']);
    assert.deepEqual(h.bootstraps, ['flood0', 'flood1', 'flood2']);
    assert.deepEqual([...h.stats.applied.keys()], ['flood0', 'flood1', 'flood2']);
    assert.equal(h.stats.rejected.get('too_many_nodes'), 997);
    assert.equal(h.stats.rejected.get('node_not_allowed'), 0);
    // The tracked nodes still take their events.
    h.peer('flood1', false);
    await settle();
    assert.equal(appliedOf(h, 'flood1')?.get('PEER_OFFLINE'), 1);

    const lines = rejectionLines(h, 'too_many_nodes');
    assert.equal(lines.length, 5);
    const [first] = lines;
    assert.ok(first);
    assert.equal(first.node, 'flood3');
    assert.match(String(first.err), /3 nodes are tracked already.*--nats\.max-nodes/);
    // A minute later: one line, with what was held back.
    h.clock.advance(MINUTE);
    h.peer('late', true);
    const after = rejectionLines(h, 'too_many_nodes');
    assert.equal(after.length, 6);
    assert.equal(after[5]?.suppressedSinceLast, 992);
    assert.equal(h.log.lines().length, 6, 'nothing else logged');
  });

  it('counts nodes restored from the history toward the maximum', async () => {
    const h = harness({ maxNodes: 3 }, undefined, ['r1', 'r2']);
    h.peer('new1', true);
    h.peer('new2', true);
    // A restored node is tracked: its events are taken.
    h.peer('r1', true);
    await settle();
    assert.deepEqual([...h.stores.nodes()].sort(), ['new1', 'r1', 'r2']);
    assert.equal(h.stats.rejected.get('too_many_nodes'), 1);
    assert.equal(appliedOf(h, 'r1')?.get('PEER_ONLINE'), 1);
    assert.equal(appliedOf(h, 'new2'), undefined);
    assert.deepEqual(h.bootstraps, ['new1', 'r1']);
  });

  it('takes only the nodes of --nats.nodes, bootstrapping nothing else', async () => {
    const h = harness({ allowed: ['a', 'b'], maxNodes: 2 }, undefined, ['old']);
    h.ingest.ensureNode('a');
    h.ingest.ensureNode('b');
    h.peer('a', true);
    h.peer('c', true);
    h.ingest.handle({
      node: 'c',
      subject: 'channel_events',
      data: bytes(openChannelJson(pubkey(2), channelPoint(2))),
    });
    h.peer('b', false);
    // Restored, but not named any more: its history stays, its events are refused.
    h.peer('old', true);
    await settle();
    assert.deepEqual([...h.stores.nodes()].sort(), ['a', 'b', 'old']);
    assert.deepEqual(h.bootstraps, ['a', 'b']);
    assert.equal(h.stats.rejected.get('node_not_allowed'), 3);
    assert.equal(h.stats.rejected.get('too_many_nodes'), 0);
    assert.equal(appliedOf(h, 'a')?.get('PEER_ONLINE'), 1);
    assert.equal(appliedOf(h, 'b')?.get('PEER_OFFLINE'), 1);
    assert.equal(h.stats.applied.has('c'), false);
    assert.equal(h.stats.applied.has('old'), false);
    const lines = rejectionLines(h, 'node_not_allowed');
    assert.deepEqual(
      lines.map((l) => l.node),
      ['c', 'c', 'old'],
    );
  });

  it('rate-limits the warnings of bootstraps that fail, however many nodes fail', async () => {
    const failing = harness({ maxNodes: 50 }, () => Promise.reject(new Error('bridge down')));
    for (let i = 0; i < 40; i++) failing.peer(`down${i}`, true);
    await settle();
    assert.equal(failing.bootstraps.length, 40);
    const warned = failing.log.lines().filter((l) => l.msg === 'bootstrap failed');
    assert.equal(warned.length, 5);
    const retries = failing.log
      .lines()
      .filter((l) => String(l.msg).startsWith('bootstrap incomplete'));
    assert.equal(retries.length, 5);

    // Unanswered (no responder, timeouts): the retries are limited the same way.
    const silent = harness({ maxNodes: 50 }, () => Promise.resolve(undefined));
    for (let i = 0; i < 40; i++) silent.peer(`quiet${i}`, true);
    await settle();
    const silentRetries = silent.log
      .lines()
      .filter((l) => String(l.msg).startsWith('bootstrap incomplete'));
    assert.equal(silentRetries.length, 5);
    // A minute later, a new window: the 40 retries that fell due meanwhile (at 5 s)
    // and a new node's bootstrap fail in it, five lines again, the first saying how
    // many were held back.
    silent.clock.advance(MINUTE);
    silent.peer('quiet-late', true);
    await settle();
    const later = silent.log
      .lines()
      .filter((l) => String(l.msg).startsWith('bootstrap incomplete'));
    assert.equal(silent.bootstraps.length, 81);
    assert.equal(later.length, 10);
    assert.equal(later[5]?.suppressedSinceLast, 35);
    assert.equal(later[6]?.suppressedSinceLast, undefined);
  });
});
