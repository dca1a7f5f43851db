import { describe, expect, it } from 'vitest';
import { canonicalValue, CellTypeError } from './values.js';

describe('canonicalValue', () => {
  it('passes NULL through for every type', () => {
    for (const type of ['text', 'integer', 'bigint', 'numeric', 'boolean', 'timestamp', 'json', 'uuid'] as const) {
      expect(canonicalValue(type, null)).toBeNull();
      expect(canonicalValue(type, undefined)).toBeNull();
    }
  });

  it('normalizes timestamps to ISO-8601 UTC, reading offset-less ones as UTC', () => {
    expect(canonicalValue('timestamp', '2024-05-01T12:00:00+02:00')).toBe('2024-05-01T10:00:00.000Z');
    expect(canonicalValue('timestamp', '2024-05-01 10:00:00')).toBe('2024-05-01T10:00:00.000Z');
    expect(() => canonicalValue('timestamp', 'yesterday')).toThrow(CellTypeError);
    expect(() => canonicalValue('timestamp', 1714557600000)).toThrow(CellTypeError);
  });

  it('keeps integers exact and in range', () => {
    expect(canonicalValue('integer', 42)).toBe(42);
    expect(canonicalValue('integer', '-7')).toBe(-7);
    expect(canonicalValue('bigint', '9223372036854775807')).toBe('9223372036854775807');
    expect(() => canonicalValue('integer', 2 ** 31)).toThrow(CellTypeError);
    expect(() => canonicalValue('bigint', '9223372036854775808')).toThrow(CellTypeError);
    expect(() => canonicalValue('integer', 1.5)).toThrow(CellTypeError);
    expect(() => canonicalValue('integer', 'seven')).toThrow(CellTypeError);
  });

  it('accepts numbers and numeric text for numeric columns', () => {
    expect(canonicalValue('numeric', 2.5)).toBe(2.5);
    expect(canonicalValue('numeric', ' 1.50 ')).toBe('1.50');
    expect(() => canonicalValue('numeric', 'NaN')).toThrow(CellTypeError);
    expect(() => canonicalValue('numeric', Number.POSITIVE_INFINITY)).toThrow(CellTypeError);
  });

  it('reads booleans from their usual spellings only', () => {
    expect(canonicalValue('boolean', true)).toBe(true);
    expect(canonicalValue('boolean', 0)).toBe(false);
    expect(canonicalValue('boolean', 'true')).toBe(true);
    expect(() => canonicalValue('boolean', 'yes')).toThrow(CellTypeError);
  });

  it('stores JSON as JSON text, wrapping plain strings', () => {
    expect(canonicalValue('json', '{"a":1}')).toBe('{"a":1}');
    expect(canonicalValue('json', 'hello')).toBe('"hello"');
    expect(canonicalValue('json', 3)).toBe('3');
  });

  it('never puts a text value into its error message', () => {
    try {
      canonicalValue('integer', 'someone@example.com');
    } catch (error) {
      expect((error as Error).message).not.toContain('someone@example.com');
    }
  });
});
