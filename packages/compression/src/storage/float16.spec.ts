import { FLOAT16_MAX, float16BitsToNumber, float32ToFloat16Bits, roundToFloat16 } from './float16';

describe('float16 conversion', () => {
  it('encodes reference values', () => {
    expect(float32ToFloat16Bits(1)).toBe(0x3c00);
    expect(float32ToFloat16Bits(-2)).toBe(0xc000);
    expect(float32ToFloat16Bits(0.5)).toBe(0x3800);
    expect(float32ToFloat16Bits(FLOAT16_MAX)).toBe(0x7bff);
    expect(float32ToFloat16Bits(2 ** -14)).toBe(0x0400); // smallest normal
    expect(float32ToFloat16Bits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(float32ToFloat16Bits(0)).toBe(0x0000);
    expect(float32ToFloat16Bits(-0)).toBe(0x8000);
  });

  it('decodes reference values', () => {
    expect(float16BitsToNumber(0x3c00)).toBe(1);
    expect(float16BitsToNumber(0x7bff)).toBe(65504); // (1 + 1023/1024) · 2^15
    expect(float16BitsToNumber(0x0001)).toBe(2 ** -24);
    expect(float16BitsToNumber(0x03ff)).toBe(1023 * 2 ** -24);
    expect(float16BitsToNumber(0x7c00)).toBe(Infinity);
    expect(float16BitsToNumber(0xfc00)).toBe(-Infinity);
    expect(float16BitsToNumber(0x7e00)).toBeNaN();
  });

  it('round-trips every finite bit pattern', () => {
    const failures: number[] = [];
    for (let bits = 0; bits < 0x10000; bits++) {
      const exponent = (bits >>> 10) & 0x1f;
      if (exponent !== 0x1f && float32ToFloat16Bits(float16BitsToNumber(bits)) !== bits) {
        failures.push(bits);
      }
    }
    expect(failures).toEqual([]);
  });

  it('rounds every midpoint to the even neighbour', () => {
    // Between consecutive finite positive patterns b and b + 1, the midpoint is a float32
    // value. A tie goes to whichever of the two has an even last bit.
    const failures: string[] = [];
    for (let bits = 0; bits < 0x7bff; bits++) {
      const low = float16BitsToNumber(bits);
      const high = float16BitsToNumber(bits + 1);
      const midpoint = (low + high) / 2;
      const even = bits % 2 === 0 ? bits : bits + 1;
      if (Math.fround(midpoint) !== midpoint) {
        failures.push(`midpoint after ${bits} is not a float32`);
      }
      if (float32ToFloat16Bits(midpoint) !== even || float32ToFloat16Bits(-midpoint) !== (0x8000 | even)) {
        failures.push(`midpoint after ${bits} encodes as ${float32ToFloat16Bits(midpoint)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('rounds values off the midpoint to the nearest neighbour', () => {
    // 1 + 2^-11 is the midpoint of 1 and 1 + 2^-10; slightly above goes up, below goes down.
    expect(float32ToFloat16Bits(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01);
    expect(float32ToFloat16Bits(1 + 2 ** -11 - 2 ** -20)).toBe(0x3c00);
    expect(float32ToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie between 0x3c01 and 0x3c02
  });

  it('overflows at 65520 and underflows at 2^-25', () => {
    expect(float32ToFloat16Bits(65519)).toBe(0x7bff);
    expect(float32ToFloat16Bits(65520)).toBe(0x7c00); // midpoint of 65504 and 65536, odd side
    expect(float32ToFloat16Bits(-1e6)).toBe(0xfc00);
    expect(float32ToFloat16Bits(2 ** -25)).toBe(0x0000); // midpoint of 0 and 2^-24, ties to 0
    expect(float32ToFloat16Bits(2 ** -25 * 1.5)).toBe(0x0001);
    expect(float32ToFloat16Bits(1e-10)).toBe(0x0000);
    expect(float32ToFloat16Bits(Infinity)).toBe(0x7c00);
    expect(float32ToFloat16Bits(Number.NaN)).toBe(0x7e00);
  });

  it('rounds through float16 with roundToFloat16', () => {
    expect(roundToFloat16(0.1)).toBe(float16BitsToNumber(0x2e66)); // 0.0999755859375
    expect(Math.abs(roundToFloat16(0.1) - 0.1)).toBeLessThanOrEqual(0.1 * 2 ** -11);
  });
});
