/**
 * Added latency of one server over another, unloaded: requests one at a time over a keep-alive
 * connection, the two targets alternated so background noise hits both, timed with
 * `performance.now()` (microsecond resolution, unlike autocannon's whole milliseconds).
 */
import { Agent, request } from 'node:http';

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function once({ url, headers = {}, body }) {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(
      { agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200
            ? resolve(performance.now() - started)
            : reject(new Error(`HTTP ${res.statusCode}`)),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/**
 * `count` alternated requests to `a` and `b` (after `warmup` each); resolves the p50 and p99 of each
 * and of the difference `a − b`, in ms.
 */
export async function addedLatency(a, b, count = 2000, warmup = 200) {
  for (let i = 0; i < warmup; i++) {
    await once(a);
    await once(b);
  }
  const times = { a: [], b: [] };
  for (let i = 0; i < count; i++) {
    times.a.push(await once(a));
    times.b.push(await once(b));
  }
  const sorted = (list) => [...list].sort((x, y) => x - y);
  const sa = sorted(times.a);
  const sb = sorted(times.b);
  return {
    count,
    p50: { a: percentile(sa, 50), b: percentile(sb, 50), added: percentile(sa, 50) - percentile(sb, 50) },
    p99: { a: percentile(sa, 99), b: percentile(sb, 99), added: percentile(sa, 99) - percentile(sb, 99) },
  };
}
