import { describe, expect, it } from 'vitest';
import { redisErrorListener } from '../../src/shared/redis.js';
import { capturedLogger } from '../helpers/worker-harness.js';

describe('redisErrorListener', () => {
  it('logs a Sentinel or Cluster outage once per distinct message as a warning, anything else as an error', () => {
    const { logger, lines } = capturedLogger('redis-test');
    const listen = redisErrorListener(logger, 'bot Redis client');
    const outage = ['All sentinels are unreachable. Retrying from scratch after 10ms.', 'Failed to refresh slots cache.', 'CLUSTERDOWN The cluster is down', "READONLY You can't write against a read only replica."];
    for (const message of [outage[0]!, ...outage]) listen(new Error(message));
    listen(new Error('ERR unknown command'));
    const levels = lines.map((line) => (JSON.parse(line) as { level: number }).level);
    expect(levels).toEqual([40, 40, 40, 40, 50]);
  });
});
