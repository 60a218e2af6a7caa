import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DurationError, formatDuration, MAX_DURATION_MS, parseDuration } from '../../src/config/duration.ts';

describe('parseDuration', () => {
  const good: [string, number][] = [
    ['30s', 30_000],
    ['10m', 600_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['0s', 0],
    ['0', 0],
    ['1.5s', 1500],
    ['2m30s', 150_000],
    ['1h0m5s', 3_605_000],
    [' 45s ', 45_000],
    ['596h', 596 * 3_600_000],
  ];
  for (const [text, ms] of good) {
    it(`Reads "${text}" as ${ms} ms`, () => assert.equal(parseDuration(text), ms));
  }

  const bad: [string, RegExp][] = [
    ['', /is not a duration/],
    ['30', /is not a duration.*500ms, 30s/],
    ['thirty seconds', /"thirty seconds" is not a duration/],
    ['-5s', /"-5s" is negative/],
    ['10x', /units ms, s, m, h/],
    ['1d', /"1d" is not a duration/],
    ['10 m', /is not a duration/],
    ['1h 30m', /is not a duration/],
    ['s', /is not a duration/],
    ['1e3s', /is not a duration/],
    ['NaNs', /is not a duration/],
    ['597h', /"597h" is too long/],
    [`${'9'.repeat(400)}h`, /is too long/],
  ];
  for (const [text, message] of bad) {
    it(`Rejects "${text.slice(0, 20)}" quoting it and saying the accepted form`, () => {
      assert.throws(
        () => parseDuration(text),
        (error: unknown) => {
          assert.ok(error instanceof DurationError);
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }

  it('Accepts exactly the longest duration a timer can hold', () => {
    assert.equal(parseDuration(`${MAX_DURATION_MS}ms`), MAX_DURATION_MS);
    assert.throws(() => parseDuration(`${MAX_DURATION_MS + 1}ms`), DurationError);
  });
});

describe('formatDuration', () => {
  const cases: [number, string][] = [
    [0, '0s'],
    [-3, '0s'],
    [500, '500ms'],
    [1500, '1.5s'],
    [30_000, '30s'],
    [600_000, '10m'],
    [150_000, '2m30s'],
    [5_400_000, '1h30m0s'],
  ];
  for (const [ms, text] of cases) {
    it(`Writes ${ms} ms as ${text}`, () => assert.equal(formatDuration(ms), text));
  }

  it('Writes durations that parseDuration reads back', () => {
    for (const ms of [0, 1, 999, 1000, 1500, 59_000, 61_000, 3_600_000, 3_661_000]) {
      assert.equal(parseDuration(formatDuration(ms)), ms);
    }
  });
});
