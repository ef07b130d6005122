import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log/logger.js';

export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly text: string;
}

export interface RequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** CA for https URLs. */
  readonly ca?: Buffer;
}

/** One request on a fresh connection, the whole body read. */
export function fetchRaw(url: string, options: RequestOptions = {}): Promise<Reply> {
  const request = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: false,
        ...(options.ca === undefined ? {} : { ca: options.ca }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            text: body.toString(),
          });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A logger whose JSON lines the test can read. */
export class CapturedLog {
  readonly lines: string[] = [];
  readonly logger: Logger;
  private readonly waiters: { match: (line: string) => boolean; resolve: () => void }[] = [];

  constructor() {
    const destination = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        for (const line of chunk.toString().split('\n')) {
          if (line === '') continue;
          this.lines.push(line);
          for (const waiter of [...this.waiters]) {
            if (!waiter.match(line)) continue;
            this.waiters.splice(this.waiters.indexOf(waiter), 1);
            waiter.resolve();
          }
        }
        done();
      },
    });
    this.logger = createLogger({ level: 'debug', format: 'json', destination });
  }

  get text(): string {
    return this.lines.join('\n');
  }

  /** Resolves when a line containing `fragment` has been logged. */
  waitFor(fragment: string): Promise<void> {
    if (this.lines.some((l) => l.includes(fragment))) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push({ match: (line) => line.includes(fragment), resolve });
    });
  }
}

/** A promise with its resolve function outside. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
