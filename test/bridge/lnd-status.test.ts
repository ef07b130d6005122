import assert from 'node:assert/strict';
import { createBridgeLogger } from '../../src/bridge/bridge-logger.js';
import { LndHttpError } from '../../src/bridge/lnd/lnd-rest-client.js';
import { getInfoSummary, LndStatus, type WatchedStream } from '../../src/bridge/lnd-status.js';
import type { Publisher, PublishOptions } from '../../src/bridge/nats/publisher.js';
import type { StreamHealth } from '../../src/bridge/stream-relay.js';
import { eventually } from '../support/eventually.js';
import { captureOutput } from '../support/log-capture.js';
import { SECOND, TEST_NOW, TestClock } from '../support/test-clock.js';

const SUBJECT = 'lnd.n.status';
const INTERVAL_MS = 15 * SECOND;

class FakePublisher implements Publisher {
  readonly messages: { subject: string; lnd: string; timestamp: string; skip: boolean }[] = [];
  dropped = 0;
  uncaptured = 0;

  get published(): number {
    return this.messages.length;
  }

  publish(subject: string, data: string, options?: PublishOptions): void {
    const body = JSON.parse(data) as Record<string, string>;
    assert.deepEqual(Object.keys(body), ['lnd', 'timestamp']);
    this.messages.push({
      subject,
      lnd: body.lnd ?? '',
      timestamp: body.timestamp ?? '',
      skip: options?.skipUncaptured ?? false,
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  states(): string[] {
    return this.messages.map((m) => m.lnd);
  }
}

class FakeStream implements WatchedStream {
  health: StreamHealth = 'starting';
  failure: string | undefined;
  constructor(readonly name: string) {}
}

/** A GetInfo the test answers: each call waits until the test resolves or rejects it. */
class ControlledGetInfo {
  calls = 0;
  private waiting: { resolve: (b: Buffer) => void; reject: (e: unknown) => void }[] = [];

  readonly call = (signal: AbortSignal): Promise<Buffer> => {
    this.calls++;
    return new Promise<Buffer>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      signal.addEventListener('abort', () => {
        reject(new DOMException('aborted', 'AbortError'));
      });
    });
  };

  get pending(): number {
    return this.waiting.length;
  }

  answer(body = '{"identity_pubkey":"02ab","alias":"n","block_height":1}'): void {
    this.waiting.shift()?.resolve(Buffer.from(body));
  }

  fail(err: unknown): void {
    this.waiting.shift()?.reject(err);
  }
}

describe('LndStatus (injected clock and timers)', () => {
  let clock: TestClock;
  let publisher: FakePublisher;
  let getInfo: ControlledGetInfo;
  let channels: FakeStream;
  let peers: FakeStream;
  let status: LndStatus;
  let log: ReturnType<typeof captureOutput>;

  beforeEach(() => {
    clock = new TestClock(TEST_NOW);
    publisher = new FakePublisher();
    getInfo = new ControlledGetInfo();
    channels = new FakeStream('channel events');
    peers = new FakeStream('peer events');
    log = captureOutput();
    status = new LndStatus({
      subject: SUBJECT,
      publisher,
      getInfo: getInfo.call,
      streams: [channels, peers],
      intervalMs: INTERVAL_MS,
      logger: createBridgeLogger('debug', 'json', 'n', log.destination),
      clock,
    });
  });

  afterEach(async () => {
    await status.stop();
  });

  /** The delays of the timers armed now (the heartbeat's, if any), from now. */
  const armed = (): number[] => {
    const due = clock.nextDue();
    return due === undefined ? [] : [due - clock.now()];
  };

  /** Answers the GetInfo call the monitor is (about to be) waiting on, then lets the check finish. */
  const answerCheck = async (answer: () => void): Promise<void> => {
    const checks = status.checks;
    await eventually(() => getInfo.pending === 1, 'a GetInfo call', 2_000);
    answer();
    await eventually(() => status.checks > checks, 'the check to complete', 2_000);
  };

  /** A stream accepted, as its relay reports it. */
  const accept = (stream: FakeStream): void => {
    stream.health = 'open';
    stream.failure = undefined;
    status.onStreamChange(stream, 'accepted');
  };

  /** Start, then the two streams accepted one after the other: up once both are. */
  const upAt = async (): Promise<void> => {
    status.start();
    await answerCheck(() => {
      getInfo.answer();
    });
    accept(channels);
    await answerCheck(() => {
      getInfo.answer();
    });
    assert.deepEqual(publisher.states(), [], 'nothing while a stream is not accepted');
    accept(peers);
    await answerCheck(() => {
      getInfo.answer();
    });
    assert.deepEqual(publisher.states(), ['up']);
    await status.idle();
  };

  it('publishes up once GetInfo answers and both streams are accepted, with the clock at the check', async () => {
    await upAt();
    assert.deepEqual(publisher.messages[0], {
      subject: SUBJECT,
      lnd: 'up',
      timestamp: new Date(TEST_NOW).toISOString(),
      skip: true,
    });
    assert.ok(log.lines().some((l) => l.msg === 'lnd is up' && l.alias === 'n'));
  });

  it('publishes up at every interval while lnd is up (the heartbeat)', async () => {
    await upAt();
    assert.deepEqual(armed(), [INTERVAL_MS]);
    for (let beat = 1; beat <= 3; beat++) {
      clock.advance(INTERVAL_MS);
      await answerCheck(() => {
        getInfo.answer();
      });
      assert.equal(publisher.messages.length, 1 + beat);
      assert.deepEqual(publisher.messages.at(-1), {
        subject: SUBJECT,
        lnd: 'up',
        timestamp: new Date(TEST_NOW + beat * INTERVAL_MS).toISOString(),
        skip: true,
      });
      assert.deepEqual(armed(), [INTERVAL_MS]);
    }
    // A check no timer asked for publishes nothing new while nothing changed.
    status.onStreamChange(peers, 'ended');
    await answerCheck(() => {
      getInfo.answer();
    });
    assert.equal(publisher.messages.length, 4);
  });

  it('publishes down at once when a stream fails, even while GetInfo hangs; no heartbeat while down; up when it is accepted again', async () => {
    await upAt();
    clock.advance(INTERVAL_MS); // a heartbeat whose GetInfo does not answer yet
    await eventually(() => getInfo.pending === 1, 'the heartbeat GetInfo', 2_000);
    channels.health = 'failing';
    channels.failure = 'lnd channel events: cannot connect (ECONNREFUSED)';
    status.onStreamChange(channels, 'failed');
    assert.deepEqual(publisher.states(), ['up', 'down']);
    assert.equal(publisher.messages[1]?.timestamp, new Date(TEST_NOW + INTERVAL_MS).toISOString());
    // The hanging GetInfo answers: the stream still fails, so no up.
    await answerCheck(() => {
      getInfo.answer();
    });
    assert.deepEqual(publisher.states(), ['up', 'down']);
    assert.ok(log.lines().some((l) => l.msg === `lnd is down: ${channels.failure}`));
    // Heartbeats while down check lnd but publish nothing; GetInfo alone does not bring it back.
    clock.advance(INTERVAL_MS);
    assert.equal(getInfo.pending, 0, 'no GetInfo needed while a stream fails');
    await status.idle();
    assert.deepEqual(publisher.states(), ['up', 'down']);

    clock.advance(SECOND);
    accept(channels);
    await answerCheck(() => {
      getInfo.answer();
    });
    assert.deepEqual(publisher.states(), ['up', 'down', 'up']);
    assert.equal(
      publisher.messages[2]?.timestamp,
      new Date(TEST_NOW + 2 * INTERVAL_MS + SECOND).toISOString(),
    );
    // The heartbeat counts from the change to up.
    assert.deepEqual(armed(), [INTERVAL_MS]);
  });

  it('publishes down when GetInfo fails, once, and up when it answers again', async () => {
    await upAt();
    clock.advance(INTERVAL_MS);
    await answerCheck(() => {
      getInfo.fail(new LndHttpError(503, 'connection error', 14));
    });
    assert.deepEqual(publisher.states(), ['up', 'down']);
    // Down from the start of the check that found it.
    assert.equal(publisher.messages[1]?.timestamp, new Date(TEST_NOW + INTERVAL_MS).toISOString());
    assert.ok(
      log
        .lines()
        .some((l) => l.msg === 'lnd is down: lnd refused GetInfo (HTTP 503: connection error)'),
    );
    for (let beat = 0; beat < 2; beat++) {
      clock.advance(INTERVAL_MS);
      await answerCheck(() => {
        getInfo.fail(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
      });
    }
    assert.deepEqual(publisher.states(), ['up', 'down']);
    clock.advance(INTERVAL_MS);
    await answerCheck(() => {
      getInfo.answer('<html>502 Bad Gateway</html>');
    });
    assert.deepEqual(publisher.states(), ['up', 'down'], 'a reply that is not JSON is no lnd');
    clock.advance(INTERVAL_MS);
    await answerCheck(() => {
      getInfo.answer();
    });
    assert.deepEqual(publisher.states(), ['up', 'down', 'up']);
  });

  it('publishes down at start when lnd does not answer', async () => {
    status.start();
    await answerCheck(() => {
      getInfo.fail(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    });
    assert.deepEqual(publisher.states(), ['down']);
    assert.match(String(log.lines().at(-1)?.msg), /^lnd is down: cannot connect .*is lnd running/);
  });

  it('abandons a check in flight at stop, then publishes down once asked', async () => {
    await upAt();
    clock.advance(INTERVAL_MS);
    await eventually(() => getInfo.pending === 1, 'the heartbeat GetInfo', 2_000);
    await status.stop();
    assert.deepEqual(armed(), []);
    assert.deepEqual(publisher.states(), ['up']);
    status.onStreamChange(channels, 'failed');
    assert.deepEqual(publisher.states(), ['up'], 'nothing after stop but the final down');
    clock.advance(SECOND);
    status.publishStopped();
    assert.deepEqual(publisher.states(), ['up', 'down']);
    assert.equal(
      publisher.messages[1]?.timestamp,
      new Date(TEST_NOW + INTERVAL_MS + SECOND).toISOString(),
    );
  });

  it("summarises lnd's GetInfo for the log", () => {
    assert.deepEqual(
      getInfoSummary(
        Buffer.from('{"identity_pubkey":"02ab","alias":"a","uris":[],"synced_to_chain":false}'),
      ),
      { identity_pubkey: '02ab', alias: 'a', synced_to_chain: false },
    );
    assert.equal(getInfoSummary(Buffer.from('[]')), undefined);
    assert.equal(getInfoSummary(Buffer.from('nope')), undefined);
  });
});
