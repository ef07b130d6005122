import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildASTSchema,
  isEnumType,
  isObjectType,
  lexicographicSortSchema,
  parse,
  printSchema,
  visit,
  type GraphQLSchema,
} from 'graphql';
import { API_ERROR_CODES } from '../../src/graphql/errors.js';
import { loadSchemaSource, SCHEMA_PATH } from '../../src/graphql/schema-file.js';

/** SPEC section 6, verbatim. */
const SPEC_SDL = `
scalar DateTime   # RFC 3339, UTC

type Query {
  nodes: [Node!]!
  # node may be omitted while exactly one node is tracked
  channel(channelPoint: String!, node: String): Channel
  channels(node: String, peer: String, orderBy: ChannelOrder = UPTIME_RATIO_ASC,
           first: Int = 100, after: String): ChannelConnection!
  peer(pubkey: String!, node: String): Peer
  peers(node: String, orderBy: PeerOrder = FLAP_COUNT_DESC, first: Int = 100,
        after: String): PeerConnection!     # every monitored peer, channels or not
}
type Node { id: String!  channelCount: Int!  peerCount: Int!  onlinePeerCount: Int! }
type Channel {
  node: String!  channelPoint: String!  peer: Peer!
  openedAt: DateTime!  lifetimeSeconds: Float!  uptimeSeconds: Float!
  uptimeRatio: Float                                  # null while lifetime is 0
  uptime(from: DateTime!, to: DateTime): UptimeWindow!  # to defaults to now; clamped to [openedAt, now]
  onlinePeriods(from: DateTime, to: DateTime): [OnlinePeriod!]!  # clipped to the lifetime and window
}
type UptimeWindow { from: DateTime!  to: DateTime!  uptimeSeconds: Float!  ratio: Float }
type OnlinePeriod { start: DateTime!  end: DateTime  }   # end null while still online
type Peer {
  node: String!  pubkey: String!  tracked: Boolean!  online: Boolean
  flapCount: Int!  lastFlap: DateTime  channels: [Channel!]!
}
enum ChannelOrder { UPTIME_RATIO_ASC UPTIME_RATIO_DESC LIFETIME_DESC FLAP_COUNT_DESC }
enum PeerOrder { FLAP_COUNT_DESC LAST_FLAP_DESC UPTIME_RATIO_ASC }
type PeerConnection { nodes: [Peer!]!  totalCount: Int!  pageInfo: PageInfo! }
type ChannelConnection { nodes: [Channel!]!  totalCount: Int!  pageInfo: PageInfo! }
type PageInfo { endCursor: String  hasNextPage: Boolean! }
`;

/** The schema without descriptions, sorted, printed: what clients depend on. */
function shape(sdl: string): string {
  const bare = visit(parse(sdl), {
    enter(node) {
      return 'description' in node && node.description !== undefined
        ? { ...node, description: undefined }
        : undefined;
    },
  });
  return printSchema(lexicographicSortSchema(buildASTSchema(bare)));
}

function undocumented(schema: GraphQLSchema): string[] {
  const missing: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (
      type.name.startsWith('__') ||
      ['String', 'Int', 'Float', 'Boolean', 'ID'].includes(type.name)
    ) {
      continue;
    }
    if (!type.description) missing.push(type.name);
    if (isObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (!field.description) missing.push(`${type.name}.${field.name}`);
        for (const arg of field.args) {
          if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
        }
      }
    }
    if (isEnumType(type)) {
      for (const value of type.getValues()) {
        if (!value.description) missing.push(`${type.name}.${value.name}`);
      }
    }
  }
  return missing;
}

describe('GraphQL schema file', () => {
  it('is at graphql/schema.graphql of the package, two levels above the module', () => {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
    assert.equal(SCHEMA_PATH, path.join(root, 'graphql', 'schema.graphql'));
    assert.ok(existsSync(SCHEMA_PATH));
  });

  it('has exactly the types, fields, arguments and defaults of SPEC section 6', () => {
    assert.equal(shape(loadSchemaSource()), shape(SPEC_SDL));
  });

  it('documents every type, field, argument and enum value', () => {
    assert.deepEqual(undocumented(buildASTSchema(parse(loadSchemaSource()))), []);
  });

  it('documents every error code the API gives, and those of channel where it gives them', () => {
    const schema = buildASTSchema(parse(loadSchemaSource()));
    const query = schema.getQueryType();
    const overview = query?.description ?? '';
    for (const code of API_ERROR_CODES) assert.match(overview, new RegExp(`\`${code}\``), code);
    // channel gives every one of them but the store's: a malformed argument, an untracked
    // node, an unknown channel, and a channel whose open waits for its peer's record;
    // peer gives the store's, when a record it must read cannot be.
    const channel = query?.getFields().channel?.description ?? '';
    for (const code of API_ERROR_CODES.filter((c) => c !== 'STORE_UNAVAILABLE')) {
      assert.match(channel, new RegExp(`\`${code}\``), code);
    }
    const peer = query?.getFields().peer?.description ?? '';
    assert.match(peer, /`STORE_UNAVAILABLE`/);
  });
});
