import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createSchema, createYoga } from 'graphql-yoga';
import sinon from 'sinon';
import { HttpServerError } from '../../src/http/errors.js';
import {
  createHttpServer,
  type HttpServer,
  type HttpServerDeps,
  type Readiness,
} from '../../src/http/http-server.js';
import { parseListenAddress } from '../../src/config/listen-address.js';
import { makeSources, populate, type TestSources } from '../metrics/fixtures.js';
import { parseExposition } from '../metrics/text-format-parser.js';
import { makeSelfSignedCert } from '../support/pki.js';
import { TEST_NOW, TestClock } from '../support/test-clock.js';
import { CapturedLog, deferred, fetchRaw } from './helpers.js';

const LOOPBACK = parseListenAddress('127.0.0.1:0');

/** The test's stand-in for graphql-yoga: echoes the method and the body. */
function echoGraphql(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ method: req.method, body: Buffer.concat(chunks).toString() }));
  });
}

interface Started {
  readonly server: HttpServer;
  readonly sources: TestSources;
  readonly log: CapturedLog;
  readonly readiness: { state: Readiness };
}

describe('HTTP server', () => {
  const servers: HttpServer[] = [];

  afterEach(async () => {
    sinon.restore();
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  async function start(overrides: Partial<HttpServerDeps> = {}): Promise<Started> {
    const sources = makeSources();
    const log = new CapturedLog();
    const readiness = { state: { ready: true, reasons: [] } as Readiness };
    const server = await createHttpServer({
      listenAddress: LOOPBACK,
      exposition: sources.exposition,
      graphql: echoGraphql,
      readiness: () => readiness.state,
      logger: log.logger,
      ...overrides,
    });
    servers.push(server);
    return { server, sources, log, readiness };
  }

  describe('routes', () => {
    it('reports the bound address and serves /healthz', async () => {
      const { server } = await start();
      assert.equal(server.address.host, '127.0.0.1');
      assert.ok(server.address.port > 0);
      assert.equal(server.url, `http://127.0.0.1:${server.address.port}`);
      const reply = await fetchRaw(`${server.url}/healthz`);
      assert.equal(reply.status, 200);
      assert.equal(reply.text, 'ok\n');
      assert.equal((await fetchRaw(`${server.url}/healthz`, { method: 'HEAD' })).status, 200);
    });

    it('serves /metrics as text format 0.0.4', async () => {
      const { server, sources } = await start();
      populate(sources, 'alice', 10, 3);
      const reply = await fetchRaw(`${server.url}/metrics?debug=1`);
      assert.equal(reply.status, 200);
      assert.equal(reply.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
      assert.equal(reply.headers['content-encoding'], undefined);
      const families = parseExposition(reply.text);
      assert.equal(families.get('chanfitness_channel_lifetime_seconds')?.samples.length, 10);
      assert.ok(families.has('process_cpu_seconds_total'));

      const head = await fetchRaw(`${server.url}/metrics`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.body.length, 0);
    });

    it('answers 404 for unknown paths and 405 for wrong methods', async () => {
      const { server } = await start();
      assert.equal((await fetchRaw(`${server.url}/`)).status, 404);
      assert.equal((await fetchRaw(`${server.url}/metrics/extra`)).status, 404);
      for (const path of ['/metrics', '/healthz', '/readyz']) {
        for (const method of ['POST', 'PUT', 'DELETE']) {
          const reply = await fetchRaw(`${server.url}${path}`, { method, body: 'x' });
          assert.equal(reply.status, 405, `${method} ${path}`);
          assert.equal(reply.headers.allow, 'GET, HEAD');
        }
      }
    });

    it('hands every method on /graphql to the GraphQL listener', async () => {
      const { server } = await start();
      const post = await fetchRaw(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"query":"{nodes{id}}"}',
      });
      assert.equal(post.status, 200);
      assert.deepEqual(JSON.parse(post.text), { method: 'POST', body: '{"query":"{nodes{id}}"}' });
      const get = await fetchRaw(`${server.url}/graphql?query=%7Bnodes%7Bid%7D%7D`);
      assert.deepEqual(JSON.parse(get.text), { method: 'GET', body: '' });
      const options = await fetchRaw(`${server.url}/graphql`, { method: 'OPTIONS' });
      assert.deepEqual(JSON.parse(options.text), { method: 'OPTIONS', body: '' });
    });

    it('answers 500 when the GraphQL listener fails, and keeps serving', async () => {
      const { server, log } = await start({
        graphql: () => Promise.reject(new Error('resolver exploded')),
      });
      const reply = await fetchRaw(`${server.url}/graphql`, { method: 'POST', body: '{}' });
      assert.equal(reply.status, 500);
      assert.ok(log.text.includes('resolver exploded'));
      assert.equal((await fetchRaw(`${server.url}/healthz`)).status, 200);
    });

    it('answers 500 when the metrics cannot be collected', async () => {
      const { server, sources } = await start();
      sinon.stub(sources.exposition.registry, 'metrics').rejects(new Error('collector broke'));
      const reply = await fetchRaw(`${server.url}/metrics`);
      assert.equal(reply.status, 500);
      assert.equal(reply.text, 'metrics collection failed\n');
    });
  });

  describe('/readyz', () => {
    it('answers 503 with the reasons until ready, then 200', async () => {
      const { server, readiness } = await start();
      readiness.state = { ready: false, reasons: ['NATS not connected', 'store not started'] };
      const notReady = await fetchRaw(`${server.url}/readyz`);
      assert.equal(notReady.status, 503);
      assert.equal(notReady.text, 'not ready: NATS not connected; store not started\n');
      readiness.state = { ready: true, reasons: [] };
      const ready = await fetchRaw(`${server.url}/readyz`);
      assert.equal(ready.status, 200);
      assert.equal(ready.text, 'ok\n');
    });

    it('answers 503 when the readiness check throws', async () => {
      const { server } = await start({
        readiness: () => {
          throw new Error('boom');
        },
      });
      assert.equal((await fetchRaw(`${server.url}/readyz`)).status, 503);
    });
  });

  describe('gzip', () => {
    it('gzips /metrics when the client accepts it, to the same text', async () => {
      const { server, sources } = await start();
      populate(sources, 'alice', 3000, 500);
      const plain = await fetchRaw(`${server.url}/metrics`);
      const gzipped = await fetchRaw(`${server.url}/metrics`, {
        headers: { 'Accept-Encoding': 'gzip, deflate' },
      });
      assert.equal(gzipped.status, 200);
      assert.equal(gzipped.headers['content-encoding'], 'gzip');
      assert.equal(gzipped.headers.vary, 'Accept-Encoding');
      assert.ok(gzipped.body.length < plain.body.length / 4);
      const decoded = gunzipSync(gzipped.body).toString();
      parseExposition(decoded);
      // The process and Node.js metrics move between two scrapes; ours do not.
      const ours = (text: string): string[] =>
        text.split('\n').filter((l) => l.includes('chanfitness_'));
      assert.deepEqual(ours(decoded), ours(plain.text));
      assert.ok(ours(plain.text).length > 3 * 3000);

      const refused = await fetchRaw(`${server.url}/metrics`, {
        headers: { 'Accept-Encoding': 'gzip;q=0, identity' },
      });
      assert.equal(refused.headers['content-encoding'], undefined);
    });
  });

  describe('access control', () => {
    it('asks for basic auth on /metrics and /graphql, not on /healthz and /readyz', async () => {
      const { server, log } = await start({
        auth: { kind: 'basic', user: 'prometheus', password: 's3cret-pass' },
      });
      const good = `Basic ${Buffer.from('prometheus:s3cret-pass').toString('base64')}`;
      const badPassword = `Basic ${Buffer.from('prometheus:wrong').toString('base64')}`;
      const badUser = `Basic ${Buffer.from('grafana:s3cret-pass').toString('base64')}`;
      for (const path of ['/metrics', '/graphql']) {
        const none = await fetchRaw(`${server.url}${path}`);
        assert.equal(none.status, 401, path);
        assert.equal(
          none.headers['www-authenticate'],
          'Basic realm="chanfitness-exporter", charset="UTF-8"',
        );
        for (const wrong of [badPassword, badUser, 'Bearer s3cret-pass', 'Basic !!!']) {
          const reply = await fetchRaw(`${server.url}${path}`, {
            headers: { Authorization: wrong },
          });
          assert.equal(reply.status, 401, `${path} ${wrong}`);
        }
        const ok = await fetchRaw(`${server.url}${path}`, { headers: { Authorization: good } });
        assert.equal(ok.status, 200, path);
      }
      assert.equal((await fetchRaw(`${server.url}/healthz`)).status, 200);
      assert.equal((await fetchRaw(`${server.url}/readyz`)).status, 200);
      assert.ok(!log.text.includes('s3cret-pass'));
    });

    it('asks for a bearer token on /metrics and /graphql', async () => {
      const token = 'tok-0123456789abcdef';
      const { server, log } = await start({ auth: { kind: 'bearer', token } });
      const none = await fetchRaw(`${server.url}/metrics`);
      assert.equal(none.status, 401);
      assert.equal(none.headers['www-authenticate'], 'Bearer realm="chanfitness-exporter"');
      const wrong = await fetchRaw(`${server.url}/graphql`, {
        headers: { Authorization: 'Bearer tok-0123456789abcdeX' },
      });
      assert.equal(wrong.status, 401);
      assert.equal(
        wrong.headers['www-authenticate'],
        'Bearer realm="chanfitness-exporter", error="invalid_token"',
      );
      const short = await fetchRaw(`${server.url}/metrics`, {
        headers: { Authorization: 'Bearer t' },
      });
      assert.equal(short.status, 401);
      for (const path of ['/metrics', '/graphql']) {
        const ok = await fetchRaw(`${server.url}${path}`, {
          headers: { Authorization: `bearer ${token}` },
        });
        assert.equal(ok.status, 200, path);
      }
      assert.equal((await fetchRaw(`${server.url}/healthz`)).status, 200);
      assert.ok(!log.text.includes(token));
    });

    it('lets a CORS preflight of /graphql through without credentials, nothing else', async () => {
      const { server } = await start({ auth: { kind: 'bearer', token: 'tok-preflight' } });
      const preflight = await fetchRaw(`${server.url}/graphql`, {
        method: 'OPTIONS',
        headers: { Origin: 'https://grafana.example', 'Access-Control-Request-Method': 'POST' },
      });
      assert.equal(preflight.status, 200);
      const plainOptions = await fetchRaw(`${server.url}/graphql`, { method: 'OPTIONS' });
      assert.equal(plainOptions.status, 401);
      const metricsPreflight = await fetchRaw(`${server.url}/metrics`, {
        method: 'OPTIONS',
        headers: { 'Access-Control-Request-Method': 'GET' },
      });
      assert.equal(metricsPreflight.status, 401);
    });
  });

  describe('TLS', () => {
    let dir: string;
    let cert: Buffer;

    before(function () {
      this.timeout(30_000);
      dir = mkdtempSync(join(tmpdir(), 'chanfitness-http-tls-'));
      makeSelfSignedCert(dir);
      cert = readFileSync(join(dir, 'cert.pem'));
    });

    after(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it('serves HTTPS with the given certificate and key', async () => {
      const { server } = await start({
        tls: { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') },
        auth: { kind: 'bearer', token: 'tls-token' },
      });
      assert.ok(server.url.startsWith('https://127.0.0.1:'));
      const metrics = await fetchRaw(`${server.url}/metrics`, {
        ca: cert,
        headers: { Authorization: 'Bearer tls-token' },
      });
      assert.equal(metrics.status, 200);
      parseExposition(metrics.text);
      assert.equal((await fetchRaw(`${server.url}/healthz`, { ca: cert })).text, 'ok\n');
      // Without the CA the certificate is not trusted; plain HTTP gets no answer.
      await assert.rejects(fetchRaw(`${server.url}/healthz`));
      await assert.rejects(fetchRaw(`${server.url.replace('https:', 'http:')}/healthz`));
    });

    it('names the flag of an unreadable or invalid file', async () => {
      await assert.rejects(
        start({ tls: { certFile: join(dir, 'missing.pem'), keyFile: join(dir, 'key.pem') } }),
        (err: unknown) =>
          err instanceof HttpServerError &&
          err.code === 'TLS_FILE_UNREADABLE' &&
          err.message.includes('--web.tls-cert'),
      );
      await assert.rejects(
        start({ tls: { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'cert.pem') } }),
        (err: unknown) => err instanceof HttpServerError && err.code === 'TLS_INVALID',
      );
    });
  });

  describe('listening', () => {
    it('names --web.listen-address when the address is taken', async () => {
      const { server } = await start();
      await assert.rejects(
        start({
          listenAddress: parseListenAddress(`${server.address.host}:${server.address.port}`),
        }),
        (err: unknown) =>
          err instanceof HttpServerError &&
          err.code === 'LISTEN_FAILED' &&
          err.message.includes('--web.listen-address'),
      );
    });

    const hasIPv6Loopback = Object.values(networkInterfaces())
      .flat()
      .some((i) => i?.address === '::1');
    (hasIPv6Loopback ? it : it.skip)('listens on [::1]', async () => {
      const { server } = await start({ listenAddress: parseListenAddress('[::1]:0') });
      assert.equal(server.address.host, '::1');
      assert.ok(server.url.startsWith('http://[::1]:'));
      assert.equal((await fetchRaw(`${server.url}/healthz`)).status, 200);
    });
  });

  // The service listens before it opens its store: the routes that need it come later.
  describe('routes given after the server listens', () => {
    /** A handler settled by the test. */
    function pending<T>(): { promise: Promise<T>; give: (v: T) => void; fail: () => void } {
      let give!: (v: T) => void;
      let fail!: () => void;
      const promise = new Promise<T>((resolve, reject) => {
        give = resolve;
        fail = () => {
          reject(new Error('the store cannot be opened'));
        };
      });
      promise.catch(() => undefined);
      return { promise, give, fail };
    }

    it('holds /metrics and /graphql requests until their handlers are there', async () => {
      const sources = makeSources();
      const exposition = pending<typeof sources.exposition>();
      const graphql = pending<typeof echoGraphql>();
      const { server } = await start({ exposition: exposition.promise, graphql: graphql.promise });
      let answered = 0;
      const scrape = fetchRaw(`${server.url}/metrics`).finally(() => (answered += 1));
      const post = fetchRaw(`${server.url}/graphql`, { method: 'POST', body: '{}' }).finally(
        () => (answered += 1),
      );
      // /healthz answers meanwhile; the two others wait.
      assert.equal((await fetchRaw(`${server.url}/healthz`)).status, 200);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(answered, 0);
      exposition.give(sources.exposition);
      graphql.give(echoGraphql);
      const [metrics, echoed] = await Promise.all([scrape, post]);
      assert.equal(metrics.status, 200);
      assert.match(metrics.text, /^# HELP /m);
      assert.deepEqual(JSON.parse(echoed.text), { method: 'POST', body: '{}' });
    });

    it('answers them 503 when the start fails', async () => {
      const exposition = pending<ReturnType<typeof makeSources>['exposition']>();
      const graphql = pending<typeof echoGraphql>();
      const { server } = await start({ exposition: exposition.promise, graphql: graphql.promise });
      const scrape = fetchRaw(`${server.url}/metrics`);
      const post = fetchRaw(`${server.url}/graphql`, { method: 'POST', body: '{}' });
      await new Promise((resolve) => setTimeout(resolve, 20));
      exposition.fail();
      graphql.fail();
      for (const reply of await Promise.all([scrape, post])) {
        assert.deepEqual([reply.status, reply.text], [503, 'the service did not start\n']);
      }
    });
  });

  describe('GraphiQL', () => {
    const HTML = `<!doctype html><title>GraphiQL</title>${'<p>editor</p>'.repeat(10_000)}`;

    it('renders once, serves browsers from the cache, and leaves other requests to GraphQL', async () => {
      let renders = 0;
      const render = async (): Promise<string> => {
        renders += 1;
        await new Promise((resolve) => setTimeout(resolve, 20));
        return HTML;
      };
      const { server } = await start({ graphiql: render });
      const browser = { accept: 'text/html', 'accept-encoding': 'gzip' };
      const replies = await Promise.all(
        [1, 2, 3].map(() => fetchRaw(`${server.url}/graphql`, { headers: browser })),
      );
      assert.equal(renders, 1);
      for (const reply of replies) {
        assert.equal(reply.status, 200);
        assert.equal(reply.headers['content-encoding'], 'gzip');
        assert.equal(gunzipSync(reply.body).toString(), HTML);
      }
      // Not a browser's GET: GraphQL's.
      const api = await fetchRaw(`${server.url}/graphql`, {
        headers: { accept: 'application/json' },
      });
      assert.deepEqual(JSON.parse(api.text), { method: 'GET', body: '' });
      const post = await fetchRaw(`${server.url}/graphql`, {
        method: 'POST',
        headers: { accept: 'text/html' },
        body: '{}',
      });
      assert.deepEqual(JSON.parse(post.text), { method: 'POST', body: '{}' });
      // If-None-Match with a list and a weak form of the tag.
      const etag = String(replies[0]?.headers.etag);
      const again = await fetchRaw(`${server.url}/graphql`, {
        headers: { ...browser, 'if-none-match': `"other", W/${etag}` },
      });
      assert.equal(again.status, 304);
      assert.equal(renders, 1);
    });

    it('renders again after a failure', async () => {
      let renders = 0;
      const render = (): Promise<string> => {
        renders += 1;
        return renders === 1 ? Promise.reject(new Error('bundle missing')) : Promise.resolve(HTML);
      };
      const { server } = await start({ graphiql: render });
      const url = `${server.url}/graphql`;
      assert.equal((await fetchRaw(url, { headers: { accept: 'text/html' } })).status, 500);
      const reply = await fetchRaw(url, { headers: { accept: 'text/html' } });
      assert.deepEqual([reply.status, reply.text], [200, HTML]);
    });

    it('is behind the credentials of /graphql', async () => {
      const { server } = await start({
        graphiql: () => Promise.resolve(HTML),
        auth: { kind: 'basic', user: 'operator', password: 's3cret-pass' },
      });
      const url = `${server.url}/graphql`;
      assert.equal((await fetchRaw(url, { headers: { accept: 'text/html' } })).status, 401);
      const good = `Basic ${Buffer.from('operator:s3cret-pass').toString('base64')}`;
      const reply = await fetchRaw(url, { headers: { accept: 'text/html', authorization: good } });
      assert.deepEqual([reply.status, reply.text], [200, HTML]);
    });
  });

  describe('close', () => {
    it('lets an in-flight request finish, refusing new connections meanwhile', async () => {
      const entered = deferred();
      const release = deferred();
      const { server } = await start({
        graphql: async (_req, res) => {
          entered.resolve();
          await release.promise;
          res.end('late answer');
        },
      });
      const inFlight = fetchRaw(`${server.url}/graphql`);
      await entered.promise;
      let closed = false;
      const closing = server.close().then(() => {
        closed = true;
      });
      await assert.rejects(fetchRaw(`${server.url}/healthz`), { code: 'ECONNREFUSED' });
      assert.equal(closed, false);
      release.resolve();
      const reply = await inFlight;
      assert.equal(reply.status, 200);
      assert.equal(reply.text, 'late answer');
      await closing;
      assert.equal(closed, true);
    });

    it('cuts requests still running at the close timeout', async () => {
      const entered = deferred();
      const clock = new TestClock(TEST_NOW);
      const { server, log } = await start({
        closeTimeoutMs: 5_000,
        clock,
        graphql: () => {
          entered.resolve();
          // Never answers.
        },
      });
      const hanging = assert.rejects(fetchRaw(`${server.url}/graphql`));
      await entered.promise;
      const closing = server.close();
      await clock.tickAsync(5_000 - 1);
      assert.ok(!log.text.includes('still running at the close timeout'), 'not before the timeout');
      await clock.tickAsync(1);
      await closing;
      await hanging;
      assert.ok(log.text.includes('still running at the close timeout'));
    });

    it('closes kept-alive connections, idle or busy, without waiting for the timeout', async function () {
      this.timeout(5_000);
      const entered = deferred();
      const release = deferred();
      const { server } = await start({
        closeTimeoutMs: 60_000,
        graphql: async (_req, res) => {
          entered.resolve();
          await release.promise;
          res.end('done');
        },
      });
      const agent = new Agent({ keepAlive: true, maxSockets: 2 });
      const get = (path: string): Promise<{ status: number; connection: string | undefined }> =>
        new Promise((resolve, reject) => {
          const req = request(`${server.url}${path}`, { agent }, (res) => {
            res.resume();
            res.on('end', () => {
              resolve({ status: res.statusCode ?? 0, connection: res.headers.connection });
            });
          });
          req.on('error', reject);
          req.end();
        });
      // One connection left idle, one busy when close() starts.
      assert.equal((await get('/healthz')).connection, 'keep-alive');
      const busy = get('/graphql');
      await entered.promise;
      const closing = server.close();
      release.resolve();
      assert.equal((await busy).status, 200);
      await closing;
      agent.destroy();
    });

    it('is idempotent: every call is the one close, which lets the port go', async () => {
      const { server } = await start();
      const first = server.close();
      const second = server.close();
      assert.equal(second, first, 'a second call while closing is the same close');
      await first;
      assert.equal(server.close(), first, 'a call after it is the same, settled close');
      await assert.rejects(fetchRaw(`${server.url}/healthz`), /ECONNREFUSED/);
    });
  });

  it('survives a client that goes away in the middle of a scrape', async () => {
    const { server, sources, log } = await start();
    populate(sources, 'alice', 50_000, 5_000);
    for (const encoding of ['identity', 'gzip']) {
      await new Promise<void>((resolve, reject) => {
        const req = request(
          `${server.url}/metrics`,
          { agent: false, headers: { 'Accept-Encoding': encoding } },
          (res) => {
            res.once('data', () => {
              req.destroy();
              resolve();
            });
          },
        );
        req.on('error', (err: NodeJS.ErrnoException) => {
          if (err.code !== 'ECONNRESET') reject(err);
        });
        req.end();
      });
      await log.waitFor('scrape aborted');
      log.lines.length = 0;
    }
    const after = await fetchRaw(`${server.url}/healthz`);
    assert.equal(after.status, 200);
  });
});

describe('HTTP server with graphql-yoga on /graphql', () => {
  it('serves a yoga instance behind the access control', async () => {
    const yoga = createYoga({
      schema: createSchema({
        typeDefs: 'type Query { hello: String! }',
        resolvers: { Query: { hello: () => 'world' } },
      }),
      logging: false,
    });
    const sources = makeSources();
    const server = await createHttpServer({
      listenAddress: LOOPBACK,
      exposition: sources.exposition,
      graphql: yoga,
      readiness: () => ({ ready: true, reasons: [] }),
      logger: new CapturedLog().logger,
      auth: { kind: 'bearer', token: 'yoga-token' },
    });
    try {
      const body = JSON.stringify({ query: '{ hello }' });
      const headers = { 'Content-Type': 'application/json', Authorization: 'Bearer yoga-token' };
      const reply = await fetchRaw(`${server.url}/graphql`, { method: 'POST', headers, body });
      assert.equal(reply.status, 200);
      assert.deepEqual(JSON.parse(reply.text), { data: { hello: 'world' } });
      const denied = await fetchRaw(`${server.url}/graphql`, { method: 'POST', body });
      assert.equal(denied.status, 401);
    } finally {
      await server.close();
    }
  });
});
