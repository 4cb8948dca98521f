/** Formats bench/results.json as the text table `pnpm bench` prints. */

const fixed = (value, digits) => (value === null || value === undefined ? '—' : value.toFixed(digits));

function pad(cells, widths, right) {
  return cells.map((cell, i) => (right[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ');
}

/** The table: one row per scenario, then the Worker bundle size and the run's context. */
export function formatTable(results) {
  const header = ['scenario', 'rate', 'unit', 'p50 ms', 'p99 ms', 'x baseline', 'vs'];
  const right = [false, true, false, true, true, true, false];
  const rows = results.scenarios.map((s) =>
    s.error
      ? [s.title, 'FAILED', '', '', '', '', s.error.slice(0, 80)]
      : [
          s.title,
          fixed(s.rps, 0),
          s.unit,
          fixed(s.p50Ms, 2),
          fixed(s.p99Ms, 2),
          fixed(s.ratioToBaseline, 2),
          s.vs ? `${fixed(s.ratioToVs, 2)} x ${s.vs}` : '',
        ],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const lines = [pad(header, widths, right), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const row of rows) lines.push(pad(row, widths, right));
  lines.push('');
  const proxy = results.scenarios.find((s) => s.id === 'portcullis-proxy');
  const plain = results.scenarios.find((s) => s.id === 'plain-proxy');
  if (proxy && plain && !proxy.error && !plain.error) {
    lines.push(
      `(4) added latency of mcpProxy over the plain proxy under load (${results.settings.connections} connections): ` +
        `p50 ${fixed(proxy.p50Ms - plain.p50Ms, 2)} ms, p99 ${fixed(proxy.p99Ms - plain.p99Ms, 2)} ms`,
    );
  }
  const l = results.proxyLatency;
  if (l?.error) lines.push(`(4) added latency, unloaded: FAILED ${l.error}`);
  else if (l)
    lines.push(
      `(4) added latency of mcpProxy over the plain proxy, unloaded (1 connection, ${l.count} requests each): ` +
        `p50 ${fixed(l.p50.added, 3)} ms (${fixed(l.p50.a, 3)} vs ${fixed(l.p50.b, 3)}), ` +
        `p99 ${fixed(l.p99.added, 3)} ms (${fixed(l.p99.a, 3)} vs ${fixed(l.p99.b, 3)})`,
    );
  const b = results.workerBundle;
  if (!b) lines.push('(6) worker bundle: examples/worker-pin-proxy/src/index.ts not found');
  else if (b.error) lines.push(`(6) worker bundle: FAILED ${b.error}`);
  else
    lines.push(
      `(6) worker bundle (${b.entry}, esbuild --minify): ${(b.bytes / 1024).toFixed(1)} KiB, gzip ${(b.gzipBytes / 1024).toFixed(1)} KiB`,
    );
  const s = results.settings;
  lines.push(
    `${results.node} ${results.platform}, ${results.cores} cores (${results.cpu}), load ${results.loadavgBefore[0]} -> ${results.loadavgAfter[0]}; ` +
      `${s.seconds} s/scenario in ${s.rounds} round(s) after ${s.warmupSeconds} s warm-up, ${s.connections} connections, ${s.flowConcurrency} concurrent flows`,
  );
  const busiest = Math.max(results.loadavgBefore[0], results.loadavgAfter[0]);
  if (busiest > results.cores) {
    lines.push(
      `warning: load average ${busiest} on ${results.cores} cores — other processes competed for the CPU; compare ratios, not absolute rates, and re-run on a quiet machine`,
    );
  }
  return lines.join('\n');
}
