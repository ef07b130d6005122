import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { bootstrapRequests } from '../../src/nats/bootstrap-requests.js';
import { ConnectionState } from '../../src/nats/connection-state.js';
import { captureLogger } from '../support/log-capture.js';
import { bytes } from '../support/lnd-json.js';
import { MINUTE, TEST_NOW, TestClock } from '../support/test-clock.js';

const SHARED_NATS = 'nats://127.0.0.1:4222';

/** Bootstrap warnings against the real NATS: every failure counted, a few lines logged. */
describe('bootstrap requests (real NATS)', function () {
  this.timeout(30_000);
  let nc: NatsConnection;
  let prefix: string;

  beforeEach(async () => {
    nc = await connect({ servers: SHARED_NATS, name: 'chanfitness-test-bootstrap' });
    prefix = `boot${randomBytes(4).toString('hex')}`;
  });

  afterEach(async () => {
    await nc.close();
  });

  it('counts every unanswered request but logs at most five lines a minute per kind', async () => {
    const clock = new TestClock(TEST_NOW);
    const log = captureLogger();
    const state = new ConnectionState();
    const bootstrap = bootstrapRequests(nc, {
      prefix,
      timeoutMs: 1_000,
      logger: log.logger,
      state,
      clock,
    });
    const nodes = Array.from({ length: 20 }, (_, i) => `gone${i}`);
    const snapshots = await Promise.all(nodes.map((node) => bootstrap(node)));
    assert.ok(snapshots.every((s) => s === undefined));
    // Every request counted, per node.
    for (const node of nodes) assert.equal(state.bootstrapFailures.get(node), 2, node);
    const warnings = () =>
      log.lines().filter((l) => String(l.msg).startsWith('bootstrap request failed: no responder'));
    assert.equal(warnings().length, 5);

    // A minute later, a new window: its first line says how many were held back.
    clock.advance(MINUTE);
    await bootstrap('gone-late');
    assert.equal(warnings().length, 7);
    assert.equal(warnings()[5]?.suppressedSinceLast, 35);
    assert.equal(warnings()[6]?.suppressedSinceLast, undefined);
    assert.equal(log.lines().length, 7, 'nothing else logged');
  });

  it('limits the lines of unusable and incomplete listings the same way', async () => {
    const clock = new TestClock(TEST_NOW);
    const log = captureLogger();
    const bridge = await connect({ servers: SHARED_NATS, name: 'chanfitness-test-bridge' });
    try {
      // Peers answered with garbage, channels not at all: unusable and incomplete every time.
      bridge.subscribe(`${prefix}.*.rpc.list_peers`, {
        callback: (_err, msg) => msg.respond(bytes('not json')),
      });
      await bridge.flush();
      const bootstrap = bootstrapRequests(nc, {
        prefix,
        timeoutMs: 1_000,
        logger: log.logger,
        state: new ConnectionState(),
        clock,
      });
      const snapshots = await Promise.all(
        Array.from({ length: 12 }, (_, i) => bootstrap(`half${i}`)),
      );
      assert.ok(snapshots.every((s) => s?.incomplete === true));
      const count = (msg: string) => log.lines().filter((l) => l.msg === msg).length;
      assert.equal(count('unusable list_peers reply'), 5);
      assert.equal(count('bootstrapped node'), 5);
      assert.equal(
        log.lines().filter((l) => String(l.msg).startsWith('bootstrap request failed')).length,
        5,
      );
    } finally {
      await bridge.close();
    }
  });
});
