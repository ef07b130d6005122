import { strict as assert } from 'node:assert';
import { Harness, channelPoint, pubkey, T0, HOUR } from '../../test/graphql/harness.js';
const Q = `query C($cp: String!) { channel(channelPoint: $cp) { channelPoint uptimeSeconds lifetimeSeconds peer { pubkey } } }`;
describe('compiled operations fast path', () => {
  it('answers repeats like the first, and errors through the ordinary path', async () => {
    const h = new Harness();
    await h.open(pubkey(1), channelPoint(1), T0);
    h.clock.set(T0 + HOUR);
    const a = await h.query(Q, { cp: channelPoint(1) });
    const b = await h.query(Q, { cp: channelPoint(1) });
    assert.deepEqual(a, b);
    assert.equal(a.status, 200);
    // same document, now an error: CHANNEL_NOT_FOUND with its code
    const e = await h.query(Q, { cp: channelPoint(2) });
    assert.equal(e.errors?.[0]?.extensions?.code, 'CHANNEL_NOT_FOUND', JSON.stringify(e));
    // malformed argument through the same document
    const bad = await h.query(Q, { cp: 'nope' });
    assert.equal(bad.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(bad));
    // wrong variable type: the ordinary path's coercion error
    const coerce = await h.query(Q, { cp: 42 });
    const coerceFresh = await new Harness().query(Q, { cp: 42 });
    assert.deepEqual(coerce, coerceFresh);
    // unexpected error masked
    const store = h.store();
    const orig = store.channelInfo.bind(store);
    store.channelInfo = () => {
      throw new Error('boom');
    };
    const masked = await h.query(Q, { cp: channelPoint(1) });
    assert.equal(masked.errors?.[0]?.message, 'Unexpected error.', JSON.stringify(masked));
    store.channelInfo = orig;
    const again = await h.query(Q, { cp: channelPoint(1) });
    assert.deepEqual(again, a);
    // the log got the masked error
    assert.ok(
      h.log.lines().some((l) => typeof l.msg === 'string' && l.msg.includes('unexpectedly')),
      'logged',
    );
  });

  it('answers repeats with the same bytes as the first answer, whatever the operation', async () => {
    const h = new Harness();
    const s = h.store();
    s.peerEvent(pubkey(1), true, T0);
    await h.open(pubkey(1), channelPoint(1), T0);
    await h.open(pubkey(2), channelPoint(2), T0 + HOUR);
    s.peerEvent(pubkey(1), false, T0 + HOUR);
    h.clock.set(T0 + 2 * HOUR);
    const queries: [string, Record<string, unknown>?][] = [
      [
        '{ channels { totalCount nodes { channelPoint uptimeRatio lifetimeSeconds uptimeSeconds peer { pubkey flapCount online } } pageInfo { endCursor hasNextPage } } }',
      ],
      [
        'query P($first: Int) { channels(first: $first) { nodes { ...C other: node __typename } } } fragment C on Channel { node openedAt onlinePeriods { start end } uptime(from: "2024-05-01T00:30:00Z") { from to ratio } }',
        { first: 1 },
      ],
      [
        '{ peer(pubkey: "' +
          pubkey(1) +
          '") { lastFlap channels { channelPoint peer { pubkey } } } nodes { id channelCount } }',
      ],
      ['query($x: Boolean!) { nodes { id @include(if: $x) peerCount } }', { x: true }],
      ['query One { nodes { id } } query Two { channels { totalCount } }'],
    ];
    for (const [query, variables] of queries) {
      const body = {
        query,
        variables,
        ...(query.startsWith('query One') ? { operationName: 'Two' } : {}),
      };
      const texts: string[] = [];
      for (let i = 0; i < 3; i++) texts.push(await (await h.post(body)).text());
      assert.ok(texts[0]!.startsWith('{"data":'), texts[0]);
      assert.deepEqual(texts, [texts[0], texts[0], texts[0]], query);
    }
  });
});
