import { describe, expect, it } from 'vitest';
import { GetBatcher } from '../../../src/node/get-batcher.js';

/** A batcher over a fake node that records what is sent; `hold` keeps single gets unanswered until `release()`. */
function recorder(options: { fail?: Error; hold?: boolean } = {}) {
  const sent: string[][] = [];
  const held: (() => void)[] = [];
  const answer = <T>(value: T): Promise<T> => (options.fail ? Promise.reject(options.fail) : Promise.resolve(value));
  const batcher = new GetBatcher<string | undefined>(
    (key, settled) => {
      sent.push([key]);
      const reply = options.hold ? new Promise<void>((resolve) => held.push(resolve)).then(() => answer(`one:${key}`)) : answer(`one:${key}`);
      reply.then(settled, settled);
      return reply;
    },
    (keys) => {
      sent.push([...keys]);
      return answer(keys.map((key) => (key === 'absent' ? undefined : `many:${key}`)));
    },
  );
  const release = () => held.splice(0).forEach((resolve) => resolve());
  return { sent, batcher, release };
}

const nextTick = () => new Promise((resolve) => setImmediate(resolve));

describe('GetBatcher', () => {
  it('sends the first get alone and the rest of its tick as one batch, each caller getting its own answer', async () => {
    const { sent, batcher } = recorder();
    const answers = await Promise.all(['a', 'b', 'c', 'b', 'absent', 'a'].map((key) => batcher.get(key)));
    expect(sent).toEqual([['a'], ['b', 'c', 'absent', 'a']]);
    expect(answers).toEqual(['one:a', 'many:b', 'many:c', 'many:b', undefined, 'many:a']);
  });

  it('sends each get of a sequence alone, answered or not within the tick', async () => {
    const { sent, batcher } = recorder();
    const answers: (string | undefined)[] = [];
    for (const key of ['x', 'y', 'z']) answers.push(await batcher.get(key));
    await nextTick();
    answers.push(await batcher.get('w'));
    expect(answers).toEqual(['one:x', 'one:y', 'one:z', 'one:w']);
    expect(sent).toEqual([['x'], ['y'], ['z'], ['w']]);
  });

  it('while a lone get is out, batches the gets of each later tick, a batch of one key as a single get', async () => {
    const { sent, batcher, release } = recorder({ hold: true });
    const first = batcher.get('a');
    await nextTick();
    const second = [batcher.get('b'), batcher.get('c')];
    await nextTick();
    const third = batcher.get('d');
    await nextTick();
    release();
    expect(await Promise.all([first, ...second, third])).toEqual(['one:a', 'many:b', 'many:c', 'one:d']);
    expect(sent).toEqual([['a'], ['b', 'c'], ['d']]);
    // Answered: the next get goes alone again.
    const fourth = batcher.get('e');
    release();
    expect(await fourth).toBe('one:e');
    expect(sent.at(-1)).toEqual(['e']);
  });

  it('rejects every caller of a failed batch, repeated keys included', async () => {
    const failure = new Error('node down');
    const { batcher } = recorder({ fail: failure });
    const outcomes = await Promise.allSettled(['a', 'b', 'b'].map((key) => batcher.get(key)));
    expect(outcomes.map((o) => (o.status === 'rejected' ? o.reason : o.value))).toEqual([failure, failure, failure]);
  });
});
