import { describe, expect, it } from 'vitest';
import { GetBatcher } from '../../../src/health/get-batcher.js';

function recorder(fail?: Error) {
  const sent: string[][] = [];
  const batcher = new GetBatcher<string | undefined>(
    (key) => {
      sent.push([key]);
      return fail ? Promise.reject(fail) : Promise.resolve(`one:${key}`);
    },
    (keys) => {
      sent.push([...keys]);
      return fail ? Promise.reject(fail) : Promise.resolve(keys.map((key) => (key === 'absent' ? undefined : `many:${key}`)));
    },
  );
  return { sent, batcher };
}

describe('GetBatcher', () => {
  it('sends the first get of a tick alone and the rest of the tick as one batch, each caller getting its own answer', async () => {
    const { sent, batcher } = recorder();
    const answers = await Promise.all(['a', 'b', 'c', 'b', 'absent', 'a'].map((key) => batcher.get(key)));
    expect(sent).toEqual([['a'], ['b', 'c', 'absent', 'a']]);
    expect(answers).toEqual(['one:a', 'many:b', 'many:c', 'many:b', undefined, 'many:a']);
  });

  it('sends a batch of one key as a single get (a get that follows an answer given in the same tick)', async () => {
    const { sent, batcher } = recorder();
    const answers: (string | undefined)[] = [];
    for (const key of ['x', 'y', 'z']) answers.push(await batcher.get(key));
    await new Promise((resolve) => setImmediate(resolve));
    answers.push(await batcher.get('w'));
    expect(answers).toEqual(['one:x', 'one:y', 'one:z', 'one:w']);
    expect(sent).toEqual([['x'], ['y'], ['z'], ['w']]);
  });

  it('rejects every caller of a failed batch, repeated keys included', async () => {
    const failure = new Error('node down');
    const { batcher } = recorder(failure);
    const outcomes = await Promise.allSettled(['a', 'b', 'b'].map((key) => batcher.get(key)));
    expect(outcomes.map((o) => (o.status === 'rejected' ? o.reason : o.value))).toEqual([failure, failure, failure]);
  });
});
