import type { KeyvFlapRecordStore } from '../persistence/keyv-flap-record-store.js';

/** The Keyv operations history needs, each bounded and failing with a coded error. */
export interface HistoryKv {
  get(key: string): Promise<unknown>;
  /**
   * Reads keys in batches, handing each batch's values (in key order, undefined
   * where absent) to `each` with the index of its first key as it arrives:
   * a restore decodes and drops them while the next batch is read.
   */
  getEach(keys: readonly string[], each: (from: number, values: unknown[]) => void): Promise<void>;
  setMany(entries: readonly { key: string; value: unknown }[]): Promise<void>;
  deleteMany(keys: readonly string[]): Promise<void>;
}

/** Most keys per getMany/setMany/deleteMany. */
const BATCH = 500;

/** getMany batches read at once. */
const READS_IN_FLIGHT = 4;

/** History kept in the Keyv store of the flap records (same namespace, timeout and repairs). */
export function keyvHistoryKv(records: KeyvFlapRecordStore): HistoryKv {
  return {
    get: (key) => records.operate('read', `reading ${key}`, (keyv) => keyv.get(key)),
    async getEach(keys, each) {
      // A few batches in flight: the next is read while one is decoded.
      let next = 0;
      let failed = false;
      const reader = async (): Promise<void> => {
        while (next < keys.length && !failed) {
          const from = next;
          next += BATCH;
          const batch = keys.slice(from, from + BATCH);
          const values = await records.operate(
            'read',
            `reading ${batch.length} history keys`,
            (keyv) => keyv.getMany(batch),
          );
          try {
            each(from, values);
          } catch (err) {
            failed = true;
            throw err;
          }
        }
      };
      await Promise.all(Array.from({ length: READS_IN_FLIGHT }, reader));
    },
    async setMany(entries) {
      await records.operate('write', `writing ${entries.length} history keys`, async (keyv) => {
        const results: unknown = await keyv.setMany([...entries]);
        if (Array.isArray(results) && results.includes(false)) {
          throw new Error('the store did not take every history key');
        }
      });
    },
    async deleteMany(keys) {
      for (let i = 0; i < keys.length; i += BATCH) {
        const batch = keys.slice(i, i + BATCH);
        await records.operate('write', `deleting ${batch.length} history keys`, (keyv) =>
          keyv.deleteMany(batch),
        );
      }
    },
  };
}
