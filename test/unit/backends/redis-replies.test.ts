/**
 * Redis error replies: which ones say the node cannot serve (counted against
 * it) and which ones are about the request. The texts are the servers' and
 * proxies' own: Redis 7's replies, and twemproxy's `-ERR <strerror>` for an
 * upstream it cannot reach.
 */
import { describe, expect, it } from 'vitest';
import { redisReplyReason, SERVER_UNAVAILABLE_CODES } from '../../../src/backends/redis-replies.js';
import { BreakerOpenError, DeadlineError, InvalidKeyError, NodeError } from '../../../src/errors.js';
import { countsAgainstNode, isCacheFailure } from '../../../src/node/classify.js';

const countsForReply = (message: string) => countsAgainstNode(new NodeError('n:1', redisReplyReason(message), 'reply'));

describe('redis error replies', () => {
  it.each([
    'LOADING Redis is loading the dataset in memory',
    'MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to \'no\'.',
    'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.',
    'TRYAGAIN Multiple keys request during rehashing of slot',
    'CLUSTERDOWN The cluster is down',
    "READONLY You can't write against a read only replica.",
    "OOM command not allowed when used memory > 'maxmemory'.",
    'MISCONF Redis is configured to save RDB snapshots, but it is currently not able to persist on disk.',
    'MOVED 3999 127.0.0.1:6381',
    'SOMETHINGNEW an error kind this client has never seen',
  ])('%s counts against the node', (message) => {
    expect(countsForReply(message)).toBe(true);
  });

  it.each(['ERR Connection refused', 'ERR Connection timed out', 'ERR Host is down', 'ERR No route to host', 'ERR Connection reset by peer', 'ERR Network is unreachable'])(
    'twemproxy\'s %s means the node behind it is unavailable',
    (message) => {
      expect(redisReplyReason(message)).toBe('unavailable');
      expect(countsForReply(message)).toBe(true);
    },
  );

  it.each([
    'WRONGTYPE Operation against a key holding the wrong kind of value',
    "ERR wrong number of arguments for 'get' command",
    'ERR value is not an integer or out of range',
    'ERR syntax error',
    'NOPERM User app has no permissions to run the \'flushdb\' command',
    'NOSCRIPT No matching script. Please use EVAL.',
  ])('%s is about the request: the node is healthy', (message) => {
    expect(redisReplyReason(message)).toBe('rejected');
    expect(countsForReply(message)).toBe(false);
  });

  it('lists every code the issue names as unavailable', () => {
    for (const code of ['LOADING', 'MASTERDOWN', 'BUSY', 'TRYAGAIN', 'CLUSTERDOWN', 'READONLY']) expect(SERVER_UNAVAILABLE_CODES).toContain(code);
    for (const code of SERVER_UNAVAILABLE_CODES) expect(redisReplyReason(`${code} text`)).toBe('server');
  });
});

describe('cache failures', () => {
  it('are node errors of any reason, missed deadlines and open breakers; not bad input or foreign errors', () => {
    expect(isCacheFailure(new NodeError('n:1', 'rejected', 'too large'))).toBe(true);
    expect(isCacheFailure(new DeadlineError('n:1', 'get', 10))).toBe(true);
    expect(isCacheFailure(new BreakerOpenError('n:1'))).toBe(true);
    expect(isCacheFailure(new InvalidKeyError('bad'))).toBe(false);
    expect(isCacheFailure(new TypeError('loader bug'))).toBe(false);
  });
});
