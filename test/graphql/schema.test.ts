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
import { SUBSCRIPTION_ERROR_CODES } from '../../src/graphql/event-hub.js';
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
  uptime(from: DateTime!, to: DateTime): UptimeWindow   # the peer's log; null without one
  outages(from: DateTime, to: DateTime): Outages        # offline periods in the log
}
type Outages { count: Int!  totalSeconds: Float!  longestSeconds: Float!
               medianSeconds: Float  periods(first: Int = 100): [OfflinePeriod!]! }
type OfflinePeriod { start: DateTime!  end: DateTime }
enum ChannelOrder { UPTIME_RATIO_ASC UPTIME_RATIO_DESC LIFETIME_DESC FLAP_COUNT_DESC }
enum PeerOrder { FLAP_COUNT_DESC LAST_FLAP_DESC UPTIME_RATIO_ASC }
type PeerConnection { nodes: [Peer!]!  totalCount: Int!  pageInfo: PageInfo! }
type ChannelConnection { nodes: [Channel!]!  totalCount: Int!  pageInfo: PageInfo! }
type PageInfo { endCursor: String  hasNextPage: Boolean! }
`;

/**
 * SPEC 4.4's observed time: Node.observed and Node.gaps(from, to) with Gap and
 * GapReason, Channel.unobservedSeconds and UptimeWindow.unobservedSeconds.
 */
const OBSERVATION_SDL = `
extend type Node { observed: Boolean!  gaps(from: DateTime, to: DateTime): [Gap!]! }
type Gap { start: DateTime!  end: DateTime  reason: GapReason! }
enum GapReason { LND_DOWN BRIDGE_SILENT EXPORTER_DOWN }
extend type Channel { unobservedSeconds: Float! }
extend type UptimeWindow { unobservedSeconds: Float! }
`;

/**
 * SPEC 4.3's closeRecommendations, with the arguments it gives (node, minMonitored,
 * threshold, outlierMultiplier, window and their defaults), plus the paging of
 * section 6's lists (orderBy, first, after) and the result types, which the SPEC
 * leaves to the design.
 */
const CLOSE_RECOMMENDATIONS_SDL = `
scalar Duration   # "28d", "168h": Go's and parse-duration's notation

extend type Query {
  closeRecommendations(node: String, minMonitored: Duration = "28d", threshold: Float,
                       outlierMultiplier: Float = 3, window: Duration,
                       orderBy: CloseCandidateOrder = RATIO_ASC, first: Int = 100,
                       after: String): CloseRecommendations!
}
type CloseRecommendations { mode: CloseRecommendationMode!  computedAt: DateTime!
                            byNode: [NodeCloseRecommendations!]!
                            considered: CloseCandidateConnection! }
type NodeCloseRecommendations { node: String!  channelCount: Int!  consideredCount: Int!
                                recommendedCount: Int!  quartiles: RatioQuartiles
                                reason: NoCloseReason }
type RatioQuartiles { q1: Float!  median: Float!  q3: Float!  iqr: Float!  lowerBound: Float! }
enum CloseRecommendationMode { OUTLIER THRESHOLD }
enum NoCloseReason { NO_CHANNELS NONE_MONITORED_LONG_ENOUGH TOO_FEW_CONSIDERED NO_OUTLIERS
                     NONE_AT_OR_BELOW_THRESHOLD }
type CloseCandidate { channel: Channel!  ratio: Float!  recommended: Boolean! }
enum CloseCandidateOrder { RATIO_ASC RATIO_DESC RECOMMENDED_FIRST }
type CloseCandidateConnection { nodes: [CloseCandidate!]!  totalCount: Int!  pageInfo: PageInfo! }
`;

/**
 * SPEC 4.3's subscriptions, peerEvents(node, peer) and channelEvents(node),
 * with the event types, which the SPEC leaves to the design: each event's time
 * and the peer's flap count after it, as it asks, with lnd's type names.
 */
const SUBSCRIPTIONS_SDL = `
type Subscription {
  peerEvents(node: String, peer: String): PeerEvent!
  channelEvents(node: String): ChannelEvent!
}
type PeerEvent { node: String!  pubkey: String!  type: PeerEventType!  time: DateTime!
                 reordered: Boolean!  tracked: Boolean!  flapCount: Int }
enum PeerEventType { PEER_ONLINE PEER_OFFLINE }
type ChannelEvent { node: String!  pubkey: String!  channelPoint: String!
                    type: ChannelEventType!  time: DateTime!  reordered: Boolean!  flapCount: Int! }
enum ChannelEventType { OPEN_CHANNEL CLOSED_CHANNEL }
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
    assert.equal(
      shape(loadSchemaSource()),
      shape(SPEC_SDL + OBSERVATION_SDL + CLOSE_RECOMMENDATIONS_SDL + SUBSCRIPTIONS_SDL),
    );
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

  it('documents every error code a subscription gives, and the header it needs, in Subscription', () => {
    const schema = buildASTSchema(parse(loadSchemaSource()));
    const overview = schema.getSubscriptionType()?.description ?? '';
    for (const code of [...SUBSCRIPTION_ERROR_CODES, 'EVENT_STREAM_REQUIRED', 'BAD_USER_INPUT']) {
      assert.match(overview, new RegExp(`\`${code}\``), code);
    }
    assert.match(overview, /`Accept: text\/event-stream`/);
    assert.match(overview, /`--graphql\.max-subscriptions`/);
  });
});
