/**
 * The end-to-end run's verdict: the per-phase table, the targets (met or
 * missed, with the figures), the database spike after each fault, what the
 * service counted, the timeline SVG and the JSON record.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { timelineChart, type TimelineEvent, type TimelinePhase } from '../../src/tools/timeline-chart.js';
import type { Recorder, VersionLedger } from './e2e-load.js';
import { phaseRow, spike, timeline, type CounterSample, type PhaseRow, type PhaseWindow } from './e2e-report.js';
import { table } from './stats.js';

/** What the run recorded. */
export interface RunRecord {
  readonly phases: readonly PhaseWindow[];
  readonly recorder: Recorder;
  readonly samples: readonly CounterSample[];
  readonly bands: readonly TimelinePhase[];
  readonly events: readonly TimelineEvent[];
  readonly ledger: VersionLedger;
  /** The cached service's /metrics text at the end. */
  readonly metrics: string;
  readonly writeBackFailures: number;
}

export interface RunSettings {
  readonly backend: string;
  readonly rate: number;
  readonly products: number;
  readonly phaseSeconds: number;
  readonly getDeadlineMs: number;
  readonly svg: string;
  readonly json: string | undefined;
}

export function judge(run: RunRecord, settings: RunSettings): boolean {
  const { phases, recorder, samples, bands, events, ledger, metrics, writeBackFailures } = run;
  const rows = phases.map((phase) => phaseRow(recorder, phase));
  const cacheFrom = phases.find((p) => p.usesCache)?.start.ms ?? Infinity;
  const points = timeline(recorder, samples, (ms) => ms > cacheFrom);
  const row = (name: string): PhaseRow | undefined => rows.find((r) => r.name === name);
  const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
  console.log(
    `\n${table(
      ['phase', 'requests/s', 'p50 ms', 'p99 ms', 'max ms', 'HTTP errors', 'DB queries/s', 'DB queries/request', 'hit rate', 'cache read failures', 'stale'],
      rows.map((r) => [
        r.name,
        fmt(r.requestsPerSecond),
        fmt(r.p50Ms, 2),
        fmt(r.p99Ms, 2),
        fmt(r.maxMs, 1),
        String(r.httpErrors),
        fmt(r.dbQueriesPerSecond),
        fmt(r.dbQueriesPerSecond / r.requestsPerSecond, 3),
        Number.isFinite(r.hitRate) ? `${(r.hitRate * 100).toFixed(1)}%` : '-',
        Number.isFinite(r.hitRate) ? String(r.cacheReadFailures) : '-',
        String(r.stale),
      ]),
    )}`,
  );
  const [none, warm, hung, killed] = [row('no cache'), row('warm'), row('one node hung'), row('node killed, restarted empty')];
  const missed: string[] = [];
  const target = (ok: boolean, text: string) => {
    console.log(`${ok ? 'met   ' : 'MISSED'} ${text}`);
    if (!ok) missed.push(text);
  };
  if (none && warm) {
    const perRequest = (r: PhaseRow) => r.dbQueriesPerSecond / r.requestsPerSecond;
    target(
      warm.dbQueriesPerSecond <= 0.1 * none.dbQueriesPerSecond,
      `warm database load ${fmt(warm.dbQueriesPerSecond)}/s <= 10% of no cache's ${fmt(none.dbQueriesPerSecond)}/s (${fmt((100 * warm.dbQueriesPerSecond) / none.dbQueriesPerSecond)}%; per request ${fmt((100 * perRequest(warm)) / perRequest(none))}%)`,
    );
  }
  if (warm && hung) {
    const back = row('node back');
    target(
      hung.p99Ms <= warm.p99Ms + 2 * settings.getDeadlineMs,
      `one node hung: p99 ${fmt(hung.p99Ms, 2)} ms <= warm p99 ${fmt(warm.p99Ms, 2)} ms + 2 x ${settings.getDeadlineMs} ms (healthy again after it, "node back": p99 ${fmt(back?.p99Ms ?? NaN, 2)} ms)`,
    );
    target(hung.httpErrors === 0 && hung.stale === 0, `one node hung: ${hung.httpErrors} HTTP errors, ${hung.stale} stale products (0 and 0)`);
  }
  if (killed) target(killed.httpErrors === 0, `node killed and restarted empty: ${killed.httpErrors} HTTP errors (0)`);
  target(ledger.stale === 0, `stale products over the whole run and the final pass: ${ledger.stale} of ${ledger.checked} checked (0)`);
  for (const example of ledger.examples) console.log(`  stale: ${example}`);
  const spikes: Record<string, ReturnType<typeof spike>> = {};
  const warmPhase = phases.find((p) => p.name === 'warm');
  for (const name of ['one node hung', 'node killed, restarted empty']) {
    const phase = phases.find((p) => p.name === name);
    if (!phase || !warmPhase) continue;
    const s = (spikes[name] = spike(points, [warmPhase.start.ms / 1000, warmPhase.end.ms / 1000], phase.start.ms / 1000, phase.end.ms / 1000));
    console.log(`database after "${name}": peak ${fmt(s.peakPerSecond)} queries/s (warm: mean ${fmt(s.baselineMean)}, highest second ${fmt(s.baselineMax)}), ${fmt(s.extraQueries, 0)} queries above the warm mean, ${s.settled ? `above the warm range for ${fmt(s.seconds)} s` : `still above the warm range when the phase ended, ${fmt(s.seconds)} s after the fault`}`);
  }
  const counter = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
  const sumOf = (name: string) => [...metrics.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'gm'))].reduce((sum, m) => sum + Number(m[1]), 0);
  const service = {
    staleReloads: counter('product_service_stale_reloads_total'),
    cacheWriteFailures: counter('product_service_cache_write_failures_total'),
    ejections: sumOf('shardcache_node_ejections_total'),
    readmissions: sumOf('shardcache_node_readmissions_total'),
  };
  console.log(`service: ${service.staleReloads} stale cache entries caught by the update fence and reloaded, ${service.cacheWriteFailures} cache rewrites after an update failed, ${writeBackFailures} write-backs of loaded products failed, ${service.ejections} ejections, ${service.readmissions} re-admissions; statuses ${JSON.stringify(Object.fromEntries(recorder.statuses))}, ${recorder.errorsAt.length} request errors`);

  const title = `product service end to end: ${settings.backend} x3 + PostgreSQL, ${settings.rate} req/s, Zipf(0.99) over ${settings.products} ids (${new Date().toISOString().slice(0, 10)}, shared 2-core machine)`;
  mkdirSync(dirname(settings.svg), { recursive: true });
  writeFileSync(settings.svg, timelineChart(points, bands, events, title));
  console.log(`timeline: ${settings.svg}`);
  if (settings.json) {
    mkdirSync(dirname(settings.json), { recursive: true });
    writeFileSync(settings.json, `${JSON.stringify({ backend: settings.backend, rate: settings.rate, phaseSeconds: settings.phaseSeconds, getDeadlineMs: settings.getDeadlineMs, writeBackFailures, rows, spikes, service, stale: ledger.stale, checked: ledger.checked, events, missed, timeline: points }, null, 2)}\n`);
    console.log(`json: ${settings.json}`);
  }
  console.log(missed.length === 0 ? 'every target met' : `${missed.length} target(s) missed`);
  return missed.length === 0;
}
