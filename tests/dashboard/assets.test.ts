import { describe, expect, it } from 'vitest';
import { buildDashboardAssets } from '../../scripts/build-dashboard.mjs';
import { EMBEDDED_ASSETS } from '../../src/monitoring/dashboard/assets.generated.js';
import { dashboardAssetNames, getDashboardAsset } from '../../src/monitoring/dashboard/assets.js';

const text = (file: string): string => {
  const asset = getDashboardAsset(file);
  if (asset === undefined) throw new Error(`no asset ${file}`);
  return typeof asset.body === 'string' ? asset.body : new TextDecoder().decode(asset.body);
};

describe('dashboard assets', () => {
  it('the committed generated module matches its sources (run `node scripts/build-dashboard.mjs`)', () => {
    const { assets } = buildDashboardAssets();
    expect(Object.keys(EMBEDDED_ASSETS).sort()).toEqual(Object.keys(assets).sort());
    for (const [name, asset] of Object.entries(assets)) {
      const embedded = EMBEDDED_ASSETS[name]!;
      expect({ name, ...embedded }, `asset "${name}" is stale`).toEqual({ name, ...asset });
    }
  });

  it('serves the page and its four assets with their content types', () => {
    expect(dashboardAssetNames().sort()).toEqual([
      '',
      'app.css',
      'app.js',
      'uplot.css',
      'uplot.js',
    ]);
    expect(getDashboardAsset('')?.contentType).toBe('text/html; charset=utf-8');
    expect(getDashboardAsset('app.js')?.contentType).toBe('text/javascript; charset=utf-8');
    expect(getDashboardAsset('uplot.js')?.contentType).toBe('text/javascript; charset=utf-8');
    expect(getDashboardAsset('app.css')?.contentType).toBe('text/css; charset=utf-8');
    expect(getDashboardAsset('uplot.css')?.contentType).toBe('text/css; charset=utf-8');
    expect(getDashboardAsset('app.js')?.etag).toMatch(/^[\w-]{16}$/);
  });

  it('knows no other name, inherited properties and paths included', () => {
    for (const name of [
      'page.html',
      'assets.ts',
      '__proto__',
      'constructor',
      'toString',
      '../package.json',
      'app.js/',
      '/app.js',
      'APP.JS',
    ]) {
      expect(getDashboardAsset(name), name).toBeUndefined();
    }
  });

  it('links every asset relative to the page, with its content hash for cache busting', () => {
    const page = text('');
    for (const name of ['app.js', 'app.css', 'uplot.js', 'uplot.css']) {
      expect(page).toContain(`"dashboard/assets/${name}?v=${getDashboardAsset(name)!.etag}"`);
    }
  });

  it('is compatible with a strict CSP and makes no external request', () => {
    const page = text('');
    // Every <script> has a src; no <style> element, no style attribute, no inline handler.
    for (const tag of page.match(/<script\b[^>]*>/g) ?? []) expect(tag).toMatch(/\ssrc="/);
    expect(page).not.toMatch(/<style\b/i);
    expect(page).not.toMatch(/\sstyle=/i);
    expect(page).not.toMatch(/\son[a-z]+=/i);
    expect(page).not.toMatch(/javascript:/i);
    for (const file of ['', 'app.js', 'app.css']) {
      expect(text(file), file).not.toMatch(/https?:\/\/(?!github\.com\/leeoniya)/);
      expect(text(file), file).not.toMatch(/(src|href)="\/\//);
    }
    const app = text('app.js');
    // No HTML parsing of data, no eval, no inline style markup.
    for (const banned of [
      'innerHTML',
      'outerHTML',
      'insertAdjacentHTML',
      'document.write',
      'eval(',
      'new Function',
      "setAttribute('style'",
      'cssText',
    ]) {
      expect(app, banned).not.toContain(banned);
    }
    expect(text('app.css')).not.toMatch(/@import|url\(/);
  });

  it('keeps uPlot’s MIT licence notice in the served files', () => {
    for (const file of ['uplot.js', 'uplot.css']) {
      const body = text(file);
      expect(body.startsWith('/*! uPlot v')).toBe(true);
      expect(body).toContain('The MIT License (MIT)');
      expect(body).toContain('Copyright (c) 2022 Leon Sorokin');
      expect(body).toContain('Permission is hereby granted, free of charge');
    }
    expect(text('uplot.js')).toContain('var uPlot=');
  });
});
