// The cache view: hit ratios by tier and namespace, and each tier's circuit breaker.
import { $, num, setText, syncTable } from '../dom.js';
import { asNamedList, builtOrNull, fmtInteger, fmtMs, fmtRatio, ratioOf } from '../format.js';
import { tablesShowCluster } from './cluster.js';

/** Renders the cache section of a snapshot, or says the cache is not in use. */
export function renderCache(snapshot) {
  // With the cluster scope the figures are the deployment's (views/cluster.js).
  if (tablesShowCluster()) return;
  const cache = builtOrNull(snapshot.cache);
  $('cache-disabled').hidden = Boolean(cache);
  $('cache-content').hidden = !cache;
  if (!cache) return;
  setText('cache-ratio', fmtRatio(ratioOf(cache)));
  setText('cache-counts', `${fmtInteger(cache.hits)} hits · ${fmtInteger(cache.misses)} misses`);
  syncTable(
    'cache-tiers',
    null,
    asNamedList(cache.tiers),
    (tier) => tier.name,
    (tier) => [
      String(tier.name),
      { kind: 'ratio', ratio: ratioOf(tier) },
      num(fmtInteger(tier.hits)),
      num(fmtInteger(tier.misses)),
      num(fmtInteger(tier.errors)),
      num(fmtInteger(tier.timeouts)),
      num(fmtMs(tier.latencyP95Ms)),
      // The breaker's states, in the health palette: closed is the healthy one.
      {
        kind: 'badge',
        status: tier.circuit,
        tone: { closed: 'ok', 'half-open': 'degraded', open: 'down' }[tier.circuit],
      },
    ],
  );
  syncTable(
    'cache-namespaces',
    'cache-namespaces-empty',
    asNamedList(cache.namespaces),
    (ns) => ns.name,
    (ns) => [
      String(ns.name),
      { kind: 'ratio', ratio: ratioOf(ns) },
      num(fmtInteger(ns.hits)),
      num(fmtInteger(ns.misses)),
      num(fmtInteger(ns.staleServed)),
      num(fmtInteger(ns.loaderErrors)),
    ],
  );
}
