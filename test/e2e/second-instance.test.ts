import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pollUntil } from '../support/eventually.js';
import { ExporterProcess } from '../support/exporter-process.js';
import { freePort } from '../support/free-port.js';
import { openChannelJson, peerEventJson } from '../support/lnd-json.js';
import {
  appliedEvents,
  MINUTE,
  Publisher,
  query,
  randomChannelPoint,
  randomPubkey,
  randomToken,
  sampleValue,
  scrape,
  SHARED_NATS_URL,
  startExporter,
} from './support.js';

/** Size, mtime and content hash of the SQLite file and its -wal and -shm. */
function fingerprint(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const suffix of ['', '-wal', '-shm']) {
    const file = `${path}${suffix}`;
    if (!existsSync(file)) {
      out[suffix] = 'absent';
      continue;
    }
    const { size, mtimeMs } = statSync(file);
    const hash = createHash('sha256').update(readFileSync(file)).digest('hex');
    out[suffix] = `${size} bytes, mtime ${mtimeMs}, sha256 ${hash}`;
  }
  return out;
}

const CHANNEL_QUERY = `query ($cp: String!, $n: String) {
  channel(channelPoint: $cp, node: $n) { channelPoint lifetimeSeconds peer { pubkey online } }
}`;

interface ChannelData {
  channel: {
    channelPoint: string;
    lifetimeSeconds: number;
    peer: { pubkey: string; online: boolean };
  } | null;
}

/**
 * A second exporter started by mistake on the address of a running one (same
 * --web.listen-address, same --store.url) must fail on the address before it
 * touches the store: the running instance's SQLite file, -wal and -shm stay
 * byte for byte as they were, and the running instance keeps serving.
 */
describe('a second exporter on the address of a running one', function () {
  this.timeout(60_000);

  const prefix = randomToken('e2esecond');
  const node = randomToken('node');
  const peer = randomPubkey();
  const channelPoint = randomChannelPoint();
  const dir = mkdtempSync(join(tmpdir(), 'chanfitness-second-'));
  const storePath = join(dir, 'flaps.sqlite');
  let address = '';
  let first: ExporterProcess | undefined;

  /** The settings of both instances: one address, one store, no timed writes meanwhile. */
  const sharedArgs = (): string[] => [
    `--web.listen-address=${address}`,
    `--store.url=sqlite://${storePath}`,
    '--history.snapshot-interval=1h',
    '--flap.flush-interval=1h',
  ];

  before(async () => {
    address = `127.0.0.1:${await freePort()}`;
    // A store with a history in it: a run that received a channel and stopped (its final snapshot).
    const publisher = await Publisher.connect(prefix);
    const seed = await startExporter({ prefix, args: [`--store.url=sqlite://${storePath}`] });
    try {
      const now = Date.now();
      publisher.channel(node, openChannelJson(peer, channelPoint, now - 10 * MINUTE));
      publisher.peer(node, peerEventJson(peer, true, now - 5 * MINUTE));
      await publisher.flush();
      await pollUntil(
        () => appliedEvents(seed, node),
        (n) => n === 2,
        'the seed run applies its events',
      );
      assert.equal((await seed.stop('SIGTERM')).code, 0, seed.output());
    } finally {
      await seed.dispose();
      await publisher.close();
    }
    first = await startExporter({ prefix, args: sharedArgs() });
    await first.waitForLog((l) => l.msg === 'history restored');
  });

  after(async () => {
    await first?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exits 2 naming the address setting, without opening or writing the store', async () => {
    const running = first!;
    const before = fingerprint(storePath);
    // The running instance has the file open in WAL mode: all three are there to compare.
    for (const suffix of ['', '-wal', '-shm']) assert.notEqual(before[suffix], 'absent', suffix);
    // The running instance is idle: nothing it does by itself changes the files meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(fingerprint(storePath), before, 'precondition: the first instance is idle');

    const second = await ExporterProcess.start({
      args: [`--nats.url=${SHARED_NATS_URL}`, `--nats.subject-prefix=${prefix}`, ...sharedArgs()],
      noWait: true,
    });
    try {
      const { code } = await second.waitForExit(20_000);
      assert.equal(code, 2, second.output());
      assert.ok(
        second.stderr.includes(
          `chanfitness-exporter: --web.listen-address (WEB_LISTEN_ADDRESS): cannot listen on ${address}: ` +
            'the address is in use',
        ),
        second.stderr,
      );
      const logs = second.logs();
      assert.equal(logs.find((l) => l.msg === 'cannot start')?.code, 'LISTEN_FAILED');
      assert.ok(!logs.some((l) => l.msg === 'flap record store opened'), second.output());
    } finally {
      await second.dispose();
    }
    assert.deepEqual(fingerprint(storePath), before, 'the running instance store is untouched');

    // The running instance still serves its restored history.
    const data = await query<ChannelData>(running, CHANNEL_QUERY, { cp: channelPoint, n: node });
    assert.equal(data.channel?.channelPoint, channelPoint);
    assert.deepEqual(data.channel.peer, { pubkey: peer, online: true });
    assert.ok(data.channel.lifetimeSeconds >= 10 * 60, JSON.stringify(data));
    const lifetime = sampleValue(await scrape(running), 'chanfitness_channel_lifetime_seconds', {
      node,
      channel_point: channelPoint,
    });
    assert.ok(lifetime !== undefined && lifetime >= 10 * 60, String(lifetime));
    assert.equal((await fetch(`${running.url}/healthz`)).status, 200);
  });

  it('does not create a store that is not there yet', async () => {
    const folder = join(dir, 'never-created');
    const second = await ExporterProcess.start({
      args: [
        `--web.listen-address=${address}`,
        `--store.url=sqlite://${join(folder, 'flaps.sqlite')}`,
        // Nothing to connect to: the failure must come from the address alone.
        '--nats.url=nats://127.0.0.1:1',
      ],
      noWait: true,
    });
    try {
      const { code } = await second.waitForExit(20_000);
      assert.equal(code, 2, second.output());
      assert.match(second.stderr, /--web\.listen-address \(WEB_LISTEN_ADDRESS\)/);
    } finally {
      await second.dispose();
    }
    assert.equal(existsSync(folder), false, 'the folder of the store was created');
  });
});
