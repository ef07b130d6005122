import type { DocumentNode } from 'graphql';
import type { Plugin, YogaServerOptions } from 'graphql-yoga';
import { BoundedCache, type CacheBounds } from './bounded-cache.js';

/**
 * Bounds of the per-document caches. Each distinct document a client sends
 * is parsed, validated, compiled and verified once, and kept for its repeats:
 * without bounds on bytes, distinct documents (a varied alias is enough) grow
 * the heap without end.
 */
export interface DocumentCacheBounds {
  /** yoga's parsed documents (and through them their validation results), by source text. */
  readonly parsed: CacheBounds;
  /** yoga's parse errors, by source text. */
  readonly parseErrors: CacheBounds;
  /**
   * graphql-jit's compiled queries by source text, and, with a bound of their
   * own as large, the operations verified for the compiled fast path.
   */
  readonly compiled: CacheBounds;
}

const KIB = 1024;
const MIB = 1024 * KIB;

/*
 * What a cached entry keeps alive, estimated from its source length. Measured
 * as the heap growth (after a full GC) per distinct document over hundreds of
 * them, with the default limits, and rounded up:
 * - a parsed document: its AST with its tokens, 2.5 KB plus 63 bytes a
 *   character, up to 165 for the densest selections (`id id id …`);
 * - a validation error, 3 to 4 KB (its message, locations and captured stack),
 *   at most 101 a document (graphql-js's maxErrors and its last);
 * - a compiled document: graphql-jit's compiled query with parts of the AST
 *   it keeps, 27 KB (20 characters) to 990 bytes a character (dense
 *   selections, fragments spread under 14 aliases), measured with a
 *   serializer compiled per operation beside it (since removed): an upper
 *   bound;
 * - a parse error: 3 KB plus 45 bytes a character (its captured stack keeps
 *   the parser and the tokens read).
 */
const PARSED_BYTES_FIXED = 4 * KIB;
const PARSED_BYTES_PER_CHAR = 192;
const VALIDATION_ERROR_BYTES = 4 * KIB;
const COMPILED_BYTES_FIXED = 24 * KIB;
const COMPILED_BYTES_PER_CHAR = KIB;
const PARSE_ERROR_BYTES_FIXED = 8 * KIB;
const PARSE_ERROR_BYTES_PER_CHAR = 64;

/** The bytes a parsed document is estimated to keep alive, from its source length. */
export function parsedBytes(source: string): number {
  return PARSED_BYTES_FIXED + PARSED_BYTES_PER_CHAR * source.length;
}

/**
 * The bytes a compiled document (its compiled query, or its verified
 * operation) is estimated to keep alive, its AST included.
 */
export function compiledBytes(source: string): number {
  return COMPILED_BYTES_FIXED + COMPILED_BYTES_PER_CHAR * source.length;
}

/** The bytes a parse error is estimated to keep alive, from its source length. */
export function parseErrorBytes(source: string): number {
  return PARSE_ERROR_BYTES_FIXED + PARSE_ERROR_BYTES_PER_CHAR * source.length;
}

/**
 * 12 MiB each of parsed documents, compiled queries and verified operations,
 * and 2 MiB of parse errors: at most 38 MiB estimated in all, and in fact
 * about a third of it, since the three document caches mostly hold the same
 * documents, which keep the same compiled query and AST alive. 12 MiB keeps
 * 280 compiled documents of 20 characters, 42 of GraphiQL's default query
 * (262), 4 of 2,500. The entry bounds bind first only for parsed documents
 * under about 100 characters (512 of them): they bound the maps themselves.
 */
export const DEFAULT_DOCUMENT_CACHE_BOUNDS: DocumentCacheBounds = {
  parsed: { maxEntries: 512, maxBytes: 12 * MIB },
  parseErrors: { maxEntries: 512, maxBytes: 2 * MIB },
  compiled: { maxEntries: 512, maxBytes: 12 * MIB },
};

type ParserAndValidationCacheOptions = Exclude<
  NonNullable<YogaServerOptions<object, object>['parserAndValidationCache']>,
  boolean
>;

/** The source text of a parsed document: the key of yoga's parse cache. */
function sourceOf(document: DocumentNode): string | undefined {
  return document.loc?.source.body;
}

/**
 * yoga's parse and validation caches, bounded. What a parsed document keeps
 * alive grows after it is cached: yoga keeps its validation result in a
 * WeakMap keyed by the document, and graphql-jit its compiled query; each
 * is added to the document's estimate when it is made.
 */
export class ParseCaches {
  readonly documents: BoundedCache<DocumentNode>;
  readonly errors: BoundedCache<unknown>;

  constructor(readonly bounds: DocumentCacheBounds) {
    this.documents = new BoundedCache(bounds.parsed, parsedBytes);
    this.errors = new BoundedCache(bounds.parseErrors, parseErrorBytes);
  }

  /** yoga's `parserAndValidationCache` option. */
  yogaOptions(): ParserAndValidationCacheOptions {
    return { documentCache: this.documents, errorCache: this.errors, validationCache: true };
  }

  /**
   * Whether graphql-jit is to compile a document (its enableIf): only when the
   * compiled query can be kept; a query compiled for one use costs more than
   * it saves. The parsed document then weighs what its compiled query does.
   */
  compiles(document: DocumentNode): boolean {
    const source = sourceOf(document);
    if (source === undefined) return true;
    const bytes = compiledBytes(source);
    if (bytes > this.bounds.compiled.maxBytes) return false;
    this.documents.reweigh(source, Math.max(bytes, parsedBytes(source)));
    return true;
  }

  /**
   * Adds a document's validation errors to its estimate. A cached result is
   * seen again at each of its uses: reweigh does nothing then.
   */
  plugin(): Plugin {
    const documents = this.documents;
    return {
      onValidate({ params }) {
        // envelop types the document as any.
        const source = sourceOf(params.documentAST as DocumentNode);
        if (source === undefined) return undefined;
        return ({ valid, result }) => {
          if (valid) return;
          const errors = (result as readonly unknown[]).length;
          documents.reweigh(source, parsedBytes(source) + VALIDATION_ERROR_BYTES * errors);
        };
      },
    };
  }
}
