import { IncomingMessage } from 'node:http';
import { createGraphQLError, type Plugin } from 'graphql-yoga';

const CONTENT_LENGTH = /^\d+$/;

function tooLarge(): Error {
  return createGraphQLError('Request body too large', {
    extensions: { http: { status: 413 }, code: 'REQUEST_ENTITY_TOO_LARGE' },
  });
}

function badContentLength(): Error {
  return createGraphQLError('Content-Length header is invalid.', {
    extensions: { http: { status: 400 }, code: 'BAD_REQUEST' },
  });
}

interface FetchApi {
  readonly Request: typeof Request;
  readonly TransformStream: typeof TransformStream;
}

/** The request with its body cut off (413) once it passes limit bytes. */
function limitBody(request: Request, limit: number, fetchAPI: FetchApi): Request {
  const body = request.body;
  if (body === null) return request;
  // A native stream needs the native TransformStream, the ponyfill's its own.
  const Transform = body instanceof ReadableStream ? TransformStream : fetchAPI.TransformStream;
  let bytes = 0;
  const limited = body.pipeThrough(
    new Transform<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        bytes += chunk.byteLength;
        if (bytes > limit) {
          controller.error(tooLarge());
          return;
        }
        controller.enqueue(chunk);
      },
    }),
  );
  return new fetchAPI.Request(request.url, {
    method: request.method,
    headers: request.headers,
    signal: request.signal,
    body: limited,
    duplex: 'half',
  } as RequestInit);
}

/**
 * yoga's request body limit (same errors: 400 for a malformed Content-Length,
 * 413 past the limit), without its cost on the common path. yoga pipes every
 * body through a counting TransformStream; a stream pipeline per request
 * (with an AbortController and a DOMException each) was about a tenth of a
 * small query's CPU. A request that node:http parsed with a valid
 * Content-Length within the limit cannot carry more (node's parser stops at
 * that length), so only bodies without one (chunked), or requests that did
 * not come through node:http, are counted as they stream.
 *
 * Must come after the request parsers (yoga registers its own first), with
 * yoga's maxRequestBodySize set to false.
 */
export function useRequestBodyLimit(limit: number): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, serverContext, fetchAPI }) {
      const header = request.headers.get('content-length');
      if (header !== null) {
        if (!CONTENT_LENGTH.test(header)) throw badContentLength();
        if (Number(header) > limit) throw tooLarge();
        const fromNode = (serverContext as { req?: unknown }).req instanceof IncomingMessage;
        if (fromNode) return;
      }
      if (requestParser === undefined || request.body === null) return;
      const parse = requestParser;
      setRequestParser((req) => parse(limitBody(req, limit, fetchAPI)));
    },
  };
}
