// Cross-site scripting: markup or script URLs that a page reflecting the value would run.
import { AMP, BACKTICK, COLON, EQ, LT, NL, PAREN, QUOTE_D, QUOTE_S, SPACE } from '../char-class.js';
import { ALL_FIELDS, type BuiltinRule, firstMatch, prefilter, rule, W } from './rule.js';

const SCRIPT_TAG = /<\/?script(?:[\t-\r />]|$)/;
// `on...=` after a tag, quote, slash or space. Anchored on `on` so most characters fail at once.
const EVENT_HANDLER = new RegExp(`on(?<=(?:^|[\\t-\\r "'\`/;])on)[a-z]{3,30}${W}{0,8}=`);
const TAGS =
  'iframe|frame|frameset|svg|object|embed|applet|meta|base|math|isindex|img|image|body|style|link|video|audio|source|details|marquee|form|input|textarea|button|template|xmp|noscript|animate|set';
const HTML_TAG = new RegExp(`<\\/?(?=[a-z])(?:${TAGS})(?:[\\t-\\r />]|$)`);

// Browsers drop tabs and line breaks inside a URL, so `java\tscript:` still runs.
const spaced = (word: string) => word.split('').join('[\\t\\n\\r]{0,4}');
const SCRIPT_URL = new RegExp(
  `(?:${spaced('java')}|${spaced('vb')}|${spaced('live')})${spaced('script')}[\\t\\n\\r ]{0,8}(?::|&colon;|&#0{0,8}58;?|&#x0{0,8}3a;?)|\\bdata${W}{0,8}:${W}{0,8}text/html\\b`,
);
const mentionsCall = prefilter(['alert', 'prompt', 'confirm', 'eval', 'document', 'fromcharcode']);
const SCRIPT_CALL = new RegExp(
  `\\b(?:alert|prompt|confirm)${W}{0,4}(?:\\(${W}{0,4}(?:\\d|['"\`/]|document\\b|window\\b|this\\b|self\\b|top\\b|string\\b)|\`)|` +
    `\\beval${W}{0,4}\\(${W}{0,4}(?:atob|string|unescape|decodeuri|['"\`])|` +
    `\\bdocument${W}{0,4}\\.${W}{0,4}(?:cookie|domain|write)\\b|\\bstring\\.fromcharcode${W}{0,4}\\(`,
);

export const XSS_RULES: readonly BuiltinRule[] = [
  rule({
    id: 'xss.script-tag',
    category: 'xss',
    confidence: 0.9,
    description: 'a `<script` or `</script` tag',
    fields: ALL_FIELDS,
    all: LT,
    match: (text) => (text.includes('script') ? firstMatch(SCRIPT_TAG, text) : undefined),
  }),
  rule({
    id: 'xss.event-handler',
    category: 'xss',
    confidence: 0.8,
    description: 'an event handler attribute after a tag, quote or space: `onerror=`, `onload=`',
    fields: ALL_FIELDS,
    all: EQ,
    any: LT | QUOTE_S | QUOTE_D | BACKTICK | SPACE,
    match: (text) => (text.includes('on') ? firstMatch(EVENT_HANDLER, text) : undefined),
  }),
  rule({
    id: 'xss.html-tag',
    category: 'xss',
    confidence: 0.6,
    description: 'tags that load or run content: `<iframe`, `<svg`, `<object`, `<img`, `<body`...',
    fields: ALL_FIELDS,
    all: LT,
    match: (text) => firstMatch(HTML_TAG, text),
  }),
  rule({
    id: 'xss.script-url',
    category: 'xss',
    confidence: 0.8,
    description:
      '`javascript:` and `vbscript:` URLs (tabs and entities inside allowed), `data:text/html`',
    fields: ALL_FIELDS,
    any: COLON | AMP,
    // Tabs and line breaks may split the word, so without them the word must be there whole.
    match: (text, field) =>
      (field.mask & (NL | SPACE)) !== 0 || text.includes('script') || text.includes('data')
        ? firstMatch(SCRIPT_URL, text)
        : undefined,
  }),
  rule({
    id: 'xss.script-call',
    category: 'xss',
    confidence: 0.6,
    description:
      "script probes: `alert(1)`, `prompt('x')`, `alert`1``, `document.cookie`, `eval(atob(`",
    fields: ALL_FIELDS,
    any: PAREN | BACKTICK,
    match: (text) => (mentionsCall(text) ? firstMatch(SCRIPT_CALL, text) : undefined),
  }),
];
