import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection, type Subscription } from 'nats';
import { startBridge, type RunningBridge } from '../../src/bridge/bridge.js';
import { createBridgeLogger } from '../../src/bridge/bridge-logger.js';
import { rfc3339ToMs } from '../../src/lnd/timestamp.js';
import { eventually } from '../support/eventually.js';
import { captureOutput, type CapturedOutput } from '../support/log-capture.js';
import { FakeLnd, GET_INFO, makeTlsCert, SUBSCRIBE_CHANNELS, SUBSCRIBE_PEERS } from './fake-lnd.js';
import { bridgeSettingsOf } from './settings-of.js';

const NATS_URL = 'nats://127.0.0.1:4222';
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)$/;

interface Status {
  readonly lnd: 'up' | 'down';
  /** The payload's timestamp, ms. */
  readonly at: number;
  /** When the test received it, ms. */
  readonly receivedAt: number;
}

/** The status messages of one node, checked for shape as they arrive. */
class StatusLog {
  readonly messages: Status[] = [];
  readonly problems: string[] = [];
  private readonly subscription: Subscription;

  constructor(nc: NatsConnection, subject: string) {
    this.subscription = nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err !== null) return;
        const text = msg.string();
        const body = JSON.parse(text) as Record<string, unknown>;
        const at = typeof body.timestamp === 'string' ? rfc3339ToMs(body.timestamp) : undefined;
        if (
          Object.keys(body).join() !== 'lnd,timestamp' ||
          (body.lnd !== 'up' && body.lnd !== 'down') ||
          !RFC3339.test(String(body.timestamp)) ||
          at === undefined
        ) {
          this.problems.push(text);
          return;
        }
        this.messages.push({ lnd: body.lnd, at, receivedAt: Date.now() });
      },
    });
  }

  states(from = 0): string[] {
    return this.messages.slice(from).map((m) => m.lnd);
  }

  /** Waits for the message at index `index` and returns it. */
  async nth(index: number, limitMs = 5_000): Promise<Status> {
    await eventually(
      () => this.messages.length > index,
      () => `status message #${index + 1} (have ${this.states().join(',')})`,
      limitMs,
    );
    return this.messages[index]!;
  }

  close(): void {
    this.subscription.unsubscribe();
  }
}

describe('lnd bridge status: <prefix>.<node>.status from a fake lnd over real NATS', function () {
  this.timeout(20_000);
  const prefix = `chanfitness-test-status-${randomUUID().slice(0, 8)}`;
  const dir = mkdtempSync(join(tmpdir(), 'chanfitness-bridge-status-'));
  const macaroon = Buffer.concat([Buffer.from([2, 1]), randomBytes(64)]);
  const macaroonFile = join(dir, 'readonly.macaroon');
  let tls: { certFile: string; keyFile: string };
  let nc: NatsConnection;
  let lnd: FakeLnd | undefined;
  let bridge: RunningBridge | undefined;
  let statuses: StatusLog | undefined;

  before(async () => {
    writeFileSync(macaroonFile, macaroon);
    tls = makeTlsCert(dir);
    nc = await connect({ servers: NATS_URL, name: 'chanfitness-bridge-status-test' });
  });

  afterEach(async () => {
    await bridge?.stop();
    bridge = undefined;
    statuses?.close();
    await lnd?.close();
    lnd = undefined;
  });

  after(async () => {
    await nc.drain();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (
    node: string,
    interval: string,
    configure: (fake: FakeLnd) => void = () => undefined,
  ): Promise<{ lnd: FakeLnd; bridge: RunningBridge; statuses: StatusLog; log: CapturedOutput }> => {
    lnd = await FakeLnd.start(tls.certFile, tls.keyFile, macaroon.toString('hex'));
    configure(lnd);
    statuses = new StatusLog(nc, `${prefix}.${node}.status`);
    await nc.flush();
    const settings = bridgeSettingsOf([
      ...['--lnd.node', node, '--lnd.rest-url', lnd.url],
      ...['--lnd.macaroon', macaroonFile, '--lnd.tls-cert', tls.certFile],
      ...['--lnd.retry-min', '50ms', '--lnd.retry-max', '200ms'],
      ...['--status.interval', interval],
      ...['--nats.url', NATS_URL, '--nats.subject-prefix', prefix],
    ]);
    const log = captureOutput();
    bridge = await startBridge(
      settings,
      createBridgeLogger('debug', 'json', node, log.destination),
    );
    return { lnd, bridge, statuses, log };
  };

  it('publishes up after start and at every interval, down as lnd becomes unavailable and no heartbeat while down, up when it is back, down at stop', async () => {
    const before = Date.now();
    const { lnd, bridge, statuses } = await start('heartbeat', '200ms');

    // Up once both streams are accepted, then a heartbeat every 200 ms.
    await statuses.nth(4);
    assert.deepEqual(statuses.states(), ['up', 'up', 'up', 'up', 'up']);
    const first = statuses.messages[0]!;
    assert.ok(first.at >= before && first.at <= first.receivedAt, JSON.stringify(first));
    for (let i = 1; i < statuses.messages.length; i++) {
      const gap = statuses.messages[i]!.at - statuses.messages[i - 1]!.at;
      // Never faster than the interval; slower only by a check and a loaded machine.
      assert.ok(gap >= 190 && gap <= 1_000, `heartbeat gap ${gap} ms`);
    }

    const wentDown = Date.now();
    await lnd.goDown('unavailable');
    await eventually(() => statuses.states().includes('down'), 'down', 5_000);
    const downIndex = statuses.states().indexOf('down');
    const down = statuses.messages[downIndex]!;
    assert.ok(
      statuses
        .states()
        .slice(0, downIndex)
        .every((s) => s === 'up'),
    );
    assert.ok(down.at >= wentDown && down.at <= down.receivedAt, JSON.stringify(down));
    // Three heartbeats' checks while lnd is down, and not one more message.
    const published = bridge.status.published;
    const checks = bridge.status.checks;
    await eventually(() => bridge.status.checks >= checks + 3, 'three checks while down', 5_000);
    assert.ok(lnd.requests.filter((r) => r.unavailable).length >= 3, 'lnd answered 503 meanwhile');
    assert.equal(bridge.status.published, published, 'published while down');
    await eventually(() => statuses.messages.length === published, 'every status on NATS', 5_000);
    assert.deepEqual(statuses.states(downIndex), ['down']);

    const cameBack = Date.now();
    await lnd.comeBack();
    const up = await statuses.nth(downIndex + 1);
    assert.equal(up.lnd, 'up');
    assert.ok(up.at >= cameBack, 'up is stamped after lnd is back');
    const beat = await statuses.nth(downIndex + 2);
    assert.equal(beat.lnd, 'up');
    assert.ok(beat.at - up.at >= 190, `heartbeat gap ${beat.at - up.at} ms`);

    const stopping = Date.now();
    await bridge.stop();
    await eventually(() => statuses.messages.at(-1)?.lnd === 'down', 'down at stop', 5_000);
    const last = statuses.messages.at(-1)!;
    assert.ok(last.at >= stopping);
    // Nothing after the stop's down: no heartbeat is left running.
    assert.equal(statuses.messages.length, bridge.status.published);
    assert.deepEqual(statuses.problems, []);
  });

  it('publishes down and up as soon as lnd drops and comes back, long before a heartbeat; a stream lnd ends cleanly is no drop, one it fails is', async () => {
    // A heartbeat this long never comes during the test: every message is event-driven.
    const { lnd, bridge, statuses, log } = await start('events', '1h');
    const first = await statuses.nth(0);
    assert.equal(first.lnd, 'up');

    // lnd ends a stream cleanly: it is reopened, lnd is checked, nothing is published.
    await bridge.status.idle();
    const checks = bridge.status.checks;
    lnd.end(SUBSCRIBE_PEERS);
    await eventually(
      () =>
        bridge.status.checks > checks &&
        lnd.acceptedStreams(SUBSCRIBE_PEERS) === 2 &&
        lnd.openStreams(SUBSCRIBE_PEERS) === 1,
      'the stream reopened and lnd checked',
      5_000,
    );
    assert.equal(bridge.status.published, 1);

    // lnd stops (connections refused): down within a moment.
    const wentDown = Date.now();
    await lnd.goDown('refused');
    const down = await statuses.nth(1, 3_000);
    assert.deepEqual(statuses.states(), ['up', 'down']);
    assert.ok(down.at >= wentDown);
    assert.ok(down.receivedAt - wentDown < 2_000, `down after ${down.receivedAt - wentDown} ms`);
    assert.ok(
      log
        .lines()
        .some(
          (l) => l.level === 40 && /^lnd is down: lnd (channel|peer) events/.test(String(l.msg)),
        ),
    );

    // Back: up once the streams are reconnected and accepted (retry ≤ 200 ms, accepted after 1 s).
    const cameBack = Date.now();
    await lnd.comeBack();
    const up = await statuses.nth(2, 5_000);
    assert.equal(up.lnd, 'up');
    assert.ok(up.at >= cameBack && up.receivedAt - cameBack < 4_000);

    // lnd fails a stream with its error line while GetInfo still answers: a drop, then back.
    lnd.end(SUBSCRIBE_CHANNELS, { code: 14, message: 'transport is closing' });
    await statuses.nth(4, 5_000);
    assert.deepEqual(statuses.states(), ['up', 'down', 'up', 'down', 'up']);
    assert.ok(
      log
        .lines()
        .some(
          (l) => l.msg === 'lnd is down: lnd channel events: lnd ended the stream with an error',
        ),
    );

    await bridge.stop();
    await statuses.nth(5);
    assert.deepEqual(statuses.states(), ['up', 'down', 'up', 'down', 'up', 'down']);
    assert.deepEqual(statuses.problems, []);
  });

  it('publishes down when lnd refuses GetInfo, and only down', async () => {
    // GetInfo refused as a macaroon without info:read would be: the streams are fine.
    const { lnd, bridge, statuses, log } = await start('noinfo', '200ms', (fake) => {
      fake.refuseGetInfo = true;
    });
    const getInfoCalls = (): number => lnd.requests.filter((r) => r.path === GET_INFO).length;
    await eventually(
      () => getInfoCalls() >= 3 && lnd.openStreams(SUBSCRIBE_PEERS) === 1,
      'three refused GetInfo calls, the streams open',
      5_000,
    );
    await eventually(
      () => statuses.messages.length === bridge.status.published,
      'every status on NATS',
      5_000,
    );
    assert.deepEqual(statuses.states(), ['down']);
    assert.ok(
      log.lines().some((l) => /^lnd is down: lnd refused GetInfo .*info:read/.test(String(l.msg))),
    );
  });
});
