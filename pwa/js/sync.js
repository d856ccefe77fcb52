// The flusher: sends the outbox with POST /api/sync and applies what the server pulls
// back (docs/sync-protocol.md). Exactly one flusher runs at a time across tabs and the
// service worker (Web Locks). No DOM: the service worker imports this for Background Sync.
import { acknowledge, firstKey, newestKey, pendingCount, readBatch } from './outbox.js';
import { APP_VERSION, getMeta, openUserDb, setMeta } from './store.js';
import { applyChanges } from './pull.js';

const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('tandem-sync') : null;
const MAX_ROUNDS = 200;

export function announce(message) {
  channel?.postMessage(message);
  if (typeof self.dispatchEvent === 'function' && typeof CustomEvent === 'function') {
    self.dispatchEvent(new CustomEvent('tandem-sync', { detail: message }));
  }
}

async function csrfToken() {
  if (self.cookieStore) {
    const c = await self.cookieStore.get('tandem_csrf');
    if (c) return c.value;
  }
  if (typeof document !== 'undefined') {
    const m = document.cookie.match(/(?:^|;\s*)tandem_csrf=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
  }
  return '';
}

async function post(path, body) {
  return fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', 'x-csrf-token': await csrfToken() },
    body: JSON.stringify(body),
  });
}

async function setState(db, state, detail = null) {
  await setMeta(db, 'sync_state', { state, detail, at: new Date().toISOString() });
}

// Who the server thinks is logged in. Another user's cookie must never carry this
// user's ops, so every flush checks first.
async function sessionUser() {
  const r = await fetch('/api/me', { credentials: 'same-origin', headers: { accept: 'application/json' } });
  if (r.status === 401) return null;
  if (!r.ok) throw new Error(`/api/me answered ${r.status}`);
  return r.json();
}

// The phone's model and system, where the browser tells them (User-Agent Client Hints):
// only to name the device for people ("Pixel 8 · Chrome"). Absent elsewhere: the server
// falls back to the user agent.
async function deviceHints() {
  try {
    const data = self.navigator.userAgentData;
    if (!data || !data.getHighEntropyValues) return undefined;
    const v = await data.getHighEntropyValues(['model', 'platform', 'platformVersion']);
    const text = (s) => String(s || '').slice(0, 100);
    return { model: text(v.model), platform: text(v.platform), platform_version: text(v.platformVersion) };
  } catch {
    return undefined;
  }
}

async function register(db, replaces, lostOps) {
  const device = await deviceHints();
  const r = await post('/api/sync/clients', { app_version: APP_VERSION, replaces, lost_ops: lostOps, device });
  if (r.status === 401) return null;
  if (!r.ok) throw new Error(`client registration answered ${r.status}`);
  const body = await r.json();
  const client = { client_id: body.client_id, registered_at: new Date().toISOString(), base: null };
  await setMeta(db, 'client', client);
  return client;
}

export function flush(userId) {
  if (!userId) return Promise.resolve({ state: 'no-user' });
  if (!self.navigator.locks) return flushLocked(userId);
  return self.navigator.locks.request(`tandem-flush-${userId}`, { ifAvailable: true }, (lock) =>
    lock ? flushLocked(userId) : { state: 'busy' },
  );
}

async function flushLocked(userId) {
  const db = await openUserDb(userId);
  const finish = async (state, detail = null) => {
    await setState(db, state, detail);
    const pending = await pendingCount(db);
    announce({ type: 'status', userId, state, detail, pending, lastSync: await getMeta(db, 'last_sync') });
    return { state, pending };
  };
  try {
    const me = await sessionUser();
    if (!me) return finish('login');
    if (me.id !== userId) return finish('other-user');
    let client = await getMeta(db, 'client');
    if (!client) client = await register(db, null, 0);
    if (!client) return finish('login');
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      if (client.base == null) {
        // A new client numbers from 1: its base is the key before its first op.
        const first = await firstKey(db);
        if (first != null) {
          client = { ...client, base: first - 1 };
          await setMeta(db, 'client', client);
        }
      }
      const base = client.base ?? 0;
      const ops = client.base == null ? [] : await readBatch(db, base);
      // Read after the batch: never below a seq it sends (docs/sync-protocol.md §2).
      const newest = client.base == null ? null : await newestKey(db);
      const body = {
        protocol: 1,
        client_id: client.client_id,
        app_version: APP_VERSION,
        sent_at: new Date().toISOString(),
        ops,
        cursor: await getMeta(db, 'cursor'),
        pull: true,
        high_seq: newest == null ? null : newest - base,
      };
      const r = await post('/api/sync', body);
      globalThis.tandemUnreachable = false; // the server answered (whatever it said)
      if (r.status === 401) return finish('login');
      if (r.status === 403) {
        const problem = await r.json().catch(() => ({}));
        return finish('forbidden', problem.detail || 'This device may no longer sync. Ask your school.');
      }
      if (!r.ok) return finish('retry', `The server answered ${r.status}; will retry.`);
      const answer = await r.json();
      await acknowledge(db, ops, answer, base);
      const stopped = answer.stopped;
      if (stopped && stopped.code === 'gap' && ops.length && stopped.expected_seq < ops[0].seq) {
        // Ops between the server's next number and our first queued one are gone from
        // this device (storage evicted): start a new client and say what was lost.
        const lost = ops[0].seq - stopped.expected_seq;
        client = await register(db, client.client_id, lost);
        if (!client) return finish('login');
        await setMeta(db, 'lost_ops', ((await getMeta(db, 'lost_ops', 0)) || 0) + lost);
        continue;
      }
      if (answer.changes) await applyChanges(db, answer.changes);
      if (answer.cursor !== undefined) await setMeta(db, 'cursor', answer.cursor);
      await setMeta(db, 'last_sync', answer.server_time || new Date().toISOString());
      announce({ type: 'pulled', userId });
      const left = await pendingCount(db);
      if (left === 0 && !answer.has_more) break;
      if (ops.length === 0 && !answer.has_more) break;
    }
    return finish('ok');
  } catch (err) {
    globalThis.tandemUnreachable = true; // no answer: what is recorded now is offline
    return finish('offline', String(err && err.message ? err.message : err));
  }
}
