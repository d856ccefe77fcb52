// The outbox: ops waiting for POST /api/sync (docs/sync-protocol.md). Each op gets its
// sequence number in the same IndexedDB transaction that stores it, so two tabs can
// never hand out one number twice. Ops leave only when the server acknowledged them.
import { APP_VERSION } from './store.js';

export const MAX_BATCH_OPS = 500;
export const MAX_BATCH_BYTES = 256 * 1024;
const encoder = new TextEncoder();

// Store one op in one transaction with what the screens read back (`entry`: the local
// tap the session screen counts; `puts`: [store, value] rows such as a session or a
// timer). The outbox's key generator gives the op its number inside this transaction
// (two tabs can never get the same one; an aborted transaction gives it back). Returns
// at once; `done` settles when the transaction committed. The hot path uses the raw
// IndexedDB API: one transaction, one request per store, no reads, no awaits.
let lastOrd = 0;
export function enqueue(rawDb, type, data, { entry = null, puts = [], opId = null } = {}) {
  // `offline`: the server could not be reached when this was recorded (the last sync
  // failed for want of a network, or the browser says it is offline): a fact for review.
  const offline = !navigator.onLine || globalThis.tandemUnreachable === true;
  const op = { op_id: opId || crypto.randomUUID(), type, at: new Date().toISOString(), data, v: APP_VERSION, offline };
  const names = ['outbox'];
  if (entry) names.push('entries');
  for (const [name] of puts) if (!names.includes(name)) names.push(name);
  const tx = rawDb.transaction(names, 'readwrite');
  // The generated key is the op's number; nobody on the tap path needs it, so no
  // success callback (one task fewer per tap).
  tx.objectStore('outbox').add(op);
  if (entry) {
    // Local order of taps (for undo and display): strictly increasing on this device.
    lastOrd = Math.max(lastOrd + 0.001, performance.timeOrigin + performance.now());
    tx.objectStore('entries').put({ ...entry, op_id: op.op_id, at: op.at, ord: lastOrd });
  }
  for (const [name, value] of puts) tx.objectStore(name).put(value);
  const done = new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve(op);
    tx.onabort = () => reject(tx.error || new Error('outbox write aborted'));
  });
  return { op, done };
}

// Ops to send, in order, bounded in number and bytes. The read transaction is over when
// this resolves: the caller posts outside of it.
// `base`: local keys minus base are the sequence numbers of the current client (a client
// registered to replace one that lost ops starts again at 1).
export async function readBatch(db, base = 0) {
  const ops = await db.getAll('outbox', null, MAX_BATCH_OPS);
  const batch = [];
  let bytes = 0;
  for (const op of ops) {
    const wire = { seq: op.seq - base, op_id: op.op_id, type: op.type, at: op.at, data: op.data };
    if (op.offline != null) wire.offline = op.offline;
    const size = encoder.encode(JSON.stringify(wire)).length + 1;
    if (size > MAX_BATCH_BYTES) {
      // Too big for any request: sent without its data, the server rejects it
      // (op_too_large) and the queue moves on (protocol §5).
      const stub = { seq: op.seq - base, op_id: op.op_id, type: op.type, at: op.at, data: null, oversize: size };
      if (batch.length > 0) break;
      batch.push(stub);
      break;
    }
    if (batch.length > 0 && bytes + size > MAX_BATCH_BYTES) break;
    batch.push(wire);
    bytes += size;
  }
  return batch;
}

// The local key of the newest queued op (null when the outbox is empty): with the
// client's base, the highest seq this client has assigned, sent as `high_seq` with
// every batch. Keys come from the outbox's key generator, inside the op's own
// transaction, and ops leave in order, so the newest key is the newest number.
export async function newestKey(db) {
  const cursor = await db.transaction('outbox').store.openKeyCursor(null, 'prev');
  return cursor ? cursor.key : null;
}

export function pendingCount(db) {
  return db.count('outbox');
}

// Apply the server's answer: drop acknowledged ops, keep rejected ones (with the reason)
// for the user to see. One transaction, no network inside.
export async function acknowledge(db, sent, response, base = 0) {
  // In slices: a tap's write waits for a readwrite transaction running on the outbox.
  for (let i = 0; i < sent.length; i += ACK_SLICE) {
    await acknowledgeSlice(db, sent.slice(i, i + ACK_SLICE), response, base);
  }
}

const ACK_SLICE = 100;

async function acknowledgeSlice(db, sent, response, base) {
  const tx = db.transaction(['outbox', 'rejected', 'entries'], 'readwrite');
  const outbox = tx.objectStore('outbox');
  const bySeq = new Map(sent.map((op) => [op.seq, op]));
  const done = new Set();
  for (const result of response.results || []) {
    const op = bySeq.get(result.seq);
    if (!op || op.op_id !== result.op_id) continue;
    done.add(op.seq);
    if (result.status === 'rejected' || result.status === 'correction') {
      tx.objectStore('rejected').put({
        op_id: op.op_id,
        seq: op.seq,
        type: op.type,
        data: op.data,
        at: op.at,
        status: result.status,
        code: result.code,
        reason: result.reason,
      });
      const entry = await tx.objectStore('entries').get(op.op_id);
      if (entry) await tx.objectStore('entries').put({ ...entry, status: result.status, reason: result.reason });
    }
  }
  const lastSeq = typeof response.last_seq === 'number' ? response.last_seq : 0;
  for (const op of sent) {
    if (done.has(op.seq) || op.seq <= lastSeq) outbox.delete(op.seq + base); // issued together
  }
  await tx.done;
}

// The local key of the oldest queued op (null when the outbox is empty).
export async function firstKey(db) {
  const cursor = await db.transaction('outbox').store.openKeyCursor();
  return cursor ? cursor.key : null;
}

export const encodedSize = (value) => encoder.encode(JSON.stringify(value)).length;
