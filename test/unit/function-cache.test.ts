/** The analysis cache stays bounded under long editing (issue 15.12), and keeps what every analysis reads. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cacheSize, memo, withIsolatedCache } from '../../server/src/diagnostics/function-cache';

test('100,000 distinct keys: the cache holds at most two generations, and a key read all along stays', () =>
  withIsolatedCache(() => {
    let computed = 0;
    const hot = () =>
      memo('hot', () => {
        computed++;
        return 1;
      });
    hot();
    let peak = 0;
    for (let i = 0; i < 100000; i++) {
      memo(`edit ${i}`, () => i);
      if (i % 100 === 0) hot(); // an unchanged function's findings, read on every analysis
      peak = Math.max(peak, cacheSize());
    }
    assert.ok(peak <= 8000, `peak ${peak} entries`);
    assert.equal(computed, 1, 'the hot entry was never dropped');
  }));
