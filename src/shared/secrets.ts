import { randomBytes, timingSafeEqual } from 'node:crypto';

/** Constant-time comparison of two secrets (different lengths are simply unequal). */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The value of one cookie in a `Cookie:` header, or ''. */
export function cookieValue(header: string | undefined, name: string): string {
  const match = header?.split(';').map((c) => c.trim()).find((c) => c.startsWith(`${name}=`));
  if (!match) return '';
  try {
    return decodeURIComponent(match.slice(name.length + 1));
  } catch {
    return '';
  }
}

/** An unguessable URL-safe token: `bytes` random bytes, base64url (32 bytes → 43 characters). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
