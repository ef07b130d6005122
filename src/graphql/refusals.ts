import {
  GraphQLError,
  Kind,
  type ASTNode,
  type ASTVisitor,
  type DocumentNode,
  type GraphQLSchema,
  type OperationTypeNode,
  type ValidationContext,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** The `extensions.code` of a request refused as a whole (HTTP 400, or 406 for EVENT_STREAM_REQUIRED). */
export const REFUSAL_CODES = [
  'OPERATION_NOT_SUPPORTED',
  'TOO_MANY_VALIDATION_ERRORS',
  'DOCUMENT_TOO_COMPLEX',
  'EVENT_STREAM_REQUIRED',
] as const;
export type RefusalCode = (typeof REFUSAL_CODES)[number];

/**
 * graphql-js's validation bounds (graphql 16, not configurable through yoga):
 * `validate` stops after maxErrors errors; OverlappingFieldsCanBeMergedRule
 * gives up after a budget of comparisons of same-named fields, and the
 * validation context after a budget of fragment spreads followed. The tests
 * check these figures against the installed graphql.
 */
export const GRAPHQL_JS_MAX_ERRORS = 100;
export const GRAPHQL_JS_FIELD_COMPARISONS = 500_000;
export const GRAPHQL_JS_FRAGMENT_SPREADS = 50_000;

/** graphql-js's last error when it stops at maxErrors. */
const TOO_MANY_ERRORS = 'Too many validation errors, error limit reached. Validation aborted.';
/** graphql-js's error when a budget runs out. */
const ABORTED = 'Validation aborted.';

/**
 * A client error about the request as a whole: 400 for every client,
 * including application/json ones (yoga answers those 200 for errors marked
 * `spec`, which its validation errors are; `spec: false` keeps this one out of
 * that rule). Nothing is logged: it is not the exporter's fault.
 */
export function refusal(
  code: RefusalCode,
  message: string,
  nodes?: ASTNode | readonly ASTNode[],
  status = 400,
): GraphQLError {
  return new GraphQLError(message, {
    nodes,
    extensions: { code, http: { status, spec: false } },
  });
}

/**
 * Whether an Accept header lets a subscription be answered: yoga streams
 * subscriptions as server-sent events only. Without the header (or with an
 * empty one) any type is acceptable, as yoga reads it; a type with `q=0` is not.
 */
export function acceptsEventStream(accept: string | null): boolean {
  if (accept === null || accept.trim() === '') return true;
  for (const range of accept.toLowerCase().split(',')) {
    const [type = '', ...params] = range.split(';').map((part) => part.trim());
    if (type !== 'text/event-stream' && type !== 'text/*' && type !== '*/*') continue;
    const q = params.find((param) => param.startsWith('q='));
    if (q === undefined || Number(q.slice(2)) > 0) return true;
  }
  return false;
}

/**
 * A subscription asked for as JSON: yoga would answer 406 with an empty body,
 * which says nothing of the header to send.
 */
function eventStreamRequired(): GraphQLError {
  return refusal(
    'EVENT_STREAM_REQUIRED',
    'a subscription is answered as a stream of server-sent events: ' +
      'send it with the header Accept: text/event-stream',
    undefined,
    406,
  );
}

const OPERATION_PLURALS: Record<OperationTypeNode, string> = {
  query: 'queries',
  mutation: 'mutations',
  subscription: 'subscriptions',
};

function unsupportedOperation(operation: OperationTypeNode, node: ASTNode): GraphQLError {
  return refusal(
    'OPERATION_NOT_SUPPORTED',
    `this API has no ${OPERATION_PLURALS[operation]}: its schema has no ${operation} type`,
    node,
  );
}

/**
 * Refuses operations whose root type the schema lacks (graphql 16 has no such
 * rule: such an operation failed in graphql-jit's compiler, a 500 and an
 * error-level log line per request).
 */
function KnownRootTypesRule(context: ValidationContext): ASTVisitor {
  return {
    OperationDefinition(node) {
      if (context.getSchema().getRootType(node.operation) === undefined) {
        context.reportError(unsupportedOperation(node.operation, node));
      }
    },
  };
}

function isDocument(value: unknown): value is DocumentNode {
  return (value as Partial<DocumentNode> | null)?.kind === Kind.DOCUMENT;
}

function tooManyErrors(): GraphQLError {
  return refusal(
    'TOO_MANY_VALIDATION_ERRORS',
    `validation stopped after ${GRAPHQL_JS_MAX_ERRORS} errors (graphql-js's maxErrors): ` +
      'the document has more errors than the ones listed',
  );
}

function tooComplex(): GraphQLError {
  return refusal(
    'DOCUMENT_TOO_COMPLEX',
    'validation aborted: checking the document took more than graphql-js allows ' +
      `(${GRAPHQL_JS_FIELD_COMPARISONS.toLocaleString('en-US')} comparisons of same-named fields, ` +
      `or ${GRAPHQL_JS_FRAGMENT_SPREADS.toLocaleString('en-US')} fragment spreads followed); ` +
      'repeated fields or fragment spreads are the usual cause',
  );
}

/** The validation errors with graphql-js's bare abort errors replaced by explained refusals. */
function explainAborts(errors: readonly unknown[]): unknown[] | undefined {
  const last = errors.at(-1);
  if (!(last instanceof GraphQLError) || last.nodes !== undefined) return undefined;
  if (last.message === TOO_MANY_ERRORS) return [...errors.slice(0, -1), tooManyErrors()];
  if (last.message === ABORTED) return [...errors.slice(0, -1), tooComplex()];
  return undefined;
}

/**
 * Clear client errors, never logged above debug, for documents that are the
 * client's fault but failed obscurely or as our fault: operations of a type
 * the schema has none of (a mutation by GET too, which yoga would answer 405
 * "Can only perform a mutation operation from a POST request."), and
 * graphql-js's bare "Validation aborted." answers, which now say which bound
 * was reached; and subscriptions that do not accept server-sent events (406,
 * which yoga would send with an empty body). All are refusals (400 but that
 * one); the validation ones are cached with the document's validation result.
 */
export function useRefusals(schema: GraphQLSchema): Plugin {
  return {
    onSubscribe({ args, setResultAndStopExecution }) {
      const request = (args.contextValue as { request?: { headers?: Headers } }).request;
      const accept = request?.headers?.get('accept') ?? null;
      if (!acceptsEventStream(accept))
        setResultAndStopExecution({ errors: [eventStreamRequired()] });
    },
    onParse() {
      // Before yoga's check of mutations by GET, which runs later in the same phase.
      return ({ result, context }) => {
        const method = (context as { request?: { method?: unknown } }).request?.method;
        if (method !== 'GET' || !isDocument(result)) return;
        for (const definition of result.definitions) {
          if (
            definition.kind === Kind.OPERATION_DEFINITION &&
            schema.getRootType(definition.operation) === undefined
          ) {
            throw unsupportedOperation(definition.operation, definition);
          }
        }
      };
    },
    onValidate({ addValidationRule }) {
      addValidationRule(KnownRootTypesRule);
      return ({ valid, result, setResult }) => {
        if (valid) return;
        const explained = explainAborts(result as readonly unknown[]);
        if (explained !== undefined) setResult(explained);
      };
    },
  };
}
