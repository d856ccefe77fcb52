// Tandem's service worker (a module; served at /sw.js, scope /). The server prepends
// `const BUILD = {version, precache}` (server/pwa_routes.py): the version is a hash of
// every shell file, so any change to any file makes a new worker.
//
// - install: precache the whole shell into a cache named after the version, fetched
//   past the HTTP cache, and wait: the new version does not take over by itself.
// - the page shows "update ready"; the user's tap posts skip-waiting; every tab reloads
//   on controllerchange, so old and new files never run together.
// - activate: delete older shell caches. IndexedDB (the outbox, drafts, records) is
//   never touched by an update.
// - fetch: the shell and static files from this version's cache; /api/* and every
//   other request go to the network untouched (authenticated responses are never cached).
import { flush } from '/static/js/sync.js';
import { lastUser } from '/static/js/store.js';

/* global BUILD */
const CACHE = `tandem-shell-${BUILD.version}`;
const SHELL_URL = '/app';
const PRECACHED = new Set(BUILD.precache);

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await cache.addAll(BUILD.precache.map((url) => new Request(url, { cache: 'reload', credentials: 'same-origin' })));
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith('tandem-shell-') && name !== CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'skip-waiting') self.skipWaiting();
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === 'navigate' && (url.pathname === SHELL_URL || url.pathname.startsWith(`${SHELL_URL}/`))) {
    event.respondWith(fromCache(SHELL_URL, request));
    return;
  }
  if (PRECACHED.has(url.pathname)) event.respondWith(fromCache(url.pathname, request));
});

async function fromCache(key, request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(key);
  return hit || fetch(request);
}

// Background Sync (Chromium): flush the outbox even with no tab open. The Web Lock in
// flush() keeps it from running alongside a tab's flusher.
self.addEventListener('sync', (event) => {
  if (event.tag !== 'tandem-outbox') return;
  event.waitUntil(
    (async () => {
      const user = await lastUser();
      if (!user) return;
      const result = await flush(user.id);
      if (result.state === 'offline' || result.state === 'retry') throw new Error('sync later');
    })(),
  );
});

// Web Push (payload: {id, title, body, url}): the same id replaces a notification still
// on screen rather than adding one.
self.addEventListener('push', (event) => {
  let payload = {};
  try {
    payload = event.data ? event.data.json() : {};
  } catch {
    payload = { title: 'Tandem', body: event.data ? event.data.text() : '' };
  }
  event.waitUntil(
    self.registration.showNotification(payload.title || 'Tandem', {
      body: payload.body || '',
      tag: payload.id,
      data: { url: payload.url || '/' },
      icon: '/static/icons/icon-192.png',
    }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const target = new URL((event.notification.data && event.notification.data.url) || '/', self.location.origin);
  if (target.origin !== self.location.origin) return;
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const open = windows.find((c) => new URL(c.url).origin === self.location.origin);
      if (open) {
        // Focus may be refused (a click the browser does not count as the user's); the
        // window is still taken to the note.
        await open.focus().catch(() => undefined);
        await open.navigate(target.href).catch(() => open.postMessage({ type: 'navigate', url: target.href }));
        return;
      }
      await self.clients.openWindow(target.href);
    })(),
  );
});
