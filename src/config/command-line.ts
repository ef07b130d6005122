import { Command, CommanderError, Option } from 'commander';

import { packageVersion } from './package-version.js';
import {
  envVarOf,
  EXPORTER_SETTINGS,
  flagOf,
  type SettingDefinition,
  type SettingGroup,
  type SettingName,
  type SettingTable,
} from './setting-definitions.js';
import { SettingsError } from './settings-error.js';

/** The values given as flags (booleans as `true`/`false` or their text), or a text to print. */
export type CommandLine<Name extends string = SettingName> =
  | { readonly kind: 'flags'; readonly flags: ReadonlyMap<Name, string | boolean> }
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'version'; readonly text: string };

/** A program's command line: its name and description for the help, and its settings. */
export interface CommandSpec<Name extends string, Group extends string> {
  /** The bin's name, e.g. `chanfitness-exporter`. */
  readonly program: string;
  readonly description: string;
  readonly settings: SettingTable<Name, Group>;
  /** The help's heading of each group of settings, in the table's order. */
  readonly headings: Readonly<Record<Group, string>>;
  /** Text after the list of options. */
  readonly footer: string;
}

const GROUP_HEADINGS: Readonly<Record<SettingGroup, string>> = {
  nats: 'NATS input:',
  store: 'Flap count store (Keyv):',
  flap: 'Flap counts:',
  history: 'History across restarts:',
  observer: 'Observed time (gaps while lnd, its bridge or this exporter is down):',
  metrics: 'Metrics (/metrics):',
  web: 'HTTP server (/metrics, /graphql, /healthz, /readyz):',
  graphql: 'GraphQL:',
  log: 'Logging:',
};

const HELP_FOOTER = `
Every option can also be set through the environment variable shown with it;
a flag given on the command line wins over the variable, which wins over the default.
An empty variable counts as unset, except for credentials, TLS files and CORS origins:
an empty value of those is an error (leave it out instead). Durations: 90s, 1h30m, 7d
(a unit is required).
Booleans: --x, --x=false or --no-x; in variables true/false, 1/0, yes/no.
`;

const EXPORTER_COMMAND: CommandSpec<SettingName, SettingGroup> = {
  program: 'chanfitness-exporter',
  description:
    "lnd's chanfitness channel event store as a service: channel uptime and peer flap " +
    'counts from NATS to Prometheus and GraphQL',
  settings: EXPORTER_SETTINGS,
  headings: GROUP_HEADINGS,
  footer: HELP_FOOTER,
};

/**
 * Parses the exporter's argv (without node and script) with a fresh commander Command
 * that neither prints nor exits: help and version come back as texts, mistakes as
 * SettingsError.
 */
export function readCommandLine(argv: readonly string[]): CommandLine {
  return readProgramCommandLine(argv, EXPORTER_COMMAND);
}

/** readCommandLine for any program's settings (the lnd bridge's too). */
export function readProgramCommandLine<Name extends string, Group extends string>(
  argv: readonly string[],
  spec: CommandSpec<Name, Group>,
): CommandLine<Name> {
  let output = '';
  const command = buildCommand(spec, (text) => {
    output += text;
  });
  try {
    command.parse(argv, { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    if (err.code === 'commander.helpDisplayed') return { kind: 'help', text: output };
    if (err.code === 'commander.version') return { kind: 'version', text: output };
    throw commandLineError(err, command, spec.settings);
  }
  const [stray] = command.args;
  if (stray !== undefined) {
    throw new SettingsError(
      'INVALID_ARGUMENTS',
      `unexpected argument "${stray}": only options are accepted (see --help)`,
      undefined,
      undefined,
    );
  }
  const flags = new Map<Name, string | boolean>();
  for (const option of command.options) {
    const value: unknown = command.getOptionValue(option.attributeName());
    const definition =
      option.long === undefined ? undefined : spec.settings.definitionOfFlag(positive(option.long));
    if (definition !== undefined && (typeof value === 'string' || typeof value === 'boolean')) {
      flags.set(definition.name, value);
    }
  }
  return { kind: 'flags', flags };
}

function buildCommand<Name extends string, Group extends string>(
  spec: CommandSpec<Name, Group>,
  write: (text: string) => void,
): Command {
  const command = new Command(spec.program)
    .description(spec.description)
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'print this help and exit')
    // Stray arguments are reported below, naming the first one.
    .allowExcessArguments()
    .exitOverride()
    .configureOutput({ writeOut: write, writeErr: write, outputError: () => undefined })
    .addHelpText('after', spec.footer);
  for (const definition of spec.settings.definitions) {
    addSetting(command, definition, spec.headings[definition.group]);
  }
  return command;
}

function addSetting<Group extends string>(
  command: Command,
  definition: SettingDefinition<Group>,
  heading: string,
): void {
  const flag = flagOf(definition.name);
  const term =
    definition.valueName === undefined ? `${flag} [bool]` : `${flag} <${definition.valueName}>`;
  command.addOption(new Option(term, helpDescription(definition)).helpGroup(heading));
  if (definition.valueName === undefined) {
    // Only worth a help line when it switches off what is on by default.
    command.addOption(
      new Option(`--no-${definition.name}`, `same as ${flag}=false`)
        .helpGroup(heading)
        .hideHelp(definition.default !== 'true'),
    );
  }
}

function helpDescription(definition: SettingDefinition<string>): string {
  const notes = [
    ...(definition.default === undefined ? [] : [`default: ${definition.default}`]),
    `env: ${envVarOf(definition.name)}`,
  ];
  const advice = definition.secret === true ? '; prefer the variable to keep it out of ps' : '';
  return `${definition.description} (${notes.join(', ')}${advice})`;
}

/** `--no-x` -> `--x`: both set the same setting. */
function positive(long: string): string {
  return long.startsWith('--no-') ? `--${long.slice('--no-'.length)}` : long;
}

function commandLineError(
  err: CommanderError,
  command: Command,
  settings: SettingTable<string>,
): SettingsError {
  // The quoted argument may carry a value (--nats.tokn=secret): keep only the flag.
  const flag = /'(-[^' =]+)/.exec(err.message)?.[1];
  const definition = flag === undefined ? undefined : settings.definitionOfFlag(positive(flag));
  if (err.code === 'commander.optionMissingArgument' && definition !== undefined) {
    const envVar = envVarOf(definition.name);
    return new SettingsError(
      'INVALID_SETTING',
      `invalid ${flagOf(definition.name)} (${envVar}): a value is required`,
      flagOf(definition.name),
      envVar,
    );
  }
  if (err.code === 'commander.unknownOption' && flag !== undefined) {
    // Commander suggests nothing for --flag=value, so the suggestion is made here.
    const suggestion = closestFlag(flag, command.options);
    const hint = suggestion === undefined ? 'see --help' : `did you mean ${suggestion}?`;
    return new SettingsError(
      'INVALID_ARGUMENTS',
      `unknown option '${flag}' (${hint})`,
      flag,
      undefined,
    );
  }
  return new SettingsError(
    'INVALID_ARGUMENTS',
    `${err.message.replace(/^error: /, '')} (see --help)`,
    flag,
    undefined,
  );
}

const MAX_TYPO_DISTANCE = 3;

/** The known flag nearest to a mistyped one, if it is near enough to be a typo. */
function closestFlag(typed: string, options: readonly Option[]): string | undefined {
  let best: { flag: string; distance: number } | undefined;
  for (const option of options) {
    const flag = option.long;
    if (flag === undefined) continue;
    const distance = editDistance(typed, flag);
    if (distance <= MAX_TYPO_DISTANCE && (best === undefined || distance < best.distance)) {
      best = { flag, distance };
    }
  }
  return best?.flag;
}

/** Levenshtein distance: insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
