/**
 * Combines the interleaved rounds of a run into one row per scenario. Interleaving (every scenario
 * once per round, the baseline included) spreads background noise over all scenarios; ratios are
 * taken per round, against the baseline of the same round, and the median is reported.
 */

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Median over rounds of `a.rps / b.rps`, or `null` when a round lacks either. */
function ratio(samples, a, b) {
  const ratios = [];
  for (const sample of samples) {
    const x = sample[a];
    const y = sample[b];
    if (!x || !y || x.error || y.error || !y.rps) return null;
    ratios.push(x.rps / y.rps);
  }
  return ratios.length ? median(ratios) : null;
}

/**
 * One row per scenario: rate = all requests / all measured seconds, p50 = median of the rounds'
 * p50, p99 = worst round's p99, `ratioToBaseline` and `ratioToVs` = median of per-round ratios.
 */
export function aggregate(scenarios, samples, round) {
  return scenarios.map((scenario) => {
    const base = { id: scenario.id, title: scenario.title, unit: scenario.flows ? 'flows/s' : 'req/s' };
    const runs = samples.map((sample) => sample[scenario.id]).filter(Boolean);
    const failure = runs.find((run) => run.error);
    if (failure || runs.length === 0) return { ...base, error: failure?.error ?? 'not measured' };
    const requests = runs.reduce((sum, run) => sum + run.requests, 0);
    const seconds = runs.reduce((sum, run) => sum + run.seconds, 0);
    const toBaseline = scenario.flows ? null : ratio(samples, scenario.id, 'baseline');
    const toVs = scenario.vs ? ratio(samples, scenario.id, scenario.vs) : null;
    return {
      ...base,
      rps: round(requests / seconds, 1),
      p50Ms: round(median(runs.map((run) => run.p50)), 2),
      p99Ms: round(Math.max(...runs.map((run) => run.p99)), 2),
      count: requests,
      rounds: runs.length,
      ratioToBaseline: toBaseline === null ? null : round(toBaseline, 3),
      ...(toVs === null ? {} : { vs: scenario.vs, ratioToVs: round(toVs, 3) }),
    };
  });
}
