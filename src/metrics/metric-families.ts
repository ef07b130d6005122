/** The Prometheus metric types this exporter emits. */
export type MetricType = 'counter' | 'gauge' | 'histogram';

/** A metric family of SPEC 5: its name, type, HELP text and label names. */
export interface MetricFamily {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly labels: readonly string[];
}

const CHANNEL_LABELS = ['node', 'channel_point', 'peer'] as const;
const PEER_LABELS = ['node', 'peer'] as const;

/** The exporter's own families (SPEC 5), by collector. */
export const CHANNEL_FAMILIES = {
  uptimeRatio: {
    name: 'chanfitness_channel_uptime_ratio',
    type: 'gauge',
    help: "Time the channel's peer was online divided by the channel's lifetime (0..1); absent while the lifetime is 0.",
    labels: CHANNEL_LABELS,
  },
  lifetimeSeconds: {
    name: 'chanfitness_channel_lifetime_seconds',
    type: 'gauge',
    help: 'Time the channel has been monitored, in seconds.',
    labels: CHANNEL_LABELS,
  },
  uptimeSeconds: {
    name: 'chanfitness_channel_uptime_seconds',
    type: 'gauge',
    help: "Time the channel's peer was online during the channel's lifetime, in seconds.",
    labels: CHANNEL_LABELS,
  },
  windowUptimeRatio: {
    name: 'chanfitness_channel_window_uptime_ratio',
    type: 'gauge',
    help: "Time the channel's peer was online during the last `window` (--metrics.windows) divided by that window's length (0..1), the window clamped to the channel's lifetime and to the history kept (--history.retention); absent while the clamped window is empty.",
    labels: [...CHANNEL_LABELS, 'window'],
  },
} as const satisfies Record<string, MetricFamily>;

/**
 * lnd's own view of the channels, for comparing with ours: the `uptime` and
 * `lifetime` of its ListChannels (lnd's chanfitness figures, which restart
 * with lnd), from each node's latest listing.
 */
export const LND_FAMILIES = {
  channelUptimeSeconds: {
    name: 'chanfitness_lnd_channel_uptime_seconds',
    type: 'gauge',
    help: "lnd's own uptime of the channel (ListChannels `uptime`), in seconds, as lnd reported it at the node's latest listing (chanfitness_lnd_listing_timestamp_seconds): counted from lnd's last start; absent when the listing lacked it.",
    labels: CHANNEL_LABELS,
  },
  channelLifetimeSeconds: {
    name: 'chanfitness_lnd_channel_lifetime_seconds',
    type: 'gauge',
    help: "lnd's own lifetime of the channel (ListChannels `lifetime`), in seconds, as lnd reported it at the node's latest listing (chanfitness_lnd_listing_timestamp_seconds): it restarts with lnd, where chanfitness_channel_lifetime_seconds goes on; absent when the listing lacked it.",
    labels: CHANNEL_LABELS,
  },
  listingTimestampSeconds: {
    name: 'chanfitness_lnd_listing_timestamp_seconds',
    type: 'gauge',
    help: "Unix time of the node's latest ListChannels listing, the one lnd's figures are from: asked at the node's bootstrap, when its bridge reports lnd back after a down, 5 s after a channel the listing lacks opens, and every 15 minutes.",
    labels: ['node'],
  },
} as const satisfies Record<string, MetricFamily>;

export const PEER_FAMILIES = {
  flapCount: {
    name: 'chanfitness_peer_flap_count',
    type: 'gauge',
    help: "lnd's flap count of the peer (goes down with the 8 h cooldown).",
    labels: PEER_LABELS,
  },
  flapsTotal: {
    name: 'chanfitness_peer_flaps_total',
    type: 'counter',
    help: 'Flaps of the peer recorded since this process started.',
    labels: PEER_LABELS,
  },
  lastFlapTimestampSeconds: {
    name: 'chanfitness_peer_last_flap_timestamp_seconds',
    type: 'gauge',
    help: "Unix time of the peer's last flap; absent when none was recorded.",
    labels: PEER_LABELS,
  },
  online: {
    name: 'chanfitness_peer_online',
    type: 'gauge',
    help: 'Whether the peer is online (1) or offline (0).',
    labels: PEER_LABELS,
  },
  channels: {
    name: 'chanfitness_peer_channels',
    type: 'gauge',
    help: 'Open channels tracked with the peer.',
    labels: PEER_LABELS,
  },
} as const satisfies Record<string, MetricFamily>;

export const INGEST_FAMILIES = {
  eventsTotal: {
    name: 'chanfitness_events_total',
    type: 'counter',
    help: 'lnd events applied, by node, kind (channel/peer) and lnd event type.',
    labels: ['node', 'kind', 'type'],
  },
  eventsRejectedTotal: {
    name: 'chanfitness_events_rejected_total',
    type: 'counter',
    help: 'Messages that could not be applied, by reason.',
    labels: ['reason'],
  },
  eventsReorderedTotal: {
    name: 'chanfitness_events_reordered_total',
    type: 'counter',
    help: 'Events applied at a later time than their own because their peer had seen a later event.',
    labels: ['node'],
  },
} as const satisfies Record<string, MetricFamily>;

export const PERSISTENCE_FAMILIES = {
  flapFlushesTotal: {
    name: 'chanfitness_flap_flushes_total',
    type: 'counter',
    help: 'Flap count flushes to the persistent store, by result (success/error).',
    labels: ['result'],
  },
  lastFlapFlushTimestampSeconds: {
    name: 'chanfitness_last_flap_flush_timestamp_seconds',
    type: 'gauge',
    help: 'Unix time of the last successful flap count flush; absent before the first one.',
    labels: [],
  },
  storeUp: {
    name: 'chanfitness_store_up',
    type: 'gauge',
    help: 'Whether the persistent store answers: 0 after a failed operation (read, write or timeout) until one succeeds, else 1.',
    labels: [],
  },
} as const satisfies Record<string, MetricFamily>;

/**
 * History snapshots and their restore (SPEC 4.2). Exported only while history is on
 * (--history): with --no-history these families have no samples.
 */
export const HISTORY_FAMILIES = {
  snapshotWritesTotal: {
    name: 'chanfitness_history_snapshot_writes_total',
    type: 'counter',
    help: 'History snapshot writes to the persistent store, by result (success/error). A failed write is retried; the history since the last success is not yet persisted.',
    labels: ['result'],
  },
  snapshotLastWriteBytes: {
    name: 'chanfitness_history_snapshot_last_write_bytes',
    type: 'gauge',
    help: 'Bytes (keys and values) written by the last successful history snapshot: only what changed since the one before; absent before the first one.',
    labels: [],
  },
  snapshotLastWriteDurationSeconds: {
    name: 'chanfitness_history_snapshot_last_write_duration_seconds',
    type: 'gauge',
    help: 'How long the last successful history snapshot write took, in seconds, store round trips included; absent before the first one.',
    labels: [],
  },
  snapshotLastWriteLongestStepSeconds: {
    name: 'chanfitness_history_snapshot_last_write_longest_step_seconds',
    type: 'gauge',
    help: 'Longest the event loop was held during the last history snapshot write, in seconds (whatever held it: capture, serialization, the store driver, garbage collection; events and scrapes wait that long; meant to stay under 0.05); absent before the first write.',
    labels: [],
  },
  lastSnapshotTimestampSeconds: {
    name: 'chanfitness_history_last_snapshot_timestamp_seconds',
    type: 'gauge',
    help: 'Unix time of the end of the last successful history snapshot write; absent before the first one.',
    labels: [],
  },
  snapshotAgeSeconds: {
    name: 'chanfitness_history_snapshot_age_seconds',
    type: 'gauge',
    help: 'Seconds since the last successful history snapshot write: the history a crash now would lose in core NATS mode; absent before the first one.',
    labels: [],
  },
  restoreDurationSeconds: {
    name: 'chanfitness_history_restore_duration_seconds',
    type: 'gauge',
    help: 'How long restoring the persisted history took at start, in seconds; absent until the restore has succeeded.',
    labels: [],
  },
  restored: {
    name: 'chanfitness_history_restored',
    type: 'gauge',
    help: 'Whether the persisted history has been restored, or found absent (1), or the restore is still being retried (0). No snapshot is written before it is 1.',
    labels: [],
  },
  restoreFailuresTotal: {
    name: 'chanfitness_history_restore_failures_total',
    type: 'counter',
    help: 'Failed attempts to read the persisted history at start (the store was down or timed out); the restore is retried until one succeeds.',
    labels: [],
  },
  rejectedTotal: {
    name: 'chanfitness_history_rejected_total',
    type: 'counter',
    help: "Parts of the persisted history ignored at restore (a node's history, the node index or the JetStream mark), by reason: format (a format this version does not read) or corrupt (does not decode). What was ignored starts afresh, as in lnd; the log says what it was.",
    labels: ['reason'],
  },
  pendingEvents: {
    name: 'chanfitness_history_pending_events',
    type: 'gauge',
    help: 'Events applied while the history restore is retried (core NATS mode), held to be joined to the restored history once it succeeds.',
    labels: [],
  },
  pendingOverflowTotal: {
    name: 'chanfitness_history_pending_overflow_total',
    type: 'counter',
    help: 'Nodes whose events held while the history restore was retried went past --history.pending-limit (core NATS mode): the events past the limit are not in the restored history; the log names the node.',
    labels: [],
  },
  compactedEventsTotal: {
    name: 'chanfitness_history_compacted_events_total',
    type: 'counter',
    help: 'Committed events older than --history.retention dropped by compaction (lifetime uptimes stay exact).',
    labels: [],
  },
} as const satisfies Record<string, MetricFamily>;

export const NODE_FAMILIES = {
  observed: {
    name: 'chanfitness_node_observed',
    type: 'gauge',
    help: 'Whether the node is observed (1) or in a gap (0): lnd, its bridge or this exporter was down, or the node is back less than --observer.settle ago.',
    labels: ['node'],
  },
  unobservedSecondsTotal: {
    name: 'chanfitness_node_unobserved_seconds_total',
    type: 'counter',
    help: 'Time the node was not observed: counted neither as uptime nor as downtime of its peers.',
    labels: ['node'],
  },
} as const satisfies Record<string, MetricFamily>;

export const NATS_FAMILIES = {
  connected: {
    name: 'chanfitness_nats_connected',
    type: 'gauge',
    help: 'Whether the exporter is connected to NATS (1) or not (0).',
    labels: [],
  },
  bootstrapFailuresTotal: {
    name: 'chanfitness_bootstrap_failures_total',
    type: 'counter',
    help: 'Bootstrap requests (list_channels, list_peers) and later listings of channels (list_channels) a node left unanswered: no responder or a timeout.',
    labels: ['node'],
  },
} as const satisfies Record<string, MetricFamily>;

/** Every family of SPEC 5, of history snapshots (SPEC 4.2) and of lnd's own view, in exposition order. */
export const CHANFITNESS_FAMILIES: readonly MetricFamily[] = [
  ...Object.values(CHANNEL_FAMILIES),
  ...Object.values(PEER_FAMILIES),
  ...Object.values(LND_FAMILIES),
  ...Object.values(INGEST_FAMILIES),
  ...Object.values(PERSISTENCE_FAMILIES),
  ...Object.values(HISTORY_FAMILIES),
  ...Object.values(NODE_FAMILIES),
  ...Object.values(NATS_FAMILIES),
];

/**
 * prom-client 15's default process and Node.js families (collectDefaultMetrics).
 * process_open_fds and process_max_fds exist on Linux only.
 */
export const DEFAULT_FAMILIES: readonly Pick<MetricFamily, 'name' | 'type'>[] = [
  { name: 'process_cpu_user_seconds_total', type: 'counter' },
  { name: 'process_cpu_system_seconds_total', type: 'counter' },
  { name: 'process_cpu_seconds_total', type: 'counter' },
  { name: 'process_start_time_seconds', type: 'gauge' },
  { name: 'process_resident_memory_bytes', type: 'gauge' },
  { name: 'process_virtual_memory_bytes', type: 'gauge' },
  { name: 'process_heap_bytes', type: 'gauge' },
  { name: 'process_open_fds', type: 'gauge' },
  { name: 'process_max_fds', type: 'gauge' },
  { name: 'nodejs_eventloop_lag_seconds', type: 'gauge' },
  { name: 'nodejs_eventloop_lag_min_seconds', type: 'gauge' },
  { name: 'nodejs_eventloop_lag_max_seconds', type: 'gauge' },
  { name: 'nodejs_eventloop_lag_mean_seconds', type: 'gauge' },
  { name: 'nodejs_eventloop_lag_stddev_seconds', type: 'gauge' },
  { name: 'nodejs_eventloop_lag_p50_seconds', type: 'gauge' },
  { name: 'nodejs_eventloop_lag_p90_seconds', type: 'gauge' },
  { name: 'nodejs_eventloop_lag_p99_seconds', type: 'gauge' },
  { name: 'nodejs_active_resources', type: 'gauge' },
  { name: 'nodejs_active_resources_total', type: 'gauge' },
  { name: 'nodejs_active_handles', type: 'gauge' },
  { name: 'nodejs_active_handles_total', type: 'gauge' },
  { name: 'nodejs_active_requests', type: 'gauge' },
  { name: 'nodejs_active_requests_total', type: 'gauge' },
  { name: 'nodejs_heap_size_total_bytes', type: 'gauge' },
  { name: 'nodejs_heap_size_used_bytes', type: 'gauge' },
  { name: 'nodejs_external_memory_bytes', type: 'gauge' },
  { name: 'nodejs_heap_space_size_total_bytes', type: 'gauge' },
  { name: 'nodejs_heap_space_size_used_bytes', type: 'gauge' },
  { name: 'nodejs_heap_space_size_available_bytes', type: 'gauge' },
  { name: 'nodejs_version_info', type: 'gauge' },
  { name: 'nodejs_gc_duration_seconds', type: 'histogram' },
];

/** Names of every family the exporter can emit (what dashboards and alerts may query). */
export const METRIC_FAMILY_NAMES: readonly string[] = [
  ...CHANFITNESS_FAMILIES.map((f) => f.name),
  ...DEFAULT_FAMILIES.map((f) => f.name),
];

/**
 * Names of every series the exporter can emit: a histogram family appears as
 * its _bucket, _sum and _count series, the others under their own name.
 */
export const METRIC_SERIES_NAMES: readonly string[] = [
  ...CHANFITNESS_FAMILIES,
  ...DEFAULT_FAMILIES,
].flatMap((f) =>
  f.type === 'histogram' ? [`${f.name}_bucket`, `${f.name}_sum`, `${f.name}_count`] : [f.name],
);
