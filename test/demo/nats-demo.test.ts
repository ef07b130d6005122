import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { decodeChannelEvent } from '../../src/lnd/decode-channel-event.js';
import { decodePeerEvent } from '../../src/lnd/decode-peer-event.js';
import { decodeListChannels, decodeListPeers } from '../../src/lnd/decode-rpc.js';
import { startDemo, type DemoSettings, type RunningDemo } from '../../scripts/demo/nats-demo.js';
import { eventually } from '../support/eventually.js';

const NATS_URL = 'nats://127.0.0.1:4222';
const HOUR = 3_600_000;

describe('demo NATS shell (real NATS)', function () {
  this.timeout(30_000);
  const prefix = `chanfitness-test-demo-${randomUUID().slice(0, 8)}`;
  const nodes = ['alpha', 'beta'];
  let nc: NatsConnection;
  let demo: RunningDemo | undefined;
  const received = new Map<string, string[]>();

  before(async () => {
    nc = await connect({ servers: NATS_URL, name: 'chanfitness-demo-test' });
    nc.subscribe(`${prefix}.*.*`, {
      callback: (err, msg) => {
        if (err !== null) return;
        const list = received.get(msg.subject) ?? [];
        list.push(msg.string());
        received.set(msg.subject, list);
      },
    });
    await nc.flush();
  });

  after(async () => {
    await demo?.stop();
    await nc.drain();
  });

  it('publishes both event subjects of every node and answers its rpc subjects', async () => {
    const settings: DemoSettings = {
      natsUrl: NATS_URL,
      subjectPrefix: prefix,
      nodes,
      peers: 10,
      channels: 12,
      speed: 3600,
      historyMs: 2 * HOUR,
      seed: 7,
      tickMs: 20,
    };
    const lines: string[] = [];
    demo = await startDemo(settings, (line) => lines.push(line));
    const subjects = nodes.flatMap((node) => [
      `${prefix}.${node}.channel_events`,
      `${prefix}.${node}.peer_events`,
    ]);
    await eventually(
      () => subjects.every((subject) => (received.get(subject)?.length ?? 0) > 0),
      'events on every subject',
      10_000,
    );
    // Two simulated hours at 3600x: caught up with the real clock within seconds.
    await eventually(() => lines.some((line) => line.includes('caught up')), 'catch-up', 10_000);

    for (const node of nodes) {
      const channelsReply = await nc.request(`${prefix}.${node}.rpc.list_channels`, '', {
        timeout: 2000,
      });
      const channels = decodeListChannels(channelsReply.data);
      assert.equal(channels.skipped, 0);
      assert.ok(channels.channels.length > 0, `${node} lists no channel`);
      const peersReply = await nc.request(`${prefix}.${node}.rpc.list_peers`, '', {
        timeout: 2000,
      });
      const peers = decodeListPeers(peersReply.data);
      assert.equal(peers.skipped, 0);
      assert.ok(peers.peers.length <= 10);
    }

    for (const subject of subjects) {
      for (const payload of received.get(subject) ?? []) {
        if (subject.endsWith('.peer_events')) decodePeerEvent(payload);
        else decodeChannelEvent(payload);
      }
    }
    assert.ok(demo.published >= subjects.reduce((n, s) => n + (received.get(s)?.length ?? 0), 0));
  });

  it('stops: drains, stops answering, and resolves done', async () => {
    assert.ok(demo !== undefined);
    await demo.stop();
    await demo.done;
    await assert.rejects(
      nc.request(`${prefix}.alpha.rpc.list_channels`, '', { timeout: 1000 }),
      (err: Error) => /503|no responders|timeout/i.test(err.message),
    );
    const count = [...received.values()].reduce((n, list) => n + list.length, 0);
    await nc.flush();
    assert.equal(
      [...received.values()].reduce((n, list) => n + list.length, 0),
      count,
    );
  });

  it('stops by itself after --duration: stops publishing and answering', async () => {
    const durationMs = 300;
    const started = performance.now();
    const short = await startDemo(
      {
        natsUrl: NATS_URL,
        subjectPrefix: `${prefix}-short`,
        nodes: ['gamma'],
        peers: 3,
        channels: 2,
        // The simulated hour within the first 100 ms: it has published when it stops.
        speed: 36_000,
        historyMs: HOUR,
        durationMs,
        seed: 1,
        tickMs: 20,
      },
      () => undefined,
    );
    // Running until then: it answers its rpc subjects.
    const listed = await nc.request(`${prefix}-short.gamma.rpc.list_channels`, '', {
      timeout: 2000,
    });
    assert.equal(decodeListChannels(listed.data).skipped, 0);
    // Well before the test's own timeout: a demo that never stops fails here, not by timing out.
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      short.done.then(() => 'stopped'),
      new Promise<string>((resolve) => {
        timer = setTimeout(() => {
          resolve('still running');
        }, 10_000);
      }),
    ]);
    clearTimeout(timer);
    assert.equal(outcome, 'stopped');
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= durationMs - 20, `stopped after ${elapsed} ms, before its duration`);
    const published = short.published;
    assert.ok(published > 0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(short.published, published, 'published after it stopped');
    await assert.rejects(
      nc.request(`${prefix}-short.gamma.rpc.list_channels`, '', { timeout: 1000 }),
      (err: Error) => /503|no responders|timeout/i.test(err.message),
    );
  });

  it('the script exits 0 on SIGTERM after announcing what it publishes', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'scripts/demo.ts',
        '--nats.subject-prefix',
        `${prefix}-script`,
        '--peers',
        '3',
        '--channels',
        '2',
        // A safety net: the script stops by itself should the signal get lost.
        '--duration',
        '25s',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await eventually(() => output.includes('Ctrl-C stops'), 'the start line', 20_000);
    assert.match(output, new RegExp(`${prefix}-script\\.demo-[0-9a-z]+\\.channel_events`));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, output);
    assert.match(output, /SIGTERM, draining/);
  });
});
