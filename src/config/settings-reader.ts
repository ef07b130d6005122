import {
  envVarOf,
  flagOf,
  type SettingDefinition,
  type SettingName,
  type SettingTable,
} from './setting-definitions.js';
import { InvalidValueError, SettingsError } from './settings-error.js';
import { parseBoolean } from './scalar-values.js';

/** `--x (X)`, for messages that name another setting of the exporter. */
export function describeSetting(name: SettingName): string {
  return describeSettingName(name);
}

/** `--x (X)`, for a setting of any program. */
function describeSettingName(name: string): string {
  return `${flagOf(name)} (${envVarOf(name)})`;
}

/**
 * The value of each setting, from its flag, else its environment variable (empty
 * counts as unset), else its default; parse errors come out as SettingsError naming
 * the flag and the variable. A security setting (see SettingDefinition.security)
 * given empty, as a flag or a variable, is an error rather than unset.
 *
 * `Name` is contravariant (`in`): a reader of all of a program's settings serves a
 * function that reads some of them (the NATS connection settings the exporter and the
 * lnd bridge share). Hence the maps are kept by plain strings inside.
 */
export class SettingsReader<in Name extends string = SettingName> {
  private readonly flags: ReadonlyMap<string, string | boolean>;
  private readonly definitions: ReadonlyMap<string, SettingDefinition<string>>;

  constructor(
    flags: ReadonlyMap<Name, string | boolean>,
    private readonly env: NodeJS.ProcessEnv,
    table: SettingTable<Name>,
  ) {
    this.flags = flags;
    this.definitions = new Map(table.definitions.map((d) => [d.name, d]));
  }

  /** `--x (X)`, for messages that name another setting. */
  describe(name: Name): string {
    return describeSettingName(name);
  }

  /** A setting that always has a value (it has a default): empty is an error. */
  required<T>(name: Name, parse: (text: string) => T): T {
    const text = this.text(name);
    if (text === undefined || text.trim() === '') {
      throw this.invalid(name, 'a value is required');
    }
    return this.parse(name, text, parse);
  }

  /**
   * A setting that may be unset; an empty value unsets it (even over the variable),
   * except for a security setting, where it is refused.
   */
  optional<T>(name: Name, parse: (text: string) => T): T | undefined {
    const text = this.text(name);
    if (text === undefined) return undefined;
    if (text.trim() === '') {
      const protection = this.definitions.get(name)?.security;
      if (protection === undefined) return undefined;
      throw this.invalid(
        name,
        `an empty value would turn off ${protection}: leave the setting out to run without it`,
      );
    }
    return this.parse(name, text, parse);
  }

  /** Whether the flag or the variable gives the setting a value (not only its default). */
  given(name: Name): boolean {
    return this.flags.has(name) || (this.env[envVarOf(name)] ?? '') !== '';
  }

  boolean(name: Name): boolean {
    const value = this.value(name);
    if (typeof value === 'boolean') return value;
    if (value === undefined) throw this.invalid(name, 'a value is required');
    return this.parse(name, value, parseBoolean);
  }

  /** `invalid --x (X): <reason>`. */
  invalid(name: Name, reason: string): SettingsError {
    const flag = flagOf(name);
    const envVar = envVarOf(name);
    return new SettingsError(
      'INVALID_SETTING',
      `invalid ${describeSettingName(name)}: ${reason}`,
      flag,
      envVar,
    );
  }

  private parse<T>(name: Name, text: string, parse: (text: string) => T): T {
    try {
      return parse(text);
    } catch (err) {
      if (err instanceof InvalidValueError) throw this.invalid(name, err.message);
      throw err;
    }
  }

  private text(name: Name): string | undefined {
    const value = this.value(name);
    return typeof value === 'boolean' ? String(value) : value;
  }

  private value(name: Name): string | boolean | undefined {
    const flag = this.flags.get(name);
    if (flag !== undefined) return flag;
    const env = this.env[envVarOf(name)];
    const definition = this.definitions.get(name);
    // A blank security variable is kept, for optional() to refuse.
    if (env !== undefined && (env !== '' || definition?.security !== undefined)) return env;
    return definition?.default;
  }
}
