import assert from 'node:assert/strict';
import { pollUntil } from '../support/eventually.js';
import type { ExporterProcess } from '../support/exporter-process.js';
import { openChannelJson, peerEventJson } from '../support/lnd-json.js';
import {
  appliedEvents,
  iso,
  MINUTE,
  postgresAccess,
  Publisher,
  query,
  randomChannelPoint,
  randomPubkey,
  randomToken,
  redisAccess,
  sampleValue,
  scrape,
  sqliteAccess,
  startExporter,
  type BackendAccess,
} from './support.js';

/**
 * Issue 4, Tests, bullet 3 (flap counts survive a SIGTERM restart through each
 * backend) and bullet 1's `peer` with persisted-only records: run 1 records
 * flaps and stops on SIGTERM (the final flush); run 2 on the same --store.url
 * answers them from the store, then re-adds the peer's channel.
 */

const PEER_QUERY = `query ($pk: String!, $n: String) {
  peer(pubkey: $pk, node: $n) { node pubkey tracked online flapCount lastFlap channels { channelPoint } }
}`;

interface PeerData {
  peer: {
    node: string;
    pubkey: string;
    tracked: boolean;
    online: boolean | null;
    flapCount: number;
    lastFlap: string | null;
    channels: { channelPoint: string }[];
  } | null;
}

const BACKENDS: readonly { name: string; open: () => Promise<BackendAccess> }[] = [
  { name: 'sqlite', open: sqliteAccess },
  { name: 'redis', open: () => redisAccess() },
  { name: 'postgres', open: () => postgresAccess() },
];

for (const { name, open } of BACKENDS) {
  describe(`e2e: flap counts across a SIGTERM restart (${name})`, function () {
    this.timeout(30_000);

    const prefix = randomToken('e2ers');
    // Random node names: the Redis keys and PostgreSQL rows are this test's alone.
    const n1 = randomToken('node');
    const n2 = randomToken('node');
    const p = randomPubkey();
    const r = randomPubkey();
    let backend: BackendAccess;
    let exporter: ExporterProcess | undefined;
    let publisher: Publisher;

    before(async () => {
      backend = await open();
      publisher = await Publisher.connect(prefix);
    });

    afterEach(async () => {
      await exporter?.dispose();
      exporter = undefined;
    });

    after(async () => {
      await publisher.close();
      await backend.cleanup([n1, n2]);
    });

    // lnd's persistence: flap records only (history-restart.test.ts covers --history).
    const start = () =>
      startExporter({ prefix, args: [`--store.url=${backend.url}`, '--no-history'] });

    it('persists, answers from the store after a restart, and adds the creation flap on re-open', async () => {
      const now = Date.now();

      // Run 1: p flaps 4 times on n1 (the monitor's creation is one), r twice on n2.
      exporter = await start();
      publisher.channel(n1, openChannelJson(p, randomChannelPoint(), now - 50 * MINUTE));
      publisher.peer(n1, peerEventJson(p, true, now - 40 * MINUTE));
      publisher.peer(n1, peerEventJson(p, false, now - 30 * MINUTE));
      publisher.peer(n1, peerEventJson(p, true, now - 20 * MINUTE));
      publisher.channel(n2, openChannelJson(r, randomChannelPoint(), now - 45 * MINUTE));
      publisher.peer(n2, peerEventJson(r, true, now - 35 * MINUTE));
      await publisher.flush();
      await pollUntil(
        () => appliedEvents(exporter!, n1),
        (n) => n === 4,
        'run 1 events of n1',
      );
      await pollUntil(
        () => appliedEvents(exporter!, n2),
        (n) => n === 2,
        'run 1 events of n2',
      );
      const run1 = await query<PeerData>(exporter, PEER_QUERY, { pk: p, n: n1 });
      assert.equal(run1.peer?.flapCount, 4);

      const stopped = await exporter.stop('SIGTERM');
      assert.equal(stopped.code, 0, exporter.output());
      const flushed = exporter.logs().find((l) => l.msg === 'final flap record flush done');
      assert.deepEqual([flushed?.ok, flushed?.records], [true, 2], exporter.output());
      // What the store holds, read without the exporter (SPEC 4: key and value).
      assert.deepEqual(await backend.read(n1, p), { count: 4, lastFlap: iso(now - 20 * MINUTE) });
      assert.deepEqual(await backend.read(n2, r), { count: 2, lastFlap: iso(now - 35 * MINUTE) });
      await exporter.dispose();

      // Run 2, same store: nothing in memory, both peers answered from their records.
      exporter = await start();
      const persistedP = {
        node: n1,
        pubkey: p,
        tracked: false,
        online: null,
        flapCount: 4,
        lastFlap: iso(now - 20 * MINUTE),
        channels: [],
      };
      assert.deepEqual(
        (await query<PeerData>(exporter, PEER_QUERY, { pk: p, n: n1 })).peer,
        persistedP,
      );
      // A pubkey in neither memory nor store: null, no error.
      assert.equal(
        (await query<PeerData>(exporter, PEER_QUERY, { pk: randomPubkey(), n: n1 })).peer,
        null,
      );

      // n1 seen again: a peer event with no monitor changes its connectivity, not its count.
      publisher.peer(n1, peerEventJson(p, false, now - 10 * MINUTE));
      await publisher.flush();
      await pollUntil(
        () => appliedEvents(exporter!, n1),
        (n) => n === 1,
        'run 2 peer event',
      );
      assert.deepEqual((await query<PeerData>(exporter, PEER_QUERY, { pk: p, n: n1 })).peer, {
        ...persistedP,
        online: false,
      });
      // n2 is not seen in run 2: still answered from its record.
      assert.deepEqual((await query<PeerData>(exporter, PEER_QUERY, { pk: r, n: n2 })).peer, {
        node: n2,
        pubkey: r,
        tracked: false,
        online: null,
        flapCount: 2,
        lastFlap: iso(now - 35 * MINUTE),
        channels: [],
      });

      // Re-opened: the new monitor starts from the record (no cooldown within 8 h) plus its creation flap.
      const reopened = randomChannelPoint();
      publisher.channel(n1, openChannelJson(p, reopened, now - 5 * MINUTE));
      await publisher.flush();
      await pollUntil(
        () => appliedEvents(exporter!, n1),
        (n) => n === 2,
        'run 2 open',
      );
      assert.deepEqual((await query<PeerData>(exporter, PEER_QUERY, { pk: p, n: n1 })).peer, {
        node: n1,
        pubkey: p,
        tracked: true,
        online: false,
        flapCount: 5,
        lastFlap: iso(now - 5 * MINUTE),
        channels: [{ channelPoint: reopened }],
      });
      const families = await scrape(exporter);
      assert.equal(sampleValue(families, 'chanfitness_peer_flap_count', { node: n1, peer: p }), 5);
      // Flaps of this process only: the creation.
      assert.equal(sampleValue(families, 'chanfitness_peer_flaps_total', { node: n1, peer: p }), 1);

      const stopped2 = await exporter.stop('SIGTERM');
      assert.equal(stopped2.code, 0, exporter.output());
      assert.deepEqual(await backend.read(n1, p), { count: 5, lastFlap: iso(now - 5 * MINUTE) });
      // Not monitored in run 2: its record is left as it was.
      assert.deepEqual(await backend.read(n2, r), { count: 2, lastFlap: iso(now - 35 * MINUTE) });
    });
  });
}
