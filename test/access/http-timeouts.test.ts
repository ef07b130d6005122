import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as connectTcp, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectTls } from 'node:tls';
import type { ExporterProcess } from '../support/exporter-process.js';
import { makeTestPki } from '../support/pki.js';
import { BOOT_HOOK_TIMEOUT_MS, privatePrefix, startExporters } from './support/exporters.js';
import { httpsRequest } from './support/probe.js';

const HEADER_TIMEOUT_MS = 2_000;
const REQUEST_TIMEOUT_MS = 3_000;
/** How often the server looks for expired requests (src/http/http-server.ts). */
const CHECK_INTERVAL_MS = 1_000;
/** Scheduling on a loaded machine: the client's and the server's timers. */
const SLACK_MS = 1_000;
/** A slow client still open after this was not cut by the timeouts (Node's own: 60 s, 300 s). */
const GIVE_UP_MS = 15_000;
const HEALTHZ_WITHIN_MS = 500;
/** Slow clients of each kind at once. */
const SLOW_CLIENTS = 10;

/** How a slow client's connection ended. */
interface Outcome {
  /** From the moment it could send (TCP connected, or TLS handshake done) to the close. */
  readonly closedAfterMs: number;
  /** What the server wrote before closing. */
  readonly answer: string;
}

/**
 * Opens a connection, writes `burst` at once, then `trickle` one byte at once and one
 * every second after (and nothing once it is used up): resolves when the server
 * closes the connection.
 */
function slowClient(
  open: (ready: () => void) => Socket,
  burst: string,
  trickle: string,
): Promise<Outcome> {
  return new Promise((resolve) => {
    let start = 0;
    let answer = '';
    let timer: NodeJS.Timeout | undefined;
    const socket = open(() => {
      start = performance.now();
      if (burst !== '') socket.write(burst);
      let next = 0;
      const drip = (): void => {
        if (next < trickle.length && socket.writable) socket.write(trickle.charAt(next++));
      };
      drip();
      timer = setInterval(drip, 1_000);
    });
    const giveUp = setTimeout(() => socket.destroy(), GIVE_UP_MS);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ closedAfterMs: start === 0 ? -1 : performance.now() - start, answer });
    });
  });
}

function plain(url: string): (ready: () => void) => Socket {
  const { hostname, port } = new URL(url);
  return (ready) => connectTcp({ host: hostname, port: Number(port) }, ready);
}

function tls(url: string): (ready: () => void) => Socket {
  const { hostname, port } = new URL(url);
  // What is measured is the server's patience, not its certificate.
  return (ready) =>
    connectTls({ host: hostname, port: Number(port), rejectUnauthorized: false }, ready);
}

/** Request headers that never end (no blank line), sent a byte a second. */
const ENDLESS_HEADERS = `GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'a'.repeat(200)}`;
/** A GraphQL POST whose 1,000-byte body comes a byte a second. */
const POST_HEADERS =
  'POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
  'Content-Length: 1000\r\n\r\n';
const SLOW_BODY = `{"query":"{ nodes { id } }","x":"${'b'.repeat(900)}`;

/** Each answer is a 408 or nothing (the connection closed), and no close came before `fromMs`. */
function assertCut(outcomes: readonly Outcome[], fromMs: number, withinMs: number, what: string) {
  for (const outcome of outcomes) {
    assert.ok(outcome.closedAfterMs >= 0, `${what}: never connected`);
    assert.ok(
      outcome.closedAfterMs <= withinMs,
      `${what}: closed after ${Math.round(outcome.closedAfterMs)} ms, not within ${withinMs} ms`,
    );
    assert.ok(
      outcome.closedAfterMs >= fromMs,
      `${what}: closed after ${Math.round(outcome.closedAfterMs)} ms, before its timeout`,
    );
    assert.ok(
      outcome.answer === '' || outcome.answer.startsWith('HTTP/1.1 408 '),
      `${what}: answered ${JSON.stringify(outcome.answer.slice(0, 40))}`,
    );
  }
}

/** Asks /healthz every 100 ms until `done` settles; the latency of each answer. */
async function healthzLatencies(
  ask: () => Promise<number>,
  done: Promise<unknown>,
): Promise<number[]> {
  const attack = { over: false };
  void done.finally(() => (attack.over = true));
  const latencies: number[] = [];
  while (!attack.over) {
    const start = performance.now();
    const status = await ask();
    latencies.push(performance.now() - start);
    assert.equal(status, 200);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return latencies;
}

describe('access: HTTP header and request timeouts against slow clients (real exporter)', function () {
  this.timeout(60_000);
  let dir: string | undefined;
  let ca: Buffer;
  const exporters: ExporterProcess[] = [];
  let http: ExporterProcess;
  let https: ExporterProcess;

  before(async function () {
    this.timeout(BOOT_HOOK_TIMEOUT_MS);
    const tmp = mkdtempSync(join(tmpdir(), 'chanfitness-slow-'));
    dir = tmp;
    const pki = makeTestPki(tmp);
    ca = readFileSync(pki.caFile);
    const common = [
      `--nats.subject-prefix=${privatePrefix()}`,
      '--store.url=sqlite://:memory:',
      `--web.header-timeout=${HEADER_TIMEOUT_MS / 1000}s`,
      `--web.request-timeout=${REQUEST_TIMEOUT_MS / 1000}s`,
      '--log.level=info',
    ];
    const started = await startExporters([
      { args: common },
      {
        args: [
          ...common,
          `--web.tls-cert=${pki.serverCertFile}`,
          `--web.tls-key=${pki.serverKeyFile}`,
        ],
      },
    ]);
    exporters.push(...started);
    [http, https] = started as [ExporterProcess, ExporterProcess];
  });
  after(async () => {
    await Promise.all(exporters.map((exporter) => exporter.dispose()));
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const many = (start: () => Promise<Outcome>): Promise<Outcome[]> =>
    Promise.all(Array.from({ length: SLOW_CLIENTS }, start));
  const headerBound = HEADER_TIMEOUT_MS + CHECK_INTERVAL_MS + SLACK_MS;
  const requestBound = REQUEST_TIMEOUT_MS + CHECK_INTERVAL_MS + SLACK_MS;
  const askPlain = async (): Promise<number> => {
    const res = await fetch(`${http.url}/healthz`, { signal: AbortSignal.timeout(5_000) });
    await res.text();
    return res.status;
  };
  const askTls = async (): Promise<number> =>
    (await httpsRequest(`${https.url}/healthz`, ca)).status;

  it('cuts headers trickled a byte a second, and a body too, while /healthz answers at once (HTTP)', async () => {
    const headers = many(() => slowClient(plain(http.url), '', ENDLESS_HEADERS));
    const silent = many(() => slowClient(plain(http.url), '', ''));
    const bodies = many(() => slowClient(plain(http.url), POST_HEADERS, SLOW_BODY));
    const all = Promise.all([headers, silent, bodies]);
    const latencies = await healthzLatencies(askPlain, all);
    const [headerOutcomes, silentOutcomes, bodyOutcomes] = await all;

    assertCut(headerOutcomes, HEADER_TIMEOUT_MS - 50, headerBound, 'trickled headers');
    assertCut(silentOutcomes, HEADER_TIMEOUT_MS - 50, headerBound, 'nothing sent');
    assertCut(bodyOutcomes, REQUEST_TIMEOUT_MS - 50, requestBound, 'trickled body');
    // The body case is cut by the request timeout, after the header timeout has passed.
    assert.ok(bodyOutcomes.every((o) => o.closedAfterMs > HEADER_TIMEOUT_MS + 500));
    assert.ok(latencies.length >= 10, `${latencies.length} /healthz answers during the attack`);
    const slowest = Math.max(...latencies);
    assert.ok(slowest < HEALTHZ_WITHIN_MS, `/healthz took ${Math.round(slowest)} ms`);
  });

  it('cuts trickled headers and a body over HTTPS too, and a handshake never made', async () => {
    const headers = many(() => slowClient(tls(https.url), '', ENDLESS_HEADERS));
    const bodies = many(() => slowClient(tls(https.url), POST_HEADERS, SLOW_BODY));
    // TCP connected, no ClientHello: the handshake timeout is the header timeout.
    const noHandshake = many(() => slowClient(plain(https.url), '', ''));
    const all = Promise.all([headers, bodies, noHandshake]);
    const latencies = await healthzLatencies(askTls, all);
    const [headerOutcomes, bodyOutcomes, handshakeOutcomes] = await all;

    assertCut(headerOutcomes, HEADER_TIMEOUT_MS - 50, headerBound, 'trickled headers (TLS)');
    assertCut(bodyOutcomes, REQUEST_TIMEOUT_MS - 50, requestBound, 'trickled body (TLS)');
    for (const outcome of handshakeOutcomes) {
      assert.ok(
        outcome.closedAfterMs >= HEADER_TIMEOUT_MS - 50 &&
          outcome.closedAfterMs <= HEADER_TIMEOUT_MS + SLACK_MS,
        `no handshake: closed after ${Math.round(outcome.closedAfterMs)} ms`,
      );
    }
    assert.ok(latencies.length >= 10, `${latencies.length} /healthz answers during the attack`);
    const slowest = Math.max(...latencies);
    assert.ok(slowest < HEALTHZ_WITHIN_MS, `/healthz took ${Math.round(slowest)} ms`);
  });

  it('still serves a request that arrives in time', async () => {
    const res = await fetch(`${http.url}/graphql`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ query: '{ nodes { id } }' }),
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { data: { nodes: [] } });
  });
});
