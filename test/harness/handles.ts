/**
 * Leak checks: the sockets and timers that keep a process alive, counted
 * before a test and again after the code under test is closed.
 */
import { expect } from 'vitest';

export type HandleCounts = Record<string, number>;

export function openHandles(): HandleCounts {
  const counts: HandleCounts = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/** Waits (bounded) for sockets and timers to drop back to `before`, then asserts they did. */
export async function expectNothingLeftOpen(before: HandleCounts): Promise<void> {
  // Sockets release their handles on a later tick after destroy().
  for (let tick = 0; tick < 50; tick++) {
    const now = openHandles();
    if ((now.TCPSocketWrap ?? 0) <= (before.TCPSocketWrap ?? 0) && (now.Timeout ?? 0) <= (before.Timeout ?? 0)) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const after = openHandles();
  expect(after.TCPSocketWrap ?? 0).toBeLessThanOrEqual(before.TCPSocketWrap ?? 0);
  expect(after.Timeout ?? 0).toBeLessThanOrEqual(before.Timeout ?? 0);
}
