import assert from 'node:assert/strict';

export interface GraphQLAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly data: unknown;
  readonly errors: readonly { message: string; extensions?: { code?: string } }[];
}

/** POSTs one query to /graphql over plain HTTP; the answer must be a GraphQL (JSON) one. */
export async function postGraphQL(
  baseUrl: string,
  query: string,
  headers: Record<string, string> = {},
): Promise<GraphQLAnswer> {
  const res = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  const text = await res.text();
  let body: { data?: unknown; errors?: GraphQLAnswer['errors'] };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    assert.fail(`/graphql answered ${res.status} with a body that is not JSON: ${text}`);
  }
  return { status: res.status, headers: res.headers, data: body.data, errors: body.errors ?? [] };
}
