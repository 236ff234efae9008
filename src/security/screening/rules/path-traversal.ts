// Path traversal and file inclusion: climbing out of a directory, naming system files, or
// reaching files through a language's stream wrappers.
import { BACKSLASH, COLON, DOT2, SLASH } from '../char-class.js';
import { ALL_FIELDS, type BuiltinRule, firstMatch, prefilter, rule } from './rule.js';

// `..` as a whole segment, with `/` or `\` (IIS) around it, also `....//` (what a filter that
// strips `../` once leaves behind) and Tomcat's `..;/`.
const DOT_DOT = /(?:^|[/\\])\.{2,4}(?:;[^/\\]{0,16})?(?:[/\\]|$)/;
const mentionsFile = prefilter(['etc', 'proc', '.ini', 'system32', 'web-inf', '.ssh']);
const SENSITIVE_FILE =
  /[/\\]etc[/\\](?:passwd|shadow|group|hosts|issue|crontab|master\.passwd)\b|[/\\]proc[/\\]self[/\\]|\b(?:boot|win|system)\.ini\b|\bwindows[/\\]system32\b|\bweb-inf[/\\]web\.xml\b|[/\\]\.ssh[/\\](?:id_\w{2,8}|authorized_keys)\b/;
const STREAM_WRAPPER = /\b(?:file|php|phar|expect|zip|glob|jar|gopher|dict):\/\//;

export const PATH_TRAVERSAL_RULES: readonly BuiltinRule[] = [
  rule({
    id: 'traversal.dot-dot',
    category: 'path-traversal',
    confidence: 0.8,
    description:
      '`../` or `..\\` segments, decoded from any encoding (`%2e%2e%2f`, `%252e`, `%c0%ae`)',
    fields: ALL_FIELDS,
    all: DOT2,
    match: (text) => firstMatch(DOT_DOT, text),
  }),
  rule({
    id: 'traversal.sensitive-file',
    category: 'path-traversal',
    confidence: 0.9,
    description:
      'system files: `/etc/passwd`, `/proc/self/`, `boot.ini`, `win.ini`, `WEB-INF/web.xml`',
    fields: ALL_FIELDS,
    any: SLASH | BACKSLASH,
    match: (text) => (mentionsFile(text) ? firstMatch(SENSITIVE_FILE, text) : undefined),
  }),
  rule({
    id: 'traversal.stream-wrapper',
    category: 'path-traversal',
    confidence: 0.7,
    description:
      'file inclusion through stream wrappers: `file://`, `php://filter`, `phar://`, `expect://`',
    fields: ALL_FIELDS,
    all: COLON | SLASH,
    match: (text) => (text.includes('://') ? firstMatch(STREAM_WRAPPER, text) : undefined),
  }),
];
