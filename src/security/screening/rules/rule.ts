// The shape of a built-in rule: where it looks, which characters it cannot match without, and
// its matcher. The gates keep the regexes off the fields that cannot match, which is most fields.
import type { ThreatCategory } from '../../types.js';
import type { ScreenedField } from '../types.js';

// Field bits: finer than the public kinds, so a rule can read query values but not names.
export const PATH = 1;
export const QUERY_NAME = 2;
export const QUERY_VALUE = 4;
export const USER_AGENT = 8;
export const REFERER = 16;
export const FORWARDED_FOR = 32;
export const COOKIE_NAME = 64;
export const COOKIE_VALUE = 128;
/** Headers named in the `headers` option. */
export const OTHER_HEADER = 256;
export const QUERY = QUERY_NAME | QUERY_VALUE;
export const HEADERS = USER_AGENT | REFERER | FORWARDED_FOR | OTHER_HEADER;
export const COOKIES = COOKIE_NAME | COOKIE_VALUE;
export const URL_PARTS = PATH | QUERY;
export const ALL_FIELDS = URL_PARTS | HEADERS | COOKIES;

/** A field being screened: what rules see, with what the screener learnt while reading it. */
export interface Field extends ScreenedField {
  /** One of the field bits. */
  bit: number;
  /** Character classes of the decoded text (char-class.ts). */
  mask: number;
  /** What decoding found (decode.ts). */
  flags: number;
  /** The text with SQL comments blanked, built by the first SQL rule that needs it. */
  sql?: string;
}

export interface BuiltinRule {
  id: string;
  category: ThreatCategory;
  confidence: number;
  description: string;
  /** Field bits it reads. */
  fields: number;
  /** Character classes a field must hold all of, and at least one of (0: no condition). */
  all: number;
  any: number;
  /** A second set of classes of which a field must hold one (0: no condition). */
  also: number;
  /** Decoding flags of which one must be set (0: no condition). */
  flags: number;
  /** The evidence of a match, or undefined. */
  match(text: string, field: Field): string | undefined;
}

type RuleDefinition = Omit<BuiltinRule, 'all' | 'any' | 'also' | 'flags'> &
  Partial<Pick<BuiltinRule, 'all' | 'any' | 'also' | 'flags'>>;

export function rule(definition: RuleDefinition): BuiltinRule {
  return { all: 0, any: 0, also: 0, flags: 0, ...definition };
}

/**
 * Whitespace as a server-side parser sees it once the text is NFKC-normalised (which turns the
 * Unicode spaces into U+0020): narrower and cheaper than `\s`.
 */
export const W = '[\\t-\\r ]';

/**
 * A cheap check before a costlier pattern: whether a long text holds one of `needles`, in one
 * scan (a search per needle would cost a pass each). Short texts skip it: their pattern costs less.
 */
export function prefilter(needles: readonly string[]): (text: string) => boolean {
  const pattern = new RegExp(
    needles.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'),
  );
  return (text) => text.length < 128 || pattern.test(text);
}

/** The first match of `pattern` in `text`, or undefined. */
export function firstMatch(pattern: RegExp, text: string): string | undefined {
  const match = pattern.exec(text);
  return match === null ? undefined : match[0];
}
