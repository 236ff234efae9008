import { describe, expect, it } from 'vitest';
import { RecentList } from '../../../src/alerts/recent-list.js';

describe('RecentList', () => {
  it('keeps the latest items up to its capacity, newest first', () => {
    const list = new RecentList<number>(3);
    expect(list.newest()).toEqual([]);
    for (let i = 1; i <= 5; i++) list.add(i);
    expect(list.size).toBe(3);
    expect(list.newest()).toEqual([5, 4, 3]);
    expect(list.newest(2)).toEqual([5, 4]);
    expect(list.newest(10)).toEqual([5, 4, 3]);
    expect(list.newest(0)).toEqual([]);
    expect(list.newest(Number.NaN)).toEqual([]);
  });

  it('keeps the newest when resized, and holds nothing at capacity 0', () => {
    const list = new RecentList<string>(4);
    for (const item of ['a', 'b', 'c', 'd']) list.add(item);
    list.resize(2);
    expect(list.newest()).toEqual(['d', 'c']);
    list.add('e');
    expect(list.newest()).toEqual(['e', 'd']);
    list.resize(3);
    list.add('f');
    expect(list.newest()).toEqual(['f', 'e', 'd']);
    list.resize(0);
    list.add('g');
    expect(list.newest()).toEqual([]);
  });
});
