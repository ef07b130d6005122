import { CodedError } from '../errors.js';

/**
 * INVALID_SETTING: a setting's value, or a combination of settings, is not valid.
 * INVALID_ARGUMENTS: the command line itself is wrong (unknown option, stray argument).
 */
export type SettingsErrorCode = 'INVALID_SETTING' | 'INVALID_ARGUMENTS';

/** Bad configuration: the process should print the message and exit with status 2. */
export class SettingsError extends CodedError<SettingsErrorCode> {
  constructor(
    code: SettingsErrorCode,
    message: string,
    /** The offending flag with its dashes (`--nats.url`), when there is one. */
    readonly flag: string | undefined,
    /** Its environment variable (`NATS_URL`), when the flag is a setting. */
    readonly envVar: string | undefined,
  ) {
    super(code, message);
  }
}

/** Why a value cannot be used; the settings reader adds the flag and variable names. */
export class InvalidValueError extends CodedError<'INVALID_VALUE'> {
  constructor(reason: string) {
    super('INVALID_VALUE', reason);
  }
}
