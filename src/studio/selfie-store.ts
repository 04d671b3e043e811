import { LRUCache } from 'lru-cache';
import { randomToken } from '../shared/secrets.js';

export interface HeldSelfie {
  bytes: Uint8Array;
  contentType: string;
}

/**
 * Photos waiting for a worker on another host, in memory only. Each is reachable once, by an unguessable token, until
 * its TTL: `take` hands it over and forgets it.
 */
export function createSelfieStore(options: { ttlMs: number; max: number }) {
  const held = new LRUCache<string, HeldSelfie>({ max: options.max, ttl: options.ttlMs, ttlAutopurge: true });
  return {
    hold(selfie: HeldSelfie): string {
      const token = randomToken();
      held.set(token, selfie);
      return token;
    },
    take(token: string): HeldSelfie | undefined {
      const selfie = held.get(token);
      if (selfie) held.delete(token);
      return selfie;
    },
    drop(token: string): void {
      held.delete(token);
    },
    get size(): number {
      return held.size;
    },
    clear(): void {
      held.clear();
    },
  };
}
export type SelfieStore = ReturnType<typeof createSelfieStore>;
