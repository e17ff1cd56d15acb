// IEEE 754 binary16 conversion written out by hand, because Node 20 has neither
// Math.f16round nor Float16Array. Inputs are read as float32, the precision of the cache.

const float32Scratch = new Float32Array(1);
const float32Bits = new Uint32Array(float32Scratch.buffer);

/** Largest finite float16 value, 65504. */
export const FLOAT16_MAX = 65504;

/**
 * Converts a number to the bits of the nearest float16, rounding to nearest with ties to
 * even, after first rounding it to float32.
 *
 * Values of magnitude 65520 and above become ±Infinity, because 65520 lies halfway between
 * 65504 and 2^16 and rounds to the even side, which overflows. Magnitudes up to 2^-25 become
 * ±0, subnormal results are produced exactly, and NaN becomes the quiet NaN 0x7e00.
 *
 * @param value - any number.
 * @returns an integer in [0, 0xffff].
 * @example
 * float32ToFloat16Bits(1); // 0x3c00
 * float32ToFloat16Bits(65504); // 0x7bff
 */
export function float32ToFloat16Bits(value: number): number {
  float32Scratch[0] = value;
  const bits = float32Bits[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;

  // Infinity and NaN.
  if (exponent === 0xff) {
    return mantissa === 0 ? sign | 0x7c00 : 0x7e00;
  }

  // Normal float16 range: keep 10 of 23 mantissa bits, round the 13 dropped bits.
  const unbiased = exponent - 127;
  if (unbiased > 15) {
    return sign | 0x7c00;
  }
  if (unbiased >= -14) {
    let half = ((unbiased + 15) << 10) | (mantissa >>> 13);
    const dropped = mantissa & 0x1fff;
    if (dropped > 0x1000 || (dropped === 0x1000 && (half & 1) === 1)) {
      half += 1; // a carry into the exponent is correct, up to 0x7c00 = Infinity
    }
    return sign | half;
  }

  // Subnormal float16 range: count units of 2^-24, rounding the dropped bits.
  if (unbiased < -25) {
    return sign;
  }
  const significand = mantissa | 0x800000; // value = significand · 2^(unbiased − 23)
  const shift = -unbiased - 1; // in [14, 24]
  let half = significand >>> shift;
  const dropped = significand & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  if (dropped > halfway || (dropped === halfway && (half & 1) === 1)) {
    half += 1; // a carry into 0x400 gives the smallest normal value, which is correct
  }
  return sign | half;
}

/**
 * Converts float16 bits to the number they encode (exactly representable in float32).
 *
 * @param bits - an integer in [0, 0xffff].
 * @example
 * float16BitsToNumber(0x3c00); // 1
 * float16BitsToNumber(0x0001); // 2^-24
 */
export function float16BitsToNumber(bits: number): number {
  const sign = (bits & 0x8000) !== 0 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) {
    return sign * mantissa * 2 ** -24;
  }
  if (exponent === 0x1f) {
    return mantissa === 0 ? sign * Infinity : NaN;
  }
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** Rounds a number to the nearest float16 value (ties to even) and returns that value. */
export function roundToFloat16(value: number): number {
  return float16BitsToNumber(float32ToFloat16Bits(value));
}
