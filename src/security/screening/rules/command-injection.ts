// Command injection: a shell separator or substitution followed by a command, shell paths,
// Shellshock and Log4Shell lookups.
import {
  AMP,
  BACKSLASH,
  BACKTICK,
  DOLLAR,
  LBRACE,
  NL,
  PAREN,
  PIPE,
  SEMI,
  SLASH,
} from '../char-class.js';
import { ALL_FIELDS, type BuiltinRule, firstMatch, prefilter, rule, W } from './rule.js';

// Commands whose name is not an everyday word: enough on their own after a separator.
const DISTINCT =
  'whoami|uname|wget|curl|ncat|netcat|nc|zsh|ksh|powershell|pwsh|certutil|ifconfig|ipconfig|systeminfo|busybox|nslookup|chmod|chown|telnet|tftp|printenv|xterm|crontab|useradd|tasklist|netstat';
// Everyday words (`dogs; cat toys`): only with an argument that looks like one (`cat /etc/x`, `ls -la`).
const COMMON =
  'cat|ls|id|dir|type|more|env|echo|sleep|ping|php|ruby|python[23]?|perl|bash|sh|dig|rm|kill|net|head|tail|find|touch|cp|mv|hostname|base64';
const AFTER = '(?=[\\t-\\r ;|&`)<>$]|$)';
const ARGUMENT = `(?:${W}{1,8}[-/$~\\\\]|${W}{0,8}[;|&\`<>)])`;

// Anchored on the command's name, the separator looked for behind it (after the name, so that
// it runs only where a name matched): most characters fail at the first letter.
// `|`, `||`, `&&`, a backtick and `$(` are rare outside a shell: any command after them counts.
const STRONG = new RegExp(
  `\\b(?:${DISTINCT}|${COMMON})(?<=(?:\\||&&|\\$\\(|\`)[\\t ]{0,8}[a-z0-9]{1,16})${AFTER}`,
);
// `;`, `& ` and a line break also occur in text: everyday words need an argument.
const BEHIND_WEAK = '(?<=(?:;|&[ \\t]|[\\r\\n])[\\t ]{0,8}[a-z0-9]{1,16})';
const WEAK = new RegExp(
  `\\b(?:(?:${DISTINCT})${BEHIND_WEAK}${AFTER}|(?:${COMMON})${BEHIND_WEAK}${ARGUMENT})`,
);
const mentionsShell = prefilter(['bin/', 'cmd', 'powershell']);
const SHELL_PATH = new RegExp(
  `/(?:usr/)?bin/(?:ba|z|k|c|tc|da)?sh\\b|/bin/busybox\\b|\\bcmd(?:\\.exe)?${W}{0,4}/[ck]\\b|\\bpowershell(?:\\.exe)?${W}{1,8}-(?:e|enc|encodedcommand|c|command|nop|w)\\b`,
);
const SHELLSHOCK = new RegExp(`\\((?=[\\t-\\r )])${W}{0,8}\\)${W}{0,8}\\{`);
const JNDI = new RegExp(
  `\\$\\{${W}{0,8}(?:jndi${W}{0,8}:|(?:lower|upper|env|sys|java|date|base64|main|::-[a-z]?)${W}{0,8}:|\\$\\{)`,
);

export const COMMAND_INJECTION_RULES: readonly BuiltinRule[] = [
  rule({
    id: 'cmdi.chained-command',
    category: 'command-injection',
    confidence: 0.8,
    description:
      'a command after a shell separator: `; cat /etc/passwd`, `| id`, `&& whoami`, `$(curl`',
    fields: ALL_FIELDS,
    any: SEMI | PIPE | AMP | NL | BACKTICK | DOLLAR,
    match: (text, field) =>
      ((field.mask & (PIPE | AMP | BACKTICK | DOLLAR)) !== 0
        ? firstMatch(STRONG, text)
        : undefined) ??
      ((field.mask & (SEMI | AMP | NL)) !== 0 ? firstMatch(WEAK, text) : undefined),
  }),
  rule({
    id: 'cmdi.shell-path',
    category: 'command-injection',
    confidence: 0.8,
    description:
      'shells named by path or switch: `/bin/sh`, `/bin/bash`, `cmd.exe /c`, `powershell -enc`',
    fields: ALL_FIELDS,
    any: SLASH | BACKSLASH,
    match: (text) => (mentionsShell(text) ? firstMatch(SHELL_PATH, text) : undefined),
  }),
  rule({
    id: 'cmdi.shellshock',
    category: 'command-injection',
    confidence: 0.95,
    description: 'a Bash function definition (Shellshock): `() {`',
    fields: ALL_FIELDS,
    all: PAREN | LBRACE,
    match: (text) => firstMatch(SHELLSHOCK, text),
  }),
  rule({
    id: 'cmdi.jndi-lookup',
    category: 'command-injection',
    confidence: 0.95,
    description: `Log4j lookups (Log4Shell): \`\${jndi:\`, \`\${\${lower:j}ndi:\`, \`\${env:\``,
    fields: ALL_FIELDS,
    all: DOLLAR | LBRACE,
    match: (text) => (text.includes('${') ? firstMatch(JNDI, text) : undefined),
  }),
];
