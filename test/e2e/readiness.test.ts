import assert from 'node:assert/strict';
import { startApp, type App } from '../../src/app.js';
import { parseSettings } from '../../src/config/parse-settings.js';
import type { Settings } from '../../src/config/settings.js';
import { eventually, pollUntil } from '../support/eventually.js';
import { captureLogger } from '../support/log-capture.js';
import { PrivateNatsServer } from '../support/nats-server.js';
import { PrivateRedisServer } from '../support/redis-server.js';
import { connect } from 'nats';
import { bytes, openChannelJson } from '../support/lnd-json.js';
import { randomChannelPoint, randomPubkey, randomToken } from './support.js';

/**
 * /readyz (SPEC 7): ready only with NATS connected and the store open; not
 * ready from the first moment of a stop, before anything closes. The service
 * runs in this process, on a private NATS server, so that the test can look
 * at its readiness between two steps of the stop.
 */

function settingsOf(argv: string[]): Settings {
  const result = parseSettings(argv, {});
  assert.equal(result.kind, 'settings');
  return result.settings;
}

const readyz = async (app: App): Promise<{ status: number; text: string }> => {
  const response = await fetch(`${app.http.url}/readyz`);
  return { status: response.status, text: await response.text() };
};

describe('readiness of the running service', function () {
  this.timeout(30_000);
  let nats: PrivateNatsServer;
  let redis: PrivateRedisServer | undefined;
  let app: App | undefined;

  before(async () => {
    nats = await PrivateNatsServer.start([], { jetstream: false });
  });
  after(async () => {
    await nats.dispose();
  });
  afterEach(async () => {
    await app?.stop();
    app = undefined;
    redis?.resume();
    await redis?.dispose();
    redis = undefined;
  });

  const start = async (extra: string[] = []): Promise<App> => {
    app = await startApp({
      settings: settingsOf([
        `--nats.url=${nats.url}`,
        `--nats.subject-prefix=${randomToken('ready')}`,
        '--store.url=sqlite://:memory:',
        '--web.listen-address=127.0.0.1:0',
        ...extra,
      ]),
      logger: captureLogger('warn').logger,
    });
    return app;
  };

  it('is ready with NATS connected and the store open, and not ready from the start of stop()', async () => {
    const a = await start();
    await eventually(() => a.readiness().ready, 'ready');
    assert.deepEqual(await readyz(a), { status: 200, text: 'ok\nstore: up (sqlite)\n' });

    const stopped = a.stop();
    // At once, before any step of the stop has run.
    assert.deepEqual(a.readiness(), {
      ready: false,
      reasons: ['stopping'],
      details: ['store: up (sqlite)'],
    });
    await stopped;
    app = undefined;
    assert.equal(a.readiness().ready, false);
    assert.ok(a.readiness().reasons.includes('the flap record store is not open'));
  });

  it('answers 503 over HTTP while the stop waits for a hung store', async () => {
    redis = await PrivateRedisServer.start();
    const prefix = randomToken('ready');
    const a = await start([
      `--nats.subject-prefix=${prefix}`,
      `--store.url=${redis.url}`,
      '--store.timeout=3s',
    ]);
    await eventually(() => a.readiness().ready, 'ready');
    // A monitored peer, whose flap count the final flush writes.
    const peer = randomPubkey();
    const publisher = await connect({ servers: nats.url });
    publisher.publish(
      `${prefix}.alice.channel_events`,
      bytes(openChannelJson(peer, randomChannelPoint())),
    );
    await publisher.drain();
    await eventually(() => a.stores.get('alice')?.peer(peer) !== undefined, 'the monitored peer');
    // The store hangs: the final flush waits out its timeout while HTTP still serves.
    redis.pause();
    const stopped = a.stop();
    const answer = await pollUntil(
      () => readyz(a),
      (r) => r.status === 503,
      '/readyz during the stop',
    );
    assert.match(answer.text, /stopping/);
    await stopped;
    app = undefined;
  });

  it('is not ready in JetStream mode until the consumer consumes', async () => {
    const a = await start([`--nats.stream=${randomToken('NOSTREAM')}`]);
    // Connected, but the stream does not exist (and is not to be created).
    await eventually(() => !a.readiness().reasons.includes('NATS is not connected'), 'connected');
    assert.deepEqual(a.readiness().reasons, ['the JetStream consumer is not set up']);
    assert.equal((await readyz(a)).status, 503);
  });
});
