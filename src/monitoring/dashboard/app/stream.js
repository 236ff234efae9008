// The live stream `<mount>/performance/realtime`, read with fetch() and a streaming reader rather
// than EventSource, because EventSource cannot send the `Authorization` header. Reconnects with
// exponential backoff and `Last-Event-ID`.
import { api, errorMessage } from './api.js';
import { setConnection } from './dom.js';

const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 30_000;
/** A stream silent this long (no snapshot, no heartbeat) is presumed dead and reopened. */
const STALL_MS = 45_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads one SSE response to its end, calling `onEvent` per dispatched event. */
async function readEvents(response, onEvent, onActivity) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let event = { type: '', data: [], id: null };
  const dispatch = () => {
    if (event.data.length > 0) {
      onEvent({ type: event.type || 'message', data: event.data.join('\n'), id: event.id });
    }
    event = { type: '', data: [], id: null };
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    onActivity();
    let text = buffer + value;
    // Lines end in \n, \r\n or \r. A trailing \r waits for the next chunk, which may start with
    // the \n of the same line end; the last piece may be an incomplete line, which waits too.
    let held = '';
    if (text.endsWith('\r')) {
      held = '\r';
      text = text.slice(0, -1);
    }
    const lines = text.split(/\r\n|\r|\n/);
    buffer = (lines.pop() ?? '') + held;
    for (const line of lines) {
      if (line === '') {
        dispatch();
        continue;
      }
      if (line.startsWith(':')) continue; // A heartbeat comment.
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let data = colon === -1 ? '' : line.slice(colon + 1);
      if (data.startsWith(' ')) data = data.slice(1);
      if (field === 'data') event.data.push(data);
      else if (field === 'event') event.type = data;
      else if (field === 'id' && !data.includes('\0')) event.id = data;
      else if (field === 'retry' && /^\d+$/.test(data))
        onEvent({ type: 'retry', ms: Number(data) });
    }
  }
}

/**
 * Keeps the stream open for the page's lifetime, passing each snapshot to `onSnapshot`, each
 * alert transition (`event: alert`) to `onAlert` and each `event: security` to `onSecurity`.
 */
export async function stream(onSnapshot, onAlert, onSecurity) {
  let lastEventId = null;
  let baseDelay = BACKOFF_MIN_MS;
  let delay = baseDelay;
  // The page's lifetime loop: every pass opens the stream once, then waits before the next.
  for (;;) {
    setConnection('connecting', lastEventId === null ? 'Connecting…' : 'Reconnecting…');
    const controller = new AbortController();
    let stall = null;
    const onActivity = () => {
      clearTimeout(stall);
      stall = setTimeout(() => controller.abort(), STALL_MS);
    };
    try {
      const headers = { accept: 'text/event-stream' };
      if (lastEventId !== null) headers['last-event-id'] = lastEventId;
      const response = await api('/performance/realtime', {
        headers,
        signal: controller.signal,
      });
      if (!response.ok || !response.body) throw new Error(await errorMessage(response));
      setConnection('live', 'Live');
      onActivity();
      await readEvents(
        response,
        (event) => {
          if (event.type === 'retry') {
            baseDelay = Math.max(BACKOFF_MIN_MS, Math.min(BACKOFF_MAX_MS, event.ms));
            return;
          }
          if (event.id !== null) lastEventId = event.id;
          if (event.type === 'alert') {
            onAlert?.(JSON.parse(event.data));
            return;
          }
          if (event.type === 'security') {
            onSecurity?.(JSON.parse(event.data));
            return;
          }
          if (event.type !== 'snapshot') return;
          delay = baseDelay;
          setConnection('live', 'Live');
          onSnapshot(JSON.parse(event.data));
        },
        onActivity,
      );
      setConnection('connecting', 'Stream ended; reconnecting…');
    } catch (error) {
      const reason = controller.signal.aborted ? 'stream stalled' : error.message;
      setConnection('error', `Disconnected (${reason}); retrying in ${Math.round(delay / 1000)} s`);
    } finally {
      clearTimeout(stall);
    }
    // Jitter spreads the reconnects of many open dashboards after a server restart.
    await sleep(delay * (0.8 + Math.random() * 0.4));
    delay = Math.min(BACKOFF_MAX_MS, delay * 2);
  }
}
