import { definitionOf, envVarOf, flagOf, type SettingName } from './setting-definitions.js';
import { InvalidValueError, SettingsError } from './settings-error.js';
import { parseBoolean } from './scalar-values.js';

/** `--x (X)`, for messages that name another setting. */
export function describeSetting(name: SettingName): string {
  return `${flagOf(name)} (${envVarOf(name)})`;
}

/**
 * The value of each setting, from its flag, else its environment variable (empty
 * counts as unset), else its default; parse errors come out as SettingsError naming
 * the flag and the variable. A security setting (see SettingDefinition.security)
 * given empty, as a flag or a variable, is an error rather than unset.
 */
export class SettingsReader {
  constructor(
    private readonly flags: ReadonlyMap<SettingName, string | boolean>,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** A setting that always has a value (it has a default): empty is an error. */
  required<T>(name: SettingName, parse: (text: string) => T): T {
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
  optional<T>(name: SettingName, parse: (text: string) => T): T | undefined {
    const text = this.text(name);
    if (text === undefined) return undefined;
    if (text.trim() === '') {
      const protection = definitionOf(name).security;
      if (protection === undefined) return undefined;
      throw this.invalid(
        name,
        `an empty value would turn off ${protection}: leave the setting out to run without it`,
      );
    }
    return this.parse(name, text, parse);
  }

  /** Whether the flag or the variable gives the setting a value (not only its default). */
  given(name: SettingName): boolean {
    return this.flags.has(name) || (this.env[envVarOf(name)] ?? '') !== '';
  }

  boolean(name: SettingName): boolean {
    const value = this.value(name);
    if (typeof value === 'boolean') return value;
    if (value === undefined) throw this.invalid(name, 'a value is required');
    return this.parse(name, value, parseBoolean);
  }

  /** `invalid --x (X): <reason>`. */
  invalid(name: SettingName, reason: string): SettingsError {
    const flag = flagOf(name);
    const envVar = envVarOf(name);
    return new SettingsError(
      'INVALID_SETTING',
      `invalid ${describeSetting(name)}: ${reason}`,
      flag,
      envVar,
    );
  }

  private parse<T>(name: SettingName, text: string, parse: (text: string) => T): T {
    try {
      return parse(text);
    } catch (err) {
      if (err instanceof InvalidValueError) throw this.invalid(name, err.message);
      throw err;
    }
  }

  private text(name: SettingName): string | undefined {
    const value = this.value(name);
    return typeof value === 'boolean' ? String(value) : value;
  }

  private value(name: SettingName): string | boolean | undefined {
    const flag = this.flags.get(name);
    if (flag !== undefined) return flag;
    const env = this.env[envVarOf(name)];
    const definition = definitionOf(name);
    // A blank security variable is kept, for optional() to refuse.
    if (env !== undefined && (env !== '' || definition.security !== undefined)) return env;
    return definition.default;
  }
}
