import assert from 'node:assert/strict';
import { pollUntil } from '../support/eventually.js';
import type { ExporterProcess } from '../support/exporter-process.js';
import { openChannelJson, peerEventJson } from '../support/lnd-json.js';
import {
  appliedEvents,
  HOUR,
  MINUTE,
  Publisher,
  query,
  randomChannelPoint,
  randomPubkey,
  randomToken,
  startExporter,
} from './support.js';

const DAY = 24 * HOUR;

/**
 * closeRecommendations against the real service: lnd JSON with payload
 * timestamps over 40 days published on NATS, and faraday's outlier among
 * the channels monitored four weeks or more.
 */

interface Answer {
  closeRecommendations: {
    mode: string;
    byNode: {
      node: string;
      channelCount: number;
      consideredCount: number;
      recommendedCount: number;
      quartiles: { q1: number; q3: number; lowerBound: number } | null;
      reason: string | null;
    }[];
    considered: {
      totalCount: number;
      nodes: { ratio: number; recommended: boolean; channel: { channelPoint: string } }[];
    };
  };
}

/** A channel opened 40 days ago (or `ageDays`), its peer offline during [from, to) days after. */
interface Row {
  readonly ageDays: number;
  readonly onlineAtOpen: boolean;
  readonly offline?: readonly [from: number, to: number];
}

// Lifetime ratios: .25, .95 twice, .975 twice, 1 three times. faraday's quartiles of these
// eight: Q1 .95, Q3 1, bound .95 - 3 x .05 = .8: the .25 channel alone is an outlier. The
// ninth, never online, is monitored for 10 days only: not considered.
const ROWS: readonly Row[] = [
  { ageDays: 40, onlineAtOpen: true, offline: [10, 40] },
  { ageDays: 40, onlineAtOpen: true, offline: [10, 12] },
  { ageDays: 40, onlineAtOpen: true, offline: [20, 22] },
  { ageDays: 40, onlineAtOpen: true, offline: [5, 6] },
  { ageDays: 40, onlineAtOpen: true, offline: [30, 31] },
  { ageDays: 40, onlineAtOpen: true },
  { ageDays: 40, onlineAtOpen: true },
  { ageDays: 40, onlineAtOpen: true },
  { ageDays: 10, onlineAtOpen: false },
];

describe('e2e: closeRecommendations from events over 40 days', function () {
  this.timeout(30_000);

  const prefix = randomToken('e2eclose');
  const node = randomToken('node');
  const channels = ROWS.map((row, i) => ({
    ...row,
    pubkey: randomPubkey(),
    channelPoint: randomChannelPoint(i),
  }));
  let exporter: ExporterProcess;
  let publisher: Publisher;

  before(async () => {
    exporter = await startExporter({ prefix });
    publisher = await Publisher.connect(prefix);
    const now = Date.now();
    let published = 0;
    for (const c of channels) {
      const opened = now - c.ageDays * DAY;
      // The peer's connectivity before the channel: its log starts with it at the opening.
      publisher.peer(node, peerEventJson(c.pubkey, c.onlineAtOpen, opened - MINUTE));
      publisher.channel(node, openChannelJson(c.pubkey, c.channelPoint, opened));
      published += 2;
      if (c.offline !== undefined) {
        const [from, to] = c.offline;
        publisher.peer(node, peerEventJson(c.pubkey, false, opened + from * DAY));
        published++;
        if (to < c.ageDays) {
          publisher.peer(node, peerEventJson(c.pubkey, true, opened + to * DAY));
          published++;
        }
      }
    }
    await publisher.flush();
    await pollUntil(
      () => appliedEvents(exporter, node),
      (n) => n === published,
      'every event applied',
    );
  });

  after(async () => {
    await publisher.close();
    await exporter.dispose();
  });

  it("recommends closing faraday's outlier, with the defaults (3 IQR, 28 days)", async () => {
    const data = await query<Answer>(
      exporter,
      `query ($node: String) {
        closeRecommendations(node: $node) {
          mode
          byNode { node channelCount consideredCount recommendedCount quartiles { q1 q3 lowerBound } reason }
          considered { totalCount nodes { ratio recommended channel { channelPoint } } }
        }
      }`,
      { node },
    );
    const answer = data.closeRecommendations;
    assert.equal(answer.mode, 'OUTLIER');
    const [analysis, ...others] = answer.byNode;
    assert.deepEqual(others, []);
    assert.equal(analysis?.node, node);
    assert.equal(analysis.channelCount, 9);
    assert.equal(analysis.consideredCount, 8);
    assert.equal(analysis.recommendedCount, 1);
    assert.equal(analysis.reason, null);
    // Ratios move a little with the time between publishing and asking: a few seconds of 40 days.
    const q = analysis.quartiles;
    assert.ok(q !== null);
    assert.ok(Math.abs(q.q1 - 0.95) < 1e-4, `q1 ${q.q1}`);
    assert.ok(Math.abs(q.q3 - 1) < 1e-4, `q3 ${q.q3}`);
    assert.ok(Math.abs(q.lowerBound - 0.8) < 1e-3, `lowerBound ${q.lowerBound}`);

    assert.equal(answer.considered.totalCount, 8);
    const [first, ...rest] = answer.considered.nodes;
    assert.ok(first !== undefined);
    assert.equal(first.channel.channelPoint, channels[0]?.channelPoint);
    assert.ok(Math.abs(first.ratio - 0.25) < 1e-4, `ratio ${first.ratio}`);
    assert.equal(first.recommended, true);
    assert.deepEqual(
      rest.map((c) => c.recommended),
      Array.from({ length: 7 }, () => false),
    );
    const young = channels[8]?.channelPoint;
    assert.ok(!answer.considered.nodes.some((c) => c.channel.channelPoint === young));
  });
});
