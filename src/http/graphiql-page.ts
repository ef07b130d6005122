import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlibConstants, gzip } from 'node:zlib';
import { CodedError } from '../errors.js';
import { preferredCoding, type ContentCoding } from './accept-encoding.js';

/** Renders the page; called once (again only after a failure). */
export type RenderPage = () => Promise<string>;

/** A request handler with a fetch interface, as graphql-yoga's instance has. */
export type FetchHandler = (url: string, init: RequestInit) => Response | Promise<Response>;

/** The GraphiQL page could not be had from the GraphQL server. */
export class GraphiQLPageError extends CodedError<'GRAPHIQL_UNAVAILABLE'> {}

/** Brotli first: on this page it gives 1.9 MB where gzip gives 2.4 MB (of 9 MB). */
const CODINGS: readonly ContentCoding[] = ['br', 'gzip'];
/**
 * The page only changes with the package, but its URL does not: the browser
 * keeps it and asks each time whether it changed (a 304 of a few hundred bytes).
 * Private: /graphql may sit behind credentials.
 */
const CACHE_CONTROL = 'private, no-cache';
/** /graphql answers JSON to API clients and this page to browsers, each compressed or not. */
const VARY = 'Accept, Accept-Encoding';

const compressors: Record<ContentCoding, (page: Buffer) => Promise<Buffer>> = {
  // Once per process, in a worker thread: quality 9 takes about 1 s for 50 KB less
  // than quality 6 (0.3 s); 11 would take about 15 s of the first visit.
  br: (page) =>
    promisify(brotliCompress)(page, {
      params: {
        [zlibConstants.BROTLI_PARAM_QUALITY]: 9,
        [zlibConstants.BROTLI_PARAM_MODE]: zlibConstants.BROTLI_MODE_TEXT,
        [zlibConstants.BROTLI_PARAM_SIZE_HINT]: page.length,
      },
    }),
  gzip: (page) => promisify(gzip)(page, { level: zlibConstants.Z_BEST_COMPRESSION }),
};

interface Rendered {
  readonly body: Buffer;
  /** From the content: a new package version (or other options) is a new tag. */
  readonly tag: string;
}

/**
 * Whether a request is a browser asking for GraphiQL: the test graphql-yoga
 * applies (a GET whose Accept names text/html), so that this page is served
 * exactly where yoga would render it.
 */
export function wantsGraphiQL(req: IncomingMessage): boolean {
  return req.method === 'GET' && (req.headers.accept ?? '').includes('text/html');
}

/**
 * GraphiQL's page is about 9 MB of HTML (the whole editor inlined, so that it
 * works offline), the same on every visit: rendered once, on the first visit
 * (not at start), each compression made once on the first request that asks
 * for it, and sent with an ETag so that a browser that has it gets a 304.
 */
export class GraphiQLPage {
  private rendered: Promise<Rendered> | undefined;
  private readonly encoded = new Map<ContentCoding, Promise<Buffer>>();

  constructor(private readonly render: RenderPage) {}

  async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const page = await this.page();
    const coding = preferredCoding(req.headers['accept-encoding'], CODINGS);
    // One tag per representation: a gzip body is not byte for byte the brotli one.
    const etag = `"${page.tag}${coding === undefined ? '' : `-${coding}`}"`;
    const headers = {
      'Content-Type': 'text/html; charset=utf-8',
      ETag: etag,
      'Cache-Control': CACHE_CONTROL,
      Vary: VARY,
    };
    if (notModified(req.headers['if-none-match'], etag)) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const body = coding === undefined ? page.body : await this.encode(coding, page.body);
    res.writeHead(200, {
      ...headers,
      ...(coding === undefined ? {} : { 'Content-Encoding': coding }),
      'Content-Length': body.length,
    });
    res.end(body);
  }

  private page(): Promise<Rendered> {
    this.rendered ??= this.render().then(
      (html) => {
        const body = Buffer.from(html, 'utf8');
        const tag = createHash('sha256').update(body).digest('base64url').slice(0, 27);
        return { body, tag };
      },
      (err: unknown) => {
        // Tried again on the next visit rather than failing for the life of the process.
        this.rendered = undefined;
        throw err;
      },
    );
    return this.rendered;
  }

  private encode(coding: ContentCoding, body: Buffer): Promise<Buffer> {
    let encoded = this.encoded.get(coding);
    if (encoded === undefined) {
      encoded = compressors[coding](body);
      // Tried again by the next request rather than failing for the life of the process.
      encoded.catch(() => {
        this.encoded.delete(coding);
      });
      this.encoded.set(coding, encoded);
    }
    return encoded;
  }
}

/**
 * The page a GraphQL server renders for a browser on `url`, asked of it
 * directly: its GraphiQL options stay where the server is made.
 */
export async function renderedBy(handler: FetchHandler, url: string): Promise<string> {
  const response = await handler(url, { headers: { accept: 'text/html' } });
  const type = response.headers.get('content-type') ?? '';
  if (response.status !== 200 || !type.startsWith('text/html')) {
    throw new GraphiQLPageError(
      'GRAPHIQL_UNAVAILABLE',
      `the GraphQL server answered ${response.status} (${type}) instead of GraphiQL`,
    );
  }
  return response.text();
}

/** Whether If-None-Match (`*`, or tags, W/ or not: compared weakly, RFC 9110) names the tag. */
function notModified(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === '*' || tag === etag);
}
