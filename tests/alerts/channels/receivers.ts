// Real destinations for the channel tests, on 127.0.0.1 and a free port: an HTTP receiver (webhook,
// Slack) and an SMTP server that parses what it receives.
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body, as sent. */
  body: string;
}

/** Answers a request; leaving the response unanswered makes a receiver that never answers. */
export type Responder = (request: ReceivedRequest, response: ServerResponse) => void;

export interface HttpReceiver {
  url: string;
  requests: ReceivedRequest[];
  respond: Responder;
  close(): Promise<void>;
}

export const ok: Responder = (_request, response) => {
  response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
};

export async function startHttpReceiver(respond: Responder = ok): Promise<HttpReceiver> {
  const requests: ReceivedRequest[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const received: ReceivedRequest = {
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(received);
      receiver.respond(received, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const receiver: HttpReceiver = {
    url: `http://127.0.0.1:${port}/hooks/alerts?token=t0k3n`,
    requests,
    respond,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return receiver;
}

export interface ReceivedMail {
  envelope: { from: string; to: string[] };
  parsed: ParsedMail;
}

export interface SmtpReceiver {
  port: number;
  messages: ReceivedMail[];
  /** Credentials presented with AUTH. */
  logins: { username: string | undefined; password: string | null | undefined }[];
  /** Connections open now. */
  connections(): number;
  /** Refuse every message with 550 from now on. */
  refuse: boolean;
  close(): Promise<void>;
}

export async function startSmtpReceiver(options: { auth?: boolean } = {}): Promise<SmtpReceiver> {
  const messages: ReceivedMail[] = [];
  const logins: SmtpReceiver['logins'] = [];
  let open = 0;
  const server: SMTPServer = new SMTPServer({
    logger: false,
    disabledCommands: options.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !options.auth,
    allowInsecureAuth: true,
    closeTimeout: 200,
    onConnect(_session, callback) {
      open++;
      callback();
    },
    onClose() {
      open--;
    },
    onAuth(auth, _session, callback) {
      logins.push({ username: auth.username, password: auth.password });
      callback(null, { user: auth.username });
    },
    onData(stream, session, callback) {
      simpleParser(stream).then(
        (parsed) => {
          messages.push({
            envelope: {
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
            },
            parsed,
          });
          if (!receiver.refuse) return callback();
          callback(
            Object.assign(new Error('mailbox unavailable'), { responseCode: 550 }) as Error & {
              responseCode: number;
            },
          );
        },
        (error: Error) => callback(error),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  const receiver: SmtpReceiver = {
    port,
    messages,
    logins,
    connections: () => open,
    refuse: false,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return receiver;
}
