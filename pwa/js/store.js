// Local storage of one user: an IndexedDB database per user id, so another user of the
// same phone never opens (sees or sends) it. A small shared database only remembers who
// used the app last, for a cold start with no network. No DOM here: the service worker
// imports this module too.
import { openDB, deleteDB } from '/static/vendor/idb.js';

export const APP_VERSION = '1';
const SCHEMA = 2;
const SHARED = 'tandem-device';

export const userDbName = (userId) => `tandem-user-${userId}`;

function upgradeUser(db, oldVersion) {
  // Upgrades only ever add: an app update must never drop queued ops or drafts.
  if (oldVersion < 1) {
    db.createObjectStore('meta', { keyPath: 'key' });
    // The key generator numbers ops 1, 2, 3… inside the transaction that stores them.
    db.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
    db.createObjectStore('rejected', { keyPath: 'op_id' });
    db.createObjectStore('students', { keyPath: 'id' });
    db.createObjectStore('goals', { keyPath: 'id' }).createIndex('student_id', 'student_id');
    db.createObjectStore('services', { keyPath: 'id' }).createIndex('student_id', 'student_id');
    db.createObjectStore('sessions', { keyPath: 'id' }).createIndex('student_id', 'student_id');
    db.createObjectStore('entries', { keyPath: 'op_id' }).createIndex('session_id', 'session_id');
    db.createObjectStore('timers', { keyPath: 'timer_id' });
    db.createObjectStore('threads', { keyPath: 'id' }).createIndex('student_id', 'student_id');
    db.createObjectStore('messages', { keyPath: 'id' }).createIndex('thread_id', 'thread_id');
    db.createObjectStore('drafts', { keyPath: 'thread_id' });
  }
  if (oldVersion < 2) {
    // The user's choices on this device, kept across reloads: `prompt:<goal id>` = the
    // prompt level last chosen for a goal (record.js).
    db.createObjectStore('prefs', { keyPath: 'key' });
  }
}

const opened = new Map();

export function openUserDb(userId) {
  if (!opened.has(userId)) {
    opened.set(
      userId,
      openDB(userDbName(userId), SCHEMA, {
        upgrade: upgradeUser,
        blocking() {
          // A newer app version in another tab wants to upgrade: let it.
          opened.get(userId)?.then((db) => db.close());
          opened.delete(userId);
        },
      }),
    );
  }
  return opened.get(userId);
}

export async function wipeUserDb(userId) {
  const db = await opened.get(userId);
  db?.close();
  opened.delete(userId);
  await deleteDB(userDbName(userId));
}

function openShared() {
  return openDB(SHARED, 1, {
    upgrade(db) {
      db.createObjectStore('device', { keyPath: 'key' });
    },
  });
}

// Who used the app last on this device (id, name, role, language): enough to open their
// own database offline. Cleared at logout.
export async function lastUser() {
  const db = await openShared();
  const row = await db.get('device', 'last_user');
  db.close();
  return row ? row.user : null;
}

export async function rememberUser(user) {
  const db = await openShared();
  const keep = { id: user.id, name: user.name, role: user.role, language: user.language };
  await db.put('device', { key: 'last_user', user: keep });
  db.close();
}

export async function forgetUser() {
  const db = await openShared();
  await db.delete('device', 'last_user');
  db.close();
}

export async function getMeta(db, key, fallback = null) {
  const row = await db.get('meta', key);
  return row ? row.value : fallback;
}

export function setMeta(db, key, value) {
  return db.put('meta', { key, value });
}
