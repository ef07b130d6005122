/**
 * `node --import tsx --import ./bench/fast-path/substitute-register.js`: swaps
 * modules of src/ for the benchmark's substitutes, as BENCH_SUBSTITUTES lists
 * them (JSON, `{"src/…/original.ts": "bench/fast-path/substitutes/….ts"}`,
 * paths from the repository root), so that a fast path can be turned off in
 * a process of its own without a switch in src/. Registered after tsx, its
 * hooks run first and see tsx's resolution (the .ts file behind a .js import).
 */
import { register } from 'node:module';
import process from 'node:process';

register('./substitute-hooks.js', import.meta.url, {
  data: process.env.BENCH_SUBSTITUTES ?? '{}',
});
