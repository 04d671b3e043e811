/**
 * Whether an embedded ICC profile describes sRGB, read from its `desc` tag (v2 'desc' or v4 'mluc').
 * Intake skips the colour transform for those: sRGB → sRGB is an identity that costs ~50 ms on a 12 MP photo.
 * Anything unreadable counts as "not sRGB", so the profile is honoured.
 */
export function isSrgbProfile(icc: Uint8Array | undefined): boolean {
  if (!icc || icc.length < 132) return false;
  const view = new DataView(icc.buffer, icc.byteOffset, icc.byteLength);
  const text = (at: number, length: number) => String.fromCharCode(...icc.subarray(at, Math.min(at + length, icc.length)));
  if (text(16, 4) !== 'RGB ') return false;
  const tags = view.getUint32(128);
  for (let i = 0; i < Math.min(tags, 256); i += 1) {
    const entry = 132 + i * 12;
    if (entry + 12 > icc.length) return false;
    if (text(entry, 4) !== 'desc') continue;
    const offset = view.getUint32(entry + 4);
    const size = view.getUint32(entry + 8);
    if (offset + size > icc.length || size < 12) return false;
    return /\bsRGB\b/.test(describe(icc, view, offset, size));
  }
  return false;
}

function describe(icc: Uint8Array, view: DataView, offset: number, size: number): string {
  const type = String.fromCharCode(...icc.subarray(offset, offset + 4));
  if (type === 'desc') {
    const length = Math.min(view.getUint32(offset + 8), size - 12, 256);
    return String.fromCharCode(...icc.subarray(offset + 12, offset + 12 + length));
  }
  if (type === 'mluc' && size >= 28) {
    // First record: language, country, length, offset (from the tag start); UTF-16BE text.
    const length = Math.min(view.getUint32(offset + 20), 512);
    const start = offset + view.getUint32(offset + 24);
    if (start + length > offset + size) return '';
    let out = '';
    for (let at = start; at + 1 < start + length; at += 2) out += String.fromCharCode(view.getUint16(at));
    return out;
  }
  return '';
}
