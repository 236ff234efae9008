/** Longest fingerprint kept as a label value; longer ones are cut and suffixed with a hash. */
const MAX_FINGERPRINT = 300;

/**
 * The statement fingerprint of `sql`: what identifies "the same query" whatever its arguments.
 * Comments are removed, string, numeric and dollar-quoted literals and `$n` parameters become `?`,
 * whitespace is collapsed to single spaces, lists such as `IN (?, ?, ?)`, `ARRAY[?, ?]` and
 * multi-row `VALUES (?, ?), (?, ?)` collapse to one element, and a trailing `;` is dropped.
 * Identifiers (quoted or not) and keywords are kept as written. Fingerprints longer than 300
 * characters are cut and end with a hash of the whole, so two long statements stay apart.
 *
 * Literal values never appear in a fingerprint, so neither do the secrets or personal data they
 * may hold: fingerprints are safe to show on the dashboard and to export as a Prometheus label.
 *
 * @example
 * ```ts
 * sqlFingerprint("SELECT * FROM users WHERE id IN (1, 2, 3) AND name = 'bob'");
 * // 'SELECT * FROM users WHERE id IN (?) AND name = ?'
 * ```
 */
export function sqlFingerprint(sql: string): string {
  let out = '';
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    // -- line comment
    if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i + 2);
      i = end === -1 ? n : end;
      out += ' ';
      continue;
    }
    // /* block comment */ (PostgreSQL nests them)
    if (c === '/' && next === '*') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
      out += ' ';
      continue;
    }
    // 'string', E'string', with '' and (for E'') backslash escapes
    if (c === "'" || ((c === 'E' || c === 'e') && next === "'" && !isWordChar(sql[i - 1]))) {
      const escapes = c !== "'";
      i += escapes ? 2 : 1;
      while (i < n) {
        if (escapes && sql[i] === '\\') {
          i += 2;
          continue;
        }
        if (sql[i] === "'") {
          if (sql[i + 1] === "'") {
            i += 2;
            continue;
          }
          i++;
          break;
        }
        i++;
      }
      out += '?';
      continue;
    }
    // "quoted identifier": kept as is
    if (c === '"') {
      const end = sql.indexOf('"', i + 1);
      const stop = end === -1 ? n : end + 1;
      out += sql.slice(i, stop);
      i = stop;
      continue;
    }
    if (c === '$') {
      // $1 parameter
      if (isDigit(next)) {
        i++;
        while (i < n && isDigit(sql[i])) i++;
        out += '?';
        continue;
      }
      // $$dollar quoted$$ or $tag$...$tag$
      const tagMatch = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64));
      if (tagMatch !== null && !isWordChar(sql[i - 1])) {
        const tag = tagMatch[0];
        const end = sql.indexOf(tag, i + tag.length);
        i = end === -1 ? n : end + tag.length;
        out += '?';
        continue;
      }
    }
    // numbers not part of an identifier: 42, 3.14, .5, 1e-3
    if ((isDigit(c) || (c === '.' && isDigit(next))) && !isWordChar(sql[i - 1])) {
      i++;
      while (i < n && (isDigit(sql[i]) || sql[i] === '.')) i++;
      if ((sql[i] === 'e' || sql[i] === 'E') && /[-+\d]/.test(sql[i + 1] ?? '')) {
        i += 2;
        while (i < n && isDigit(sql[i])) i++;
      }
      out += '?';
      continue;
    }
    out += c;
    i++;
  }
  let text = out.replace(/\s+/g, ' ').trim();
  text = text.replace(/\s*;\s*$/, '');
  // Tidy the spacing around list punctuation so `IN (?,?)` and `IN ( ?, ? )` agree.
  text = text
    .replace(/\(\s+/g, '(')
    .replace(/\s+\)/g, ')')
    .replace(/\s*,\s*/g, ', ');
  // IN (?, ?, ?) and ARRAY[?, ?] hold one element each.
  text = text.replace(/\((?:\?, )+\?\)/g, '(?)').replace(/\[(?:\?, )+\?\]/g, '[?]');
  // VALUES (?, ?), (?, ?), ... keeps its first row.
  text = text.replace(/(\((?:\?(?:, )?)+\))(?:, \((?:\?(?:, )?)+\))+/g, '$1');
  if (text.length > MAX_FINGERPRINT) {
    text = `${text.slice(0, MAX_FINGERPRINT - 13)}... #${hash(text)}`;
  }
  return text;
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

function isWordChar(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_$]/.test(c);
}

/** FNV-1a, 32 bits, as 8 hex digits. */
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}
