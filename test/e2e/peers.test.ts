import assert from 'node:assert/strict';
import { pollUntil } from '../support/eventually.js';
import type { ExporterProcess } from '../support/exporter-process.js';
import { closedChannelJson, openChannelJson, peerEventJson } from '../support/lnd-json.js';
import {
  appliedEvents,
  errorCodes,
  graphql,
  HOUR,
  iso,
  MINUTE,
  Publisher,
  query,
  randomChannelPoint,
  randomPubkey,
  randomToken,
  startExporter,
} from './support.js';

/**
 * `peers` against the real service: lnd JSON for a node's peers published on
 * NATS, listed back by flap count, a page at a time, with the peer whose
 * channel closed among them.
 */

interface PeerNode {
  node: string;
  pubkey: string;
  online: boolean;
  flapCount: number;
  lastFlap: string;
  channels: { channelPoint: string }[];
}

interface PeersData {
  peers: {
    totalCount: number;
    nodes: PeerNode[];
    pageInfo: { endCursor: string | null; hasNextPage: boolean };
  };
}

const PEERS = `query ($node: String, $orderBy: PeerOrder, $first: Int, $after: String) {
  peers(node: $node, orderBy: $orderBy, first: $first, after: $after) {
    totalCount
    nodes { node pubkey online flapCount lastFlap channels { channelPoint } }
    pageInfo { endCursor hasNextPage }
  }
}`;

describe('e2e: peers listed by flap count', function () {
  this.timeout(30_000);

  const prefix = randomToken('e2epeers');
  const node = randomToken('node');
  // Flaps: the monitor's creation at the open, then every peer event once monitored.
  const flappy = { pubkey: randomPubkey(), channelPoint: randomChannelPoint(1) }; // 5 flaps
  const steady = { pubkey: randomPubkey(), channelPoint: randomChannelPoint(2) }; // 3 flaps
  const closed = { pubkey: randomPubkey(), channelPoint: randomChannelPoint(3) }; // 3 flaps, no channel
  const quiet = { pubkey: randomPubkey(), channelPoint: randomChannelPoint(4) }; // 1 flap
  const stranger = randomPubkey(); // peer events only: never monitored
  let now = 0;
  let exporter: ExporterProcess;
  let publisher: Publisher;

  before(async () => {
    exporter = await startExporter({ prefix });
    publisher = await Publisher.connect(prefix);
    now = Date.now();
    const at = (hoursAgo: number): number => now - hoursAgo * HOUR;

    publisher.channel(node, openChannelJson(flappy.pubkey, flappy.channelPoint, at(5)));
    publisher.channel(node, openChannelJson(steady.pubkey, steady.channelPoint, at(5)));
    publisher.channel(node, openChannelJson(closed.pubkey, closed.channelPoint, at(5)));
    publisher.channel(node, openChannelJson(quiet.pubkey, quiet.channelPoint, at(5)));
    // Minutes apart: well past the rate limiter's 1 s.
    for (let k = 1; k <= 4; k++) {
      publisher.peer(node, peerEventJson(flappy.pubkey, k % 2 === 1, at(4) + k * MINUTE));
    }
    publisher.peer(node, peerEventJson(steady.pubkey, true, at(4)));
    publisher.peer(node, peerEventJson(steady.pubkey, false, at(3)));
    publisher.channel(node, closedChannelJson(closed.pubkey, closed.channelPoint, at(3)));
    publisher.peer(node, peerEventJson(closed.pubkey, true, at(2)));
    publisher.peer(node, peerEventJson(closed.pubkey, false, at(1)));
    publisher.peer(node, peerEventJson(stranger, true, at(2)));
    publisher.peer(node, peerEventJson(stranger, false, at(1)));
    await publisher.flush();
    // 4 opens, 4 + 2 + 2 + 2 peer events, 1 close.
    await pollUntil(
      () => appliedEvents(exporter, node),
      (n) => n === 15,
      'the node events',
    );
  });

  after(async () => {
    await publisher.close();
    await exporter.dispose();
  });

  it('lists every monitored peer of the node, most flaps first, the one without channels too', async () => {
    const data = await query<PeersData>(exporter, PEERS, { node });
    // 3 flaps each: by pubkey.
    const tied = [steady, closed].sort((a, b) => (a.pubkey < b.pubkey ? -1 : 1));
    assert.deepEqual(
      data.peers.nodes.map((p) => [p.pubkey, p.flapCount]),
      [[flappy.pubkey, 5], ...tied.map((p) => [p.pubkey, 3]), [quiet.pubkey, 1]],
    );
    assert.equal(data.peers.totalCount, 4);
    assert.equal(data.peers.pageInfo.hasNextPage, false);
    const gone = data.peers.nodes.find((p) => p.pubkey === closed.pubkey);
    assert.deepEqual(gone, {
      node,
      pubkey: closed.pubkey,
      online: false,
      flapCount: 3,
      lastFlap: iso(now - HOUR),
      channels: [],
    });
    const first = data.peers.nodes.find((p) => p.pubkey === flappy.pubkey);
    assert.deepEqual(first?.channels, [{ channelPoint: flappy.channelPoint }]);
    assert.equal(first.lastFlap, iso(now - 4 * HOUR + 4 * MINUTE));
  });

  it('pages through them with cursors, each peer once, in the same order', async () => {
    const whole = (await query<PeersData>(exporter, PEERS, { node })).peers.nodes.map(
      (p) => p.pubkey,
    );
    const listed: string[] = [];
    let after: string | null = null;
    for (let pages = 0; ; pages++) {
      // Bounded: a cursor that does not move on would page for ever.
      assert.ok(pages < 10, 'more than 10 pages');
      const page: PeersData['peers'] = (
        await query<PeersData>(exporter, PEERS, { node, first: 3, after })
      ).peers;
      listed.push(...page.nodes.map((p) => p.pubkey));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    assert.deepEqual(listed, whole);
    assert.equal(listed.length, 4);
  });

  it('refuses a node that is not tracked, and a cursor that is not one of peers', async () => {
    const missing = await graphql(exporter, PEERS, { node: `${node}-missing` });
    assert.deepEqual(errorCodes(missing), ['NODE_NOT_FOUND']);
    const bad = await graphql(exporter, PEERS, { node, after: 'not-a-cursor' });
    assert.deepEqual(errorCodes(bad), ['BAD_USER_INPUT']);
  });
});
