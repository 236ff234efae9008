// SQL injection: text that closes a string or a statement and goes on in SQL. Each pattern is
// anchored on a quote, a keyword or a separator and uses bounded repetitions only.
import {
  AT,
  BACKTICK,
  DASH2,
  EQ,
  HASH,
  PAREN,
  QUOTE_D,
  QUOTE_S,
  SEMI,
  SLASHSTAR,
  SPACE,
  UNDERSCORE,
} from '../char-class.js';
import {
  ALL_FIELDS,
  type BuiltinRule,
  type Field,
  firstMatch,
  prefilter,
  rule,
  W,
} from './rule.js';

/**
 * The text with SQL block comments blanked (`union/**\/select` reads `union select`); MySQL's
 * executable comments (`/*!50000select*\/`) keep their content. Built once per field.
 */
export function sqlText(text: string, field: Field): string {
  if (field.sql !== undefined) return field.sql;
  if ((field.mask & SLASHSTAR) === 0) return (field.sql = text);
  let out = '';
  let last = 0;
  let open = 0; // executable comments open
  let i = text.indexOf('/*');
  while (i >= 0 || open > 0) {
    const close = open > 0 ? text.indexOf('*/', last) : -1;
    if (close >= 0 && (i < 0 || close < i)) {
      out += `${text.slice(last, close)} `;
      last = close + 2;
      open--;
    } else if (i < 0) {
      break;
    } else if (text.charCodeAt(i + 2) === 33) {
      let j = i + 3;
      while (j < text.length && j < i + 9 && text.charCodeAt(j) >= 48 && text.charCodeAt(j) <= 57)
        j++;
      out += `${text.slice(last, i)} `;
      last = j;
      open++;
    } else {
      const end = text.indexOf('*/', i + 2);
      out += `${text.slice(last, i)} `;
      last = end < 0 ? text.length : end + 2;
    }
    i = last < text.length ? text.indexOf('/*', last) : -1;
  }
  return (field.sql = out + text.slice(last));
}

const OPERATOR = `(?:=|<>|!=|<=|>=|<|>|${W}(?:like|is|rlike|regexp|between)\\b)`;
const UNION_SELECT = /\bunion[\t-\r (]{1,8}(?:(?:all|distinct)[\t-\r (]{1,8})?select\b/;
// A closing quote, `or`/`and`, then a comparison whose operand is quoted, bare, or a constant.
// The look-ahead after the quote lets most quotes fail on their next character.
const TAUTOLOGY = new RegExp(
  `['"\`](?=[)\\t-\\r oax|&])\\)?${W}{0,8}(?:(?:or|and|xor)\\b|\\|\\||&&)${W}{0,8}(?:not\\b${W}{1,8})?\\(?` +
    `(?:['"\`][\\w.-]{0,32}['"\`]${W}{0,8}${OPERATOR}|[\\w.-]{1,32}${W}{0,8}${OPERATOR}|(?:true|false|null)\\b)`,
);
const ALWAYS_TRUE = new RegExp(
  `\\b(?:or|and|xor)${W}{1,8}(['"]?)(\\w{1,16})\\1${W}{0,8}=${W}{0,8}\\1\\2\\1(?!\\w)`,
);
const STACKED_WORDS = [
  'drop',
  'delete',
  'insert',
  'update',
  'select',
  'shutdown',
  'exec',
  'declare',
  'truncate',
  'alter',
  'create',
  'waitfor',
];
const STACKED = new RegExp(
  `;${W}{0,8}(?:drop${W}{1,8}(?:table|database|schema)\\b|delete${W}{1,8}from\\b|insert${W}{1,8}into\\b|` +
    `update${W}{1,8}[\\w.\`"[\\]]{1,64}${W}{1,8}set\\b|` +
    `select${W}{1,8}(?:\\*|@@|\\d|null\\b|sleep\\b|pg_sleep\\b|user\\b|version\\b|load_file\\b|char\\b|concat\\b|current_user\\b|database\\b)|` +
    `shutdown\\b|exec(?:ute)?${W}{1,8}(?:xp_|sp_|master\\.)|declare${W}{1,8}@|truncate${W}{1,8}table\\b|` +
    `alter${W}{1,8}(?:table|user|database)\\b|create${W}{1,8}(?:table|user|database|function|procedure)\\b|waitfor${W}{1,8}delay\\b)`,
);
const QUOTE_COMMENT = new RegExp(`['\`](?=[)\\t-\\r #/-])\\)?${W}{0,8}(?:--|#(?:${W}|$)|/\\*)`);
const VERSIONED_COMMENT = /\/\*!\d{0,6}/;
const TIME_WORDS = ['sleep', 'benchmark', 'waitfor', 'dbms_', 'randomblob'];
const TIME_BASED = new RegExp(
  `\\bsleep\\(${W}{0,8}\\d{1,3}(?:\\.\\d{1,3})?${W}{0,8}\\)|\\bpg_sleep${W}{0,8}\\(${W}{0,8}\\d|` +
    `\\bbenchmark${W}{0,8}\\(${W}{0,8}\\d{3,}|\\bwaitfor${W}{1,8}(?:delay|time)${W}{1,8}['"]|` +
    `\\bdbms_(?:lock\\.sleep|pipe\\.receive_message)\\b|\\brandomblob${W}{0,8}\\(${W}{0,8}\\d{6,}`,
);
const INTERNAL_WORDS = [
  'information_schema',
  'sqlite_master',
  'pg_catalog',
  'mysql.user',
  'sysobjects',
  'syscolumns',
  'sysdatabases',
  '@@',
  'load_file',
  'outfile',
  'dumpfile',
  'xp_cmdshell',
  'utl_http',
  'extractvalue',
  'updatexml',
];
const INTERNALS = new RegExp(
  `\\binformation_schema\\b|\\bsqlite_master\\b|\\bpg_catalog\\b|\\bmysql\\.user\\b|\\bsys(?:objects|columns|databases)\\b|` +
    `@@(?:version|datadir|hostname)\\b|\\bload_file${W}{0,8}\\(|\\binto${W}{1,8}(?:out|dump)file\\b|\\bxp_cmdshell\\b|` +
    `\\butl_http\\b|\\b(?:extractvalue|updatexml)${W}{0,8}\\(`,
);

/** A pattern over the comment-blanked text, once a cheap search found one of `words`. */
const sql = (pattern: RegExp, words: readonly string[]) => {
  const mentions = prefilter(words);
  return (text: string, field: Field) =>
    mentions(text) ? firstMatch(pattern, sqlText(text, field)) : undefined;
};
const timeBased = sql(TIME_BASED, TIME_WORDS);

export const SQL_INJECTION_RULES: readonly BuiltinRule[] = [
  rule({
    id: 'sqli.union-select',
    category: 'sql-injection',
    confidence: 0.9,
    description: '`union select` (comments and parentheses between the words allowed)',
    fields: ALL_FIELDS,
    any: SPACE | PAREN | SLASHSTAR,
    match: (text, field) =>
      text.includes('union') && text.includes('select')
        ? firstMatch(UNION_SELECT, sqlText(text, field))
        : undefined,
  }),
  rule({
    id: 'sqli.tautology',
    category: 'sql-injection',
    confidence: 0.8,
    description: 'a quote closed and a condition added: `\' or 1=1`, `" or ""="`, `\') or true`',
    fields: ALL_FIELDS,
    any: QUOTE_S | QUOTE_D | BACKTICK,
    match: sql(TAUTOLOGY, ['or', 'and', '||', '&&']),
  }),
  rule({
    id: 'sqli.always-true',
    category: 'sql-injection',
    confidence: 0.7,
    description: 'a condition comparing a value with itself: `or 1=1`, `and 2=2`',
    fields: ALL_FIELDS,
    all: SPACE | EQ,
    match: sql(ALWAYS_TRUE, ['or', 'and']),
  }),
  rule({
    id: 'sqli.stacked-query',
    category: 'sql-injection',
    confidence: 0.8,
    description: 'a second statement after `;`: `; drop table`, `; select @@version`, `; exec xp_`',
    fields: ALL_FIELDS,
    all: SEMI,
    match: sql(STACKED, STACKED_WORDS),
  }),
  rule({
    id: 'sqli.comment',
    category: 'sql-injection',
    confidence: 0.6,
    description:
      "a quote followed by a comment (`admin'--`, `'#`, `'/*`), or MySQL's `/*!` comment",
    fields: ALL_FIELDS,
    any: QUOTE_S | BACKTICK | SLASHSTAR,
    also: DASH2 | HASH | SLASHSTAR,
    match: (text, field) =>
      ((field.mask & SLASHSTAR) !== 0 ? firstMatch(VERSIONED_COMMENT, text) : undefined) ??
      ((field.mask & (QUOTE_S | BACKTICK)) !== 0 ? firstMatch(QUOTE_COMMENT, text) : undefined),
  }),
  rule({
    id: 'sqli.time-based',
    category: 'sql-injection',
    confidence: 0.9,
    description:
      'delays for blind injection: `sleep(5)`, `pg_sleep(`, `benchmark(`, `waitfor delay`',
    fields: ALL_FIELDS,
    any: PAREN | QUOTE_S | QUOTE_D,
    // Without a parenthesis, only `waitfor delay '...'` can match.
    match: (text, field) =>
      (field.mask & PAREN) !== 0 || text.includes('waitfor') ? timeBased(text, field) : undefined,
  }),
  rule({
    id: 'sqli.database-internals',
    category: 'sql-injection',
    confidence: 0.8,
    description:
      'system tables and functions: `information_schema`, `@@version`, `load_file(`, `into outfile`, `xp_cmdshell`',
    fields: ALL_FIELDS,
    // Each name holds `_`, `@` or `(`, but for `mysql.user`, `sysobjects` and `into outfile`,
    // which come after a `union select` or a stacked query when they come.
    any: UNDERSCORE | AT | PAREN,
    match: sql(INTERNALS, INTERNAL_WORDS),
  }),
];
