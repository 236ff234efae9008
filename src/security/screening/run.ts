// One screening of one request: the findings so far, at most one per rule, and what the screener
// shares between requests (options, the per-rule dedup marks, the user-agent cache).
import type { ThreatEvent } from '../types.js';
import type { CompiledRule, ResolvedOptions } from './options.js';

/** Findings one request can produce at most. */
const MAX_FINDINGS = 32;
const EVIDENCE_LENGTH = 100;

/** A built-in rule's match, remembered for a user agent. */
export interface Finding {
  rule: CompiledRule;
  evidence: string;
}

/** What a screener shares between the requests it screens. */
export interface Engine {
  readonly o: ResolvedOptions;
  /** Per rule, the generation of the last request it fired on. */
  readonly fired: Uint32Array;
  /** Built-in findings by value, for the headers whose values come back. */
  readonly memos: {
    userAgent: Map<string, Finding[]>;
    referer: Map<string, Finding[]>;
    forwardedFor: Map<string, Finding[]>;
  };
  now(): number;
  ruleFailed(rule: CompiledRule, error: unknown): void;
}

/** Evidence for the record: short, one line, no control characters. */
export function evidenceOf(text: string): string {
  const cut = text.length > EVIDENCE_LENGTH ? text.slice(0, EVIDENCE_LENGTH) : text;
  let clean = '';
  let last = 0;
  for (let i = 0; i < cut.length; i++) {
    const c = cut.charCodeAt(i);
    if (c < 32 || c === 127) {
      clean += `${cut.slice(last, i)} `;
      last = i + 1;
    }
  }
  return last === 0 ? cut : clean + cut.slice(last);
}

export class Run {
  /** Null until the first finding (most requests have none: no array, no clock read). */
  events: ThreatEvent[] | null = null;
  #at = 0;

  constructor(
    readonly engine: Engine,
    readonly client: string,
    readonly correlationId: string | undefined,
    readonly generation: number,
  ) {}

  hasFired(rule: CompiledRule): boolean {
    return this.engine.fired[rule.index] === this.generation;
  }

  report(rule: CompiledRule, location: string, evidence: string): void {
    if (this.hasFired(rule)) return;
    this.engine.fired[rule.index] = this.generation;
    if (this.events === null) {
      this.events = [];
      this.#at = this.engine.now();
    }
    if (this.events.length >= MAX_FINDINGS) return;
    const event: ThreatEvent = {
      category: rule.category,
      confidence: rule.confidence,
      rule: rule.id,
      client: this.client,
      location,
      evidence: evidenceOf(evidence),
      blocked: rule.block,
      at: this.#at,
    };
    if (this.correlationId !== undefined) event.correlationId = this.correlationId;
    this.events.push(event);
  }
}
