// Scanners and probes: tools that name themselves in the user agent, and requests for files and
// consoles a Node.js service does not serve but a careless deployment might expose.
import { type BuiltinRule, rule, USER_AGENT } from './rule.js';

const SCANNER =
  /\b(?:sqlmap|nikto|nmap|masscan|zgrab|nuclei|wpscan|dirbuster|gobuster|feroxbuster|ffuf|wfuzz|dirb|acunetix|netsparker|invicti|w3af|openvas|nessus|arachni|havij|jaeles|whatweb|commix|xsstrike|skipfish|zmeu|fimap|appscan|webinspect|burp\s?suite|paros|brutus|morfeus|muieblackcat|l9explore|l9tcpid|censysinspect|zmap|fuzz faster u fool)\b/;

type Probe = { id: string; confidence: number; description: string };

const PROBES: Record<string, Probe & { segments: string[] }> = {
  dotenv: {
    id: 'probe.dotenv',
    confidence: 0.9,
    description: 'environment files: `/.env`, `/.env.local`, `/.env.production`',
    segments: [], // any segment starting with `.env`
  },
  vcs: {
    id: 'probe.vcs',
    confidence: 0.9,
    description: 'version control data: `/.git/config`, `/.git/HEAD`, `/.svn/entries`, `/.hg`',
    segments: ['.git', '.svn', '.hg', '.bzr', '.gitconfig', '.git-credentials', '.gitlab-ci.yml'],
  },
  credentials: {
    id: 'probe.cloud-credentials',
    confidence: 0.9,
    description:
      'credential files: `/.aws/credentials`, `/.ssh/id_rsa`, `/.docker/config.json`, `/.npmrc`',
    segments: [
      '.aws',
      '.ssh',
      '.docker',
      '.kube',
      '.npmrc',
      '.pypirc',
      '.netrc',
      '.s3cfg',
      '.boto',
      'id_rsa',
      'id_dsa',
      'id_ecdsa',
      'id_ed25519',
      '.bash_history',
      '.zsh_history',
    ],
  },
  wordpress: {
    id: 'probe.wordpress',
    confidence: 0.7,
    description: 'WordPress paths: `/wp-admin`, `/wp-login.php`, `/xmlrpc.php`, `/wp-content`',
    segments: [
      'wp-admin',
      'wp-login.php',
      'xmlrpc.php',
      'wp-config.php',
      'wp-includes',
      'wp-content',
    ],
  },
  dbAdmin: {
    id: 'probe.db-admin',
    confidence: 0.7,
    description: 'database consoles: `/phpmyadmin`, `/pma`, `/adminer.php`, `/phppgadmin`',
    segments: [
      'phpmyadmin',
      'pma',
      'myadmin',
      'mysqladmin',
      'adminer.php',
      'adminer',
      'phppgadmin',
      'sqladmin',
      'dbadmin',
    ],
  },
  serverStatus: {
    id: 'probe.server-status',
    confidence: 0.7,
    description: 'web server status pages: `/server-status`, `/server-info`',
    segments: ['server-status', 'server-info'],
  },
  actuator: {
    id: 'probe.actuator',
    confidence: 0.6,
    description: 'Java management endpoints: `/actuator`, `/jolokia`, `/heapdump`, `/jmx-console`',
    segments: ['actuator', 'jolokia', 'heapdump', 'jmx-console', 'web-console', 'invoker'],
  },
  configFile: {
    id: 'probe.config-file',
    confidence: 0.7,
    description:
      'server and editor configuration, CGI: `/.htaccess`, `/web.config`, `/phpinfo.php`, `/.DS_Store`, `/cgi-bin/`',
    segments: [
      '.htaccess',
      '.htpasswd',
      'web.config',
      'phpinfo.php',
      'info.php',
      'config.php',
      'configuration.php',
      'appsettings.json',
      'docker-compose.yml',
      '.dockerenv',
      '.ds_store',
      '.vscode',
      '.idea',
      'sftp-config.json',
      'cgi-bin',
    ],
  },
};

const BACKUP: Probe = {
  id: 'probe.backup-file',
  confidence: 0.6,
  description: 'backups and dumps: `*.bak`, `*.old`, `*.orig`, `*.swp`, `*.sql`, `*~`',
};
const BY_SEGMENT = new Map<string, Probe>();
for (const probe of Object.values(PROBES)) {
  for (const segment of probe.segments) BY_SEGMENT.set(segment, probe);
}
const BACKUP_EXTENSIONS = new Set([
  'bak',
  'backup',
  'old',
  'orig',
  'save',
  'swp',
  'swo',
  'sql',
  'sqlite',
  'sqlite3',
]);

/** Segments longer than this name no probe (and are not looked up). */
const MAX_SEGMENT = 64;
/** 1 at length * 128 + first character, for every probe name. */
const NAME_SHAPES = new Uint8Array((MAX_SEGMENT + 1) * 128);
for (const name of BY_SEGMENT.keys()) NAME_SHAPES[name.length * 128 + name.charCodeAt(0)] = 1;
/** The same for backup extensions (length and first character after the dot). */
const EXTENSION_SHAPES = new Uint8Array(16 * 128);
for (const ext of BACKUP_EXTENSIONS) EXTENSION_SHAPES[ext.length * 128 + ext.charCodeAt(0)] = 1;

function probeOfSegment(segment: string): Probe | undefined {
  const known = BY_SEGMENT.get(segment);
  if (known !== undefined) return known;
  if (segment.charCodeAt(0) === 46 && segment.startsWith('.env')) return PROBES.dotenv;
  const dot = segment.lastIndexOf('.');
  if (dot <= 0) return undefined;
  if (BACKUP_EXTENSIONS.has(segment.slice(dot + 1))) return BACKUP;
  return segment.endsWith('~') && segment.length - dot > 2 ? BACKUP : undefined;
}

/**
 * The id of the first enabled probe rule a (decoded, lower-case) path names: a map lookup a
 * segment. `/`, `\\` and `;` (Tomcat's path parameters) end a segment.
 */
export function probeOf(path: string, enabled: ReadonlyMap<string, unknown>): string | undefined {
  let start = 0;
  let dot = -1;
  for (let i = 0; i <= path.length; i++) {
    const c = i < path.length ? path.charCodeAt(i) : 47;
    if (c === 46) dot = i;
    if (c !== 47 && c !== 92 && c !== 59) continue;
    const length = i - start;
    // Every probe name has 3 characters or more, and at most MAX_SEGMENT; most segments are
    // turned away on their length and first character, without a slice.
    if (length >= 3 && length <= MAX_SEGMENT) {
      const first = path.charCodeAt(start);
      const candidate =
        NAME_SHAPES[length * 128 + (first & 127)] === 1 ||
        first === 46 ||
        path.charCodeAt(i - 1) === 126 ||
        (dot > start &&
          EXTENSION_SHAPES[(i - dot - 1) * 128 + (path.charCodeAt(dot + 1) & 127)] === 1);
      if (candidate) {
        const probe = probeOfSegment(path.slice(start, i));
        if (probe !== undefined && enabled.has(probe.id)) return probe.id;
      }
    }
    start = i + 1;
    dot = -1;
  }
  return undefined;
}

/** Probe rules are run by the screener on the path (one lookup for all of them), not dispatched per rule. */
function probeRule(probe: Probe): BuiltinRule {
  return rule({ ...probe, category: 'sensitive-path', fields: 0, match: () => undefined });
}

export const SCANNER_RULE = rule({
  id: 'scanner.user-agent',
  category: 'scanner',
  confidence: 0.9,
  description:
    'a scanner naming itself: sqlmap, Nikto, Nmap, masscan, zgrab, Nuclei, WPScan, DirBuster, Gobuster, ffuf...',
  fields: USER_AGENT,
  match: (text) => SCANNER.exec(text)?.[0],
});

export const PROBE_RULES: readonly BuiltinRule[] = [
  ...Object.values(PROBES).map(probeRule),
  probeRule(BACKUP),
];
