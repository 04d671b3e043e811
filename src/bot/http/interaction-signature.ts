import { createPublicKey, verify, type KeyObject } from 'node:crypto';

/** Discord signs each HTTP interaction at send time; older ones are refused, so a captured request cannot be replayed later. */
export const SIGNATURE_MAX_AGE_S = 5 * 60;

/** The application's public key (64 hex characters, as the developer portal shows it) as an Ed25519 key. */
export function interactionPublicKey(hex: string): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(hex, 'hex').toString('base64url') }, format: 'jwk' });
}

export type SignatureCheck = { ok: true } | { ok: false; reason: 'missing' | 'stale' | 'invalid' };

/**
 * Discord's check: an Ed25519 signature (`X-Signature-Ed25519`, hex) over the `X-Signature-Timestamp` header
 * followed by the raw body, plus a timestamp within SIGNATURE_MAX_AGE_S of this host's clock (either way).
 */
export function checkInteractionSignature(
  key: KeyObject,
  headers: { signature: string | undefined; timestamp: string | undefined },
  rawBody: Buffer,
  nowMs = Date.now(),
): SignatureCheck {
  const { signature, timestamp } = headers;
  if (!signature || !timestamp) return { ok: false, reason: 'missing' };
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(nowMs / 1000 - Number(timestamp)) > SIGNATURE_MAX_AGE_S) return { ok: false, reason: 'stale' };
  if (!/^[0-9a-fA-F]{128}$/.test(signature)) return { ok: false, reason: 'invalid' };
  const signed = Buffer.concat([Buffer.from(timestamp, 'utf8'), rawBody]);
  return verify(null, signed, key, Buffer.from(signature, 'hex')) ? { ok: true } : { ok: false, reason: 'invalid' };
}
