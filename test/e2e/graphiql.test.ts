import assert from 'node:assert/strict';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { ExporterProcess } from '../support/exporter-process.js';
import { fetchRaw, type Reply } from '../http/helpers.js';
import { query } from './support.js';

const MiB = 1024 * 1024;
/** What a browser sends when it opens /graphql. */
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

/**
 * GraphiQL inlines its whole editor: about 9 MB of HTML on every visit. Served
 * compressed (brotli or gzip, as the browser accepts), with an ETag, so that a
 * browser that has it revalidates it with a 304 instead of downloading it again.
 */
describe('GraphiQL on /graphql', function () {
  this.timeout(60_000);
  let exporter: ExporterProcess;

  before(async () => {
    exporter = await ExporterProcess.start({ args: ['--nats.url=nats://127.0.0.1:1'] });
  });

  after(async () => {
    await exporter.dispose();
  });

  const page = (headers: Record<string, string> = {}): Promise<Reply> =>
    fetchRaw(`${exporter.url}/graphql`, { headers: { accept: BROWSER_ACCEPT, ...headers } });

  it('is compressed as the browser accepts, cacheable, and 304 once the browser has it', async () => {
    const plain = await page();
    assert.equal(plain.status, 200);
    assert.equal(plain.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.ok(plain.body.length > 8 * MiB, `the page is ${plain.body.length} bytes`);
    assert.match(plain.text, /<title>chanfitness-exporter<\/title>/);
    assert.equal(plain.headers['cache-control'], 'private, no-cache');
    assert.equal(plain.headers.vary, 'Accept, Accept-Encoding');

    const gzipped = await page({ 'accept-encoding': 'gzip' });
    assert.equal(gzipped.status, 200);
    assert.equal(gzipped.headers['content-encoding'], 'gzip');
    assert.equal(Number(gzipped.headers['content-length']), gzipped.body.length);
    assert.ok(gzipped.body.length < 2.5 * MiB, `gzip: ${gzipped.body.length} bytes`);
    assert.ok(gunzipSync(gzipped.body).equals(plain.body), 'gzip decodes to the page');

    // A browser's header: brotli, the smaller, is preferred.
    const brotli = await page({ 'accept-encoding': 'gzip, deflate, br, zstd' });
    assert.equal(brotli.status, 200);
    assert.equal(brotli.headers['content-encoding'], 'br');
    assert.ok(brotli.body.length < 2 * MiB, `br: ${brotli.body.length} bytes`);
    assert.ok(brotliDecompressSync(brotli.body).equals(plain.body), 'brotli decodes to the page');

    // One tag per representation, each stable across requests.
    const tags = [plain, gzipped, brotli].map((r) => r.headers.etag);
    for (const tag of tags) assert.match(String(tag), /^"[A-Za-z0-9_-]+(-gzip|-br)?"$/);
    assert.equal(new Set(tags).size, 3, JSON.stringify(tags));
    assert.equal((await page({ 'accept-encoding': 'gzip' })).headers.etag, gzipped.headers.etag);

    const revalidated = await page({
      'accept-encoding': 'gzip',
      'if-none-match': String(gzipped.headers.etag),
    });
    assert.equal(revalidated.status, 304);
    assert.equal(revalidated.body.length, 0);
    assert.equal(revalidated.headers.etag, gzipped.headers.etag);
    assert.equal(revalidated.headers['cache-control'], 'private, no-cache');

    // A tag of another version of the page: the page again.
    const stale = await page({ 'accept-encoding': 'gzip', 'if-none-match': '"older-gzip"' });
    assert.equal(stale.status, 200);
    assert.ok(gunzipSync(stale.body).equals(plain.body));
  });

  it('leaves the API to GraphQL on the same path', async () => {
    const data = await query<{ __typename: string }>(exporter, '{ __typename }');
    assert.deepEqual(data, { __typename: 'Query' });
  });

  it('is not served with --no-graphql.graphiql', async () => {
    const closed = await ExporterProcess.start({
      args: ['--nats.url=nats://127.0.0.1:1', '--no-graphql.graphiql'],
    });
    try {
      const reply = await fetchRaw(`${closed.url}/graphql`, {
        headers: { accept: BROWSER_ACCEPT, 'accept-encoding': 'gzip' },
      });
      assert.doesNotMatch(String(reply.headers['content-type']), /text\/html/);
      assert.equal(reply.headers.etag, undefined);
    } finally {
      await closed.dispose();
    }
  });
});
