/**
 * Load test of the built exporter: a steady publisher of simulated lnd events while
 * GraphQL and /metrics are polled; checks that nothing is lost and writes the figures
 * to bench/LOAD-RESULTS.md. `npm run build` first; `--help` for the settings.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { errorMessage } from '../src/errors.js';
import { loadCommand, loadOptions, ROOT } from './load/options.js';
import { describeMachine, renderReport } from './load/report.js';
import { nothingLost, runLoad } from './load/run.js';
import { ms, perSecond, rate } from './load/stats.js';

const options = loadOptions(loadCommand().parse());
if (!existsSync(options.exporterBin)) {
  console.error(`load: ${options.exporterBin} is missing: run \`npm run build\` first`);
  process.exit(2);
}

try {
  const machine = describeMachine(options.exporterBin);
  const result = await runLoad(options, (line) => {
    console.log(line);
  });
  const p = result.publisher;
  const ok = nothingLost(result);
  console.log(
    `load: ${ok ? 'nothing lost' : 'MESSAGES LOST OR REJECTED'}: published ${p.published}, ` +
      `applied ${result.final.applied}, rejected ${result.final.rejected}; ` +
      `publish ${rate(perSecond(p.published, p.endedAt - p.startedAt))}; ` +
      `GraphQL channel p99 ${ms(result.channelQuery.latency.p99)}, page p99 ${ms(result.pageQuery.latency.p99)}; ` +
      `scrape p50 ${ms(result.scrapes.p50)}, max ${ms(result.scrapes.max)}`,
  );
  if (options.output !== undefined) {
    mkdirSync(dirname(options.output), { recursive: true });
    // Formatted as the repository formats Markdown, so that `prettier --check .` passes.
    const config = (await resolveConfig(options.output)) ?? {};
    const text = await format(renderReport(result, machine), {
      ...config,
      filepath: options.output,
    });
    writeFileSync(options.output, text);
    console.log(`load: results written to ${relative(ROOT, options.output)}`);
  }
  process.exitCode = ok ? 0 : 1;
} catch (err) {
  console.error(`load: ${errorMessage(err)}`);
  process.exitCode = 1;
}
