/**
 * 2-D projective geometry on 3×3 row-major matrices acting on column vectors (x, y, 1). Image coordinates are
 * continuous pixels: (0, 0) is the top-left corner of the top-left pixel, its centre is (0.5, 0.5); y points down.
 */
export type Mat3 = readonly [number, number, number, number, number, number, number, number, number];
export interface Point {
  x: number;
  y: number;
}

export const IDENTITY: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];

/** a · b: apply b first, then a. */
export function multiply(a: Mat3, b: Mat3): Mat3 {
  const m = new Array<number>(9);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) m[r * 3 + c] = a[r * 3]! * b[c]! + a[r * 3 + 1]! * b[3 + c]! + a[r * 3 + 2]! * b[6 + c]!;
  }
  return m as unknown as Mat3;
}

export function invert(m: Mat3): Mat3 {
  const [a, b, c, d, e, f, g, h, i] = m;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  if (!Number.isFinite(det) || Math.abs(det) < 1e-12) throw new RangeError(`matrix is singular (det ${det})`);
  const s = 1 / det;
  if (g === 0 && h === 0 && i === 1) {
    // Affine: keep the last row exact so affine-only consumers can check it.
    return [A * s, -(b * i - c * h) * s, (b * f - c * e) * s, B * s, (a * i - c * g) * s, -(a * f - c * d) * s, 0, 0, 1];
  }
  return [
    A * s, -(b * i - c * h) * s, (b * f - c * e) * s,
    B * s, (a * i - c * g) * s, -(a * f - c * d) * s,
    C * s, -(a * h - b * g) * s, (a * e - b * d) * s,
  ];
}

export function apply(m: Mat3, p: Point): Point {
  const w = m[6] * p.x + m[7] * p.y + m[8];
  return { x: (m[0] * p.x + m[1] * p.y + m[2]) / w, y: (m[3] * p.x + m[4] * p.y + m[5]) / w };
}

export const translate = (tx: number, ty: number): Mat3 => [1, 0, tx, 0, 1, ty, 0, 0, 1];
export const scale = (sx: number, sy = sx): Mat3 => [sx, 0, 0, 0, sy, 0, 0, 0, 1];
/** Rotation by `radians` in image coordinates (y down): positive turns +x towards +y (clockwise on screen). */
export function rotate(radians: number): Mat3 {
  const c = Math.cos(radians);
  const s = Math.sin(radians);
  return [c, -s, 0, s, c, 0, 0, 0, 1];
}

/** The affine map sending the unit square's corners (0,0), (1,0), (0,1) to o, o + u, o + v. */
export function fromBasis(o: Point, u: Point, v: Point): Mat3 {
  return [u.x, v.x, o.x, u.y, v.y, o.y, 0, 0, 1];
}

export const add = (a: Point, b: Point): Point => ({ x: a.x + b.x, y: a.y + b.y });
export const sub = (a: Point, b: Point): Point => ({ x: a.x - b.x, y: a.y - b.y });
export const mul = (a: Point, k: number): Point => ({ x: a.x * k, y: a.y * k });
export const length = (a: Point): number => Math.hypot(a.x, a.y);
export const mean = (points: readonly Point[]): Point =>
  mul(points.reduce((s, p) => add(s, p), { x: 0, y: 0 }), 1 / points.length);
