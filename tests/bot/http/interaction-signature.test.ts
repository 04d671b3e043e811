import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkInteractionSignature, interactionPublicKey, SIGNATURE_MAX_AGE_S } from '../../../src/bot/http/interaction-signature.js';

const pair = generateKeyPairSync('ed25519');
const publicHex = Buffer.from(String(pair.publicKey.export({ format: 'jwk' }).x), 'base64url').toString('hex');
const key = interactionPublicKey(publicHex);
const body = Buffer.from('{"type":1}');
const signed = (timestamp: string) => ({ timestamp, signature: sign(null, Buffer.concat([Buffer.from(timestamp), body]), pair.privateKey).toString('hex') });

describe('checkInteractionSignature (a fixed clock)', () => {
  it('accepts up to SIGNATURE_MAX_AGE_S either side of the clock, and refuses one second beyond', () => {
    const at = 1_800_000_000;
    const headers = signed(String(at));
    expect(checkInteractionSignature(key, headers, body, (at + SIGNATURE_MAX_AGE_S) * 1000)).toEqual({ ok: true });
    expect(checkInteractionSignature(key, headers, body, (at - SIGNATURE_MAX_AGE_S) * 1000)).toEqual({ ok: true });
    expect(checkInteractionSignature(key, headers, body, (at + SIGNATURE_MAX_AGE_S + 1) * 1000)).toEqual({ ok: false, reason: 'stale' });
    expect(checkInteractionSignature(key, headers, body, (at - SIGNATURE_MAX_AGE_S - 1) * 1000)).toEqual({ ok: false, reason: 'stale' });
  });

  it('names what is wrong: missing headers, a timestamp that is not a number, a signature of other bytes', () => {
    const at = 1_800_000_000;
    const headers = signed(String(at));
    expect(checkInteractionSignature(key, { signature: undefined, timestamp: headers.timestamp }, body, at * 1000)).toEqual({ ok: false, reason: 'missing' });
    expect(checkInteractionSignature(key, { ...headers, timestamp: '1.8e9' }, body, at * 1000)).toEqual({ ok: false, reason: 'stale' });
    expect(checkInteractionSignature(key, headers, Buffer.from('{"type":2}'), at * 1000)).toEqual({ ok: false, reason: 'invalid' });
    expect(checkInteractionSignature(key, { ...headers, signature: headers.signature.slice(2) }, body, at * 1000)).toEqual({ ok: false, reason: 'invalid' });
  });
});
