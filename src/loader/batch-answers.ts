/**
 * A batch loader may answer with a Map (by key) or an array aligned with the
 * keys it was given; everything downstream takes a Map.
 */
import { InvalidArgumentError } from '../errors.js';

/**
 * The loader's answers for `keys`, by key.
 * @throws {InvalidArgumentError} when an array answer is not aligned with `keys`.
 */
export function alignLoaded<T>(keys: readonly string[], answers: readonly (T | undefined)[] | Map<string, T | undefined>): Map<string, T | undefined> {
  if (answers instanceof Map) return new Map(keys.map((key) => [key, answers.get(key)]));
  if (!Array.isArray(answers) || answers.length !== keys.length) {
    throw new InvalidArgumentError(`the batch loader must return a Map or an array of ${keys.length} values aligned with the keys it was given`);
  }
  return new Map(keys.map((key, i) => [key, answers[i]]));
}
