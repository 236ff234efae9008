import type { LocalLevel } from './local-level.js';
import type { TierGuard } from './tier-guard.js';
import type { CacheTier } from './types.js';

/** @internal One tier as the engine drives it. */
export type Level = LocalLevel | RemoteLevel;

/** @internal A remote tier, behind its timeout and circuit breaker. */
export type RemoteLevel = { kind: 'remote'; guard: TierGuard<Uint8Array> };

/** @internal A local tier that answers synchronously: the one the hot path reads. */
export type PeekableTier = CacheTier<unknown> & Required<Pick<CacheTier<unknown>, 'peek'>>;
