/**
 * Image formats named from the first bytes of a file (magic numbers), never from a name or a MIME type. Shared by
 * the bot (on the first SNIFF_HEAD_BYTES of an attachment, before queueing) and the pipeline's intake (on the whole
 * upload), so both accept and refuse the same files.
 */
export const ACCEPTED_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'avif', 'heif'] as const;
export type AcceptedFormat = (typeof ACCEPTED_FORMATS)[number];

/** Formats recognised only in order to name them in the refusal. */
export type RefusedFormat = 'svg' | 'tiff' | 'pdf' | 'bmp' | 'ico' | 'jp2' | 'jxl' | 'heic' | 'unknown';

/** Bytes that are always enough to sniff: the largest `ftyp` box read (ISO-BMFF brands) and the markup check. */
export const SNIFF_HEAD_BYTES = 4096;

export type SniffResult = { accepted: true; format: AcceptedFormat } | { accepted: false; format: RefusedFormat };

const ascii = (bytes: Uint8Array, start: number, end: number): string =>
  String.fromCharCode(...bytes.subarray(start, Math.min(end, bytes.length)));

const startsWith = (bytes: Uint8Array, signature: readonly number[], offset = 0): boolean =>
  bytes.length >= offset + signature.length && signature.every((b, i) => bytes[offset + i] === b);

const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs']);
const HEIF_BRANDS = new Set(['mif1', 'msf1', 'mif2', 'miaf']);

/** ISO-BMFF `ftyp` brands (major + compatible), bounded by the box and the first 4 KiB. */
function ftypBrands(bytes: Uint8Array): string[] | undefined {
  if (bytes.length < 16 || ascii(bytes, 4, 8) !== 'ftyp') return undefined;
  const size = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
  if (size < 16 || size > 4096 || size > bytes.length) return undefined;
  const brands = [ascii(bytes, 8, 12)];
  for (let at = 16; at + 4 <= size; at += 4) brands.push(ascii(bytes, at, at + 4));
  return brands;
}

function sniffIsoBmff(bytes: Uint8Array): SniffResult | undefined {
  const brands = ftypBrands(bytes);
  if (!brands) return undefined;
  if (brands.some((b) => AVIF_BRANDS.has(b))) return { accepted: true, format: 'avif' };
  // HEVC-coded HEIC is accepted here; whether this sharp build can decode it is found out by decoding.
  if (brands.some((b) => HEIC_BRANDS.has(b) || HEIF_BRANDS.has(b))) return { accepted: true, format: 'heif' };
  return undefined;
}

/** A text document that looks like SVG or other XML/HTML: named only so the refusal says what it was. */
function looksLikeMarkup(bytes: Uint8Array): boolean {
  const head = ascii(bytes, 0, 1024).replace(/^\uFEFF|^\xEF\xBB\xBF/, '').trimStart().toLowerCase();
  return head.startsWith('<?xml') || head.startsWith('<svg') || head.startsWith('<!doctype svg');
}

/**
 * Names the format of `bytes` from its first bytes only (magic numbers). Anything not listed as accepted in
 * intake.contract.ts is refused, whatever the file was called.
 */
export function sniffFormat(bytes: Uint8Array): SniffResult {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { accepted: true, format: 'jpeg' };
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { accepted: true, format: 'png' };
  if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a') return { accepted: true, format: 'gif' };
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return { accepted: true, format: 'webp' };
  const iso = sniffIsoBmff(bytes);
  if (iso) return iso;

  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) {
    return { accepted: false, format: 'tiff' };
  }
  if (startsWith(bytes, [0x49, 0x49, 0x2b, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2b])) {
    return { accepted: false, format: 'tiff' };
  }
  if (ascii(bytes, 0, 5) === '%PDF-') return { accepted: false, format: 'pdf' };
  if (ascii(bytes, 0, 2) === 'BM') return { accepted: false, format: 'bmp' };
  if (startsWith(bytes, [0x00, 0x00, 0x01, 0x00])) return { accepted: false, format: 'ico' };
  if (startsWith(bytes, [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20]) || startsWith(bytes, [0xff, 0x4f, 0xff, 0x51])) {
    return { accepted: false, format: 'jp2' };
  }
  if (startsWith(bytes, [0xff, 0x0a]) || startsWith(bytes, [0x00, 0x00, 0x00, 0x0c, 0x4a, 0x58, 0x4c, 0x20])) {
    return { accepted: false, format: 'jxl' };
  }
  if (looksLikeMarkup(bytes)) return { accepted: false, format: 'svg' };
  return { accepted: false, format: 'unknown' };
}
