import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { configure, createEnterprise, MonitorPerformance } from '../../src/index.js';

describe('@MonitorPerformance under experimentalDecorators', () => {
  it('records calls as Class.method', () => {
    const enterprise = configure({ logLevel: 'silent' });
    class Service {
      @MonitorPerformance()
      add(a: number, b: number) {
        return a + b;
      }
    }
    expect(new Service().add(1, 2)).toBe(3);
    expect(enterprise.performance.getStats('Service.add')?.windows.all.count).toBe(1);
    void createEnterprise;
  });
});
