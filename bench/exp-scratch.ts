import { MaglevTable } from '../src/ring/maglev.ts';
const names = (n: number, w = (i: number) => 1) => Array.from({ length: n }, (_, i) => ({ name: `10.1.${i >> 8}.${i & 255}:11211`, weight: w(i) }));
for (const wf of [() => 1, (i: number) => 1 + (i % 3)]) for (const n of [10, 100, 1000]) {
  const pool = names(n, wf); const W = pool.reduce((a, s) => a + s.weight, 0);
  let t = performance.now(); const table = MaglevTable.build(pool); const buildMs = performance.now() - t;
  const lm = (tb: MaglevTable, p: typeof pool) => { const c = tb.slotCounts(); const Wp = p.reduce((a, s) => a + s.weight, 0); return Math.max(...c.map((x, i) => x / (tb.size * p[i]!.weight / Wp))); };
  const removed = Math.floor(n / 2);
  t = performance.now(); const smaller = table.without(new Set([removed])); const remMs = performance.now() - t;
  t = performance.now(); const bigger = table.with({ name: 'joiner', weight: 2 }); const addMs = performance.now() - t;
  const fresh = MaglevTable.build([...pool, { name: 'joiner', weight: 2 }]);
  const surv = pool.map((_, i) => i).filter((i) => i !== removed);
  let mr = 0, ma = 0, disagree = 0; const M = table.size;
  const bc = table.slotCounts(), bg = bigger.slotCounts();
  for (let s = 0; s < M; s++) { const h = Math.floor(((s + 0.5) * 4294967296) / M); const a = table.lookup(h); if (surv[smaller.lookup(h)] !== a) mr++; if (bigger.lookup(h) !== a) ma++; if (fresh.lookup(h) !== bigger.lookup(h)) disagree++; }
  console.log(n, W === n ? 'equal' : '1,2,3', 'M', M, 'build', buildMs.toFixed(0), 'ms; max/mean', lm(table, pool).toFixed(4), 'after remove', lm(smaller, pool.filter((_, i) => i !== removed)).toFixed(4), 'after add', lm(bigger, [...pool, { name: 'joiner', weight: 2 }]).toFixed(4),
    'remove/ideal', (mr / M / (pool[removed]!.weight / W)).toFixed(3), 'add/ideal', (ma / M / (2 / (W + 2))).toFixed(3), 'ms', remMs.toFixed(0), addMs.toFixed(0), 'fresh vs incremental differ', (disagree / M * 100).toFixed(2) + '%');
}
