/**
 * Load generation: autocannon for request/response scenarios, and a bounded client-side loop for
 * whole OAuth flows. Both refuse to report a number for a run that saw errors or non-2xx answers.
 */
import autocannon from 'autocannon';
import { runFlow } from './flow.mjs';

/**
 * Checks one request by hand first (status 200 and the expected body), then loads `url` for
 * `seconds` after a discarded warm-up. Resolves `{ rps, p50, p99, requests, seconds }`.
 */
export async function loadTest({
  url,
  method = 'POST',
  headers = {},
  body,
  expect,
  seconds,
  warmup,
  connections,
}) {
  const probe = await fetch(url, { method, headers, body });
  const text = await probe.text();
  if (probe.status !== 200 || (expect && !text.includes(expect))) {
    throw new Error(`probe: HTTP ${probe.status} ${text.slice(0, 200)}`);
  }
  const options = { url, method, headers, body, connections, pipelining: 1 };
  if (warmup > 0) await autocannon({ ...options, duration: warmup });
  const result = await autocannon({ ...options, duration: seconds });
  const failures = result.errors + result.timeouts + result.non2xx;
  if (failures > 0) {
    throw new Error(
      `${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts in ${result.requests.total} requests`,
    );
  }
  return {
    rps: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    seconds: result.duration,
  };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * Runs complete OAuth flows back to back on `concurrency` workers for `seconds`; a flow in progress
 * when the time is up still finishes, and is counted. Resolves flows per second and the latency of
 * one flow (four round trips plus the page parse).
 */
export async function flowTest({ issuer, pin, seconds, warmup, concurrency }) {
  const run = async (duration, durations) => {
    const end = performance.now() + duration * 1000;
    const worker = async () => {
      while (performance.now() < end) {
        const start = performance.now();
        await runFlow(issuer, pin);
        durations?.push(performance.now() - start);
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    return (performance.now() - started) / 1000;
  };
  if (warmup > 0) await run(warmup);
  const durations = [];
  const elapsed = await run(seconds, durations);
  durations.sort((a, b) => a - b);
  return {
    rps: durations.length / elapsed,
    p50: percentile(durations, 50),
    p99: percentile(durations, 99),
    requests: durations.length,
    seconds: elapsed,
  };
}
