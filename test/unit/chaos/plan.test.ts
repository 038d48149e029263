// The campaign's fault planner: a seed is a schedule (replayable), every kind of fault shows up
// over a range of seeds, and every schedule keeps to its bounds (inside the load, thawed in time,
// 1–3 processor instances with faults only on running ones, the counts asked for).
import { describe, expect, it } from 'vitest';
import { crashPointNames } from '../../../processors/crash-points.ts';
import { campaignCrashPoints, crashPointSpanMs, crashVisitMax, kindOf, planRun, processorSlotsMax, spacingMinMs, stopForMs, windows, type PlanOptions, type RunPlan, type Target } from '../../../scripts/chaos/plan.ts';
import { prng } from '../../../scripts/workload.ts';
import { planFor } from '../../../scripts/chaos/run.ts';

const options: PlanOptions = { durationMs: 60_000, withQuery: true, killsPerService: 2, stopsPerService: 1, crashPoints: 2, rebalances: 2, brokerRestarts: 1, brokerStop: 'alternate' };
const seeds = Array.from({ length: 200 }, (_, i) => i + 1);

/** The processor instances running at `atMs` by the plan (changes at the same moment as a fault come first). */
function processorsAt(plan: RunPlan, atMs: number): Set<string> {
  const present = new Set<string>(plan.processorsAtStart);
  for (const fault of plan.faults) {
    if (fault.atMs > atMs) break;
    if (fault.kind === 'add-instance') present.add(fault.target);
    if (fault.kind === 'remove-instance') present.delete(fault.target);
  }
  return present;
}

describe('the fault planner', () => {
  it('draws the same schedule from the same seed, and another from another seed', () => {
    const plan = planRun(prng(7), options);
    expect(planRun(prng(7), options)).toEqual(plan);
    expect(planRun(prng(8), options)).not.toEqual(plan);
    // What the campaign prints and replays: run N of seed S, whatever ran before it.
    const inputs = { ...options, seed: 4242, run: 3 };
    expect(planFor(inputs)).toEqual(planFor({ ...inputs }));
    expect(planFor(inputs)).not.toEqual(planFor({ ...inputs, run: 4 }));
  });

  it('has every kind of fault, every campaign crash point and 2 and 3 processor instances over a range of seeds', () => {
    const kinds = new Set<string>();
    const points = new Set<string>();
    const targets = new Set<Target>();
    const instanceCounts = new Set<number>();
    for (const seed of seeds) {
      const plan = planRun(prng(seed), options);
      for (const fault of plan.faults) {
        kinds.add(fault.kind);
        if (fault.kind === 'crash-point') points.add(fault.point);
        if ('target' in fault && fault.kind !== 'add-instance' && fault.kind !== 'remove-instance') targets.add(fault.target);
        instanceCounts.add(processorsAt(plan, fault.atMs).size);
      }
    }
    expect([...kinds].sort()).toEqual(['add-instance', 'broker-restart', 'crash-point', 'kill', 'remove-instance', 'stop']);
    expect([...points].sort()).toEqual(Object.keys(campaignCrashPoints).sort());
    expect([...targets].sort()).toEqual(['gateway', 'processor-1', 'processor-2', 'processor-3', 'query']);
    expect([...instanceCounts].sort()).toEqual([1, 2, 3]);
  });

  it('keeps every schedule to its bounds', () => {
    for (const seed of seeds) {
      const plan = planRun(prng(seed), options);
      const count = (kind: string) => plan.faults.filter((f) => f.kind === kind).length;
      expect(count('kill')).toBe(3 * options.killsPerService);
      expect(count('stop')).toBe(3 * options.stopsPerService);
      expect(count('crash-point')).toBe(options.crashPoints);
      expect(count('add-instance') + count('remove-instance')).toBe(options.rebalances);
      expect(count('broker-restart')).toBe(options.brokerRestarts);
      expect(plan.processorsAtStart.length).toBeGreaterThanOrEqual(1);
      expect(plan.processorsAtStart.length).toBeLessThanOrEqual(2);
      expect(plan.faults.map((f) => f.atMs)).toEqual([...plan.faults.map((f) => f.atMs)].sort((a, b) => a - b));
      for (const fault of plan.faults) {
        const window = fault.kind === 'kill' ? windows.kill : fault.kind === 'stop' ? windows.stop : fault.kind === 'crash-point' ? windows.crashPoint : fault.kind === 'broker-restart' ? windows.broker : windows.rebalance;
        expect(fault.atMs).toBeGreaterThanOrEqual(options.durationMs * window[0] - 1);
        expect(fault.atMs).toBeLessThanOrEqual(options.durationMs * window[1] + 1);
        const present = processorsAt(plan, fault.atMs);
        expect(present.size, `seed ${seed}`).toBeGreaterThanOrEqual(1);
        expect(present.size).toBeLessThanOrEqual(processorSlotsMax);
        if (fault.kind === 'stop') {
          expect(fault.forMs).toBeLessThanOrEqual(stopForMs[1]);
          expect(fault.atMs + fault.forMs).toBeLessThanOrEqual(options.durationMs * 0.9 + 1);
        }
        if (fault.kind === 'crash-point') {
          expect(crashPointNames).toContain(fault.point);
          expect(kindOf(fault.target)).toBe(campaignCrashPoints[fault.point]);
          expect(fault.visit).toBeGreaterThanOrEqual(1);
          expect(fault.visit).toBeLessThanOrEqual(crashVisitMax[fault.point]);
        }
        // A fault on a processor instance strikes one the plan has running at that moment.
        if ((fault.kind === 'kill' || fault.kind === 'stop' || fault.kind === 'crash-point') && kindOf(fault.target) === 'processor') expect(present.has(fault.target), `seed ${seed}: ${fault.target} at ${fault.atMs}`).toBe(true);
        if (fault.kind === 'add-instance') expect(present.has(fault.target)).toBe(true);
      }
    }
  });

  it('spaces the faults of one service in most schedules, a freeze counted until its thaw and an armed restart for a while after it', () => {
    let spaced = 0;
    for (const seed of seeds) {
      const plan = planRun(prng(seed), options);
      const spans = new Map<string, Array<[number, number]>>();
      for (const fault of plan.faults) {
        if (fault.kind === 'broker-restart' || fault.kind === 'add-instance' || fault.kind === 'remove-instance') continue;
        const spanMs = fault.kind === 'stop' ? fault.forMs : fault.kind === 'crash-point' ? crashPointSpanMs : 0;
        spans.set(fault.target, [...(spans.get(fault.target) ?? []), [fault.atMs, fault.atMs + spanMs]]);
      }
      const ok = [...spans.values()].every((list) => list.every(([a, b], i) => list.slice(i + 1).every(([c, e]) => e + spacingMinMs <= a || c >= b + spacingMinMs)));
      // An armed instance is neither removed nor re-added before it had the time to reach its point.
      const steady = plan.faults.every((f) => f.kind !== 'crash-point' || !plan.faults.some((c) => (c.kind === 'add-instance' || c.kind === 'remove-instance') && c.target === f.target && c.atMs > f.atMs && c.atMs <= f.atMs + crashPointSpanMs));
      if (ok && steady) spaced += 1;
    }
    // Placement retries a bounded number of times, then lands anyway: nearly always spaced.
    expect(spaced).toBeGreaterThan(seeds.length * 0.9);
  });

  it('plans no processor instance changes without rebalances, and no broker restart when the broker is not ours', () => {
    const plan = planRun(prng(3), { ...options, rebalances: 0, brokerRestarts: 0 });
    expect(plan.processorsAtStart).toEqual(['processor-1']);
    expect(plan.faults.filter((f) => f.kind === 'add-instance' || f.kind === 'remove-instance' || f.kind === 'broker-restart')).toEqual([]);
    expect(plan.faults.every((f) => !('target' in f) || f.target === 'processor-1' || kindOf(f.target) !== 'processor')).toBe(true);
  });

  it('alternates clean and hard broker stops across runs', () => {
    const hard = [1, 2, 3, 4].map((run) => planFor({ ...options, seed: 5, run }).faults.flatMap((f) => (f.kind === 'broker-restart' ? [f.hard] : [])));
    expect(hard).toEqual([[false], [true], [false], [true]]);
  });
});
