/** What a progress line shows: counts and sizes as whole numbers, losses in short scientific form. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatEta, formatLoss, formatValue } from '../src/cli/progress';

test('stage, size and milliseconds read as whole numbers; losses keep four figures', () => {
  assert.equal(formatValue(1), '1');
  assert.equal(formatValue(512), '512');
  assert.equal(formatValue(296100), '296100');
  assert.equal(formatValue(1.095e7 + 0.5), '1.095e+7');
  assert.equal(formatValue(0.25), '0.250');
  assert.equal(formatLoss(12345.6), '1.235e+4');
});

test('ETAs in seconds, minutes and hours', () => {
  assert.equal(formatEta(7), '7s');
  assert.equal(formatEta(67), '1m07s');
  assert.equal(formatEta(4000), '1h06m');
  assert.equal(formatEta(NaN), '?');
});
