// The app shell: who is using the phone, which screen to show, the sync badge, the
// update banner, logout. Screens live in record.js (students, sessions) and
// messages.js (threads and drafts).
import { unwrap } from '/static/vendor/idb.js';
import { clear, h } from './dom.js';
import { clock, setLanguage, t } from './i18n.js';
import { pendingCount } from './outbox.js';
import { forgetUser, getMeta, lastUser, openUserDb, rememberUser, wipeUserDb } from './store.js';
import { flush } from './sync.js';
// Every screen is loaded with the shell, never lazily: a module fetched later could come
// from a newer version than the page (old and new files must never mix).
import { renderThread, renderThreads } from './messages.js';
import { renderHome, renderStudent } from './record.js';

export const app = {
  user: null, // {id, name, role, language}
  db: null, // idb-wrapped database of this user
  raw: null, // the same, unwrapped, for the tap hot path
  auth: 'ok', // 'ok' | 'login' (session expired: keep recording) | 'offline'
  pending: 0,
  state: null,
  view: null, // the current screen: {refresh()} (optional)
  inflight: new Set(),
};

const FLUSH_EVERY_MS = 30_000;
// The other tabs of this browser (sync.js posts its status on the same channel).
export const tabs = new BroadcastChannel('tandem-sync');
const FLUSH_AFTER_TAP_MS = 1_500;
let flushTimer = null;

// --- who is logged in ------------------------------------------------------------------

async function whoAmI() {
  try {
    const r = await fetch('/api/me', { credentials: 'same-origin', headers: { accept: 'application/json' } });
    if (r.status === 401) return { status: 'login' };
    if (!r.ok) return { status: 'offline' };
    return { status: 'ok', user: await r.json() };
  } catch {
    return { status: 'offline' };
  }
}

// --- writes ------------------------------------------------------------------------------

// Keep track of IndexedDB writes still committing, so an update reload waits for them.
export function track(promise) {
  app.inflight.add(promise);
  promise.finally(() => app.inflight.delete(promise));
  return promise;
}

// On a tap: only the number changes (the rest of the badge is as it was).
export function notePending(delta) {
  app.pending = Math.max(0, app.pending + delta);
  const badge = document.getElementById('sync-status');
  if (badge && app.badgeParts) {
    badge.firstChild.textContent = [...app.badgeParts.before, t('pending', app.pending), app.badgeParts.after].join(' · ');
    badge.dataset.pending = String(app.pending);
    if (app.pending === 1) badge.classList.add('has-pending');
  } else {
    renderBadge();
  }
  scheduleFlush(FLUSH_AFTER_TAP_MS);
}

// --- sync --------------------------------------------------------------------------------

export function scheduleFlush(delay = 0) {
  clearTimeout(flushTimer);
  flushTimer = setTimeout(flushNow, delay);
}

export async function flushNow() {
  if (!app.user) return null;
  const result = await flush(app.user.id);
  await refreshStatus();
  return result;
}

async function requestBackgroundSync() {
  try {
    const reg = await navigator.serviceWorker?.ready;
    await reg?.sync?.register('tandem-outbox');
  } catch {
    // No Background Sync here (Safari, Firefox): start, online, visibility and the timer cover it.
  }
}

async function refreshStatus() {
  if (!app.db) return;
  app.pending = await pendingCount(app.db);
  app.state = await getMeta(app.db, 'sync_state');
  app.lastSync = await getMeta(app.db, 'last_sync');
  if (app.state?.state === 'login') app.auth = 'login';
  else if (app.state?.state === 'ok') app.auth = 'ok';
  renderBadge();
  await renderNotices();
}

function renderBadge() {
  const badge = document.getElementById('sync-status');
  if (!badge) return;
  const parts = [];
  if (app.auth === 'login') parts.push(t('loginToSend'));
  else if (app.state?.state === 'other-user') parts.push(t('otherUser'));
  else if (app.state?.state === 'offline' || !navigator.onLine) parts.push(t('offline'));
  else if (app.state?.state === 'retry' || app.state?.state === 'forbidden') parts.push(app.state.detail || t('retry'));
  // Screen readers hear a change of state (offline, log in again), not every count.
  const live = document.getElementById('sync-live');
  if (live && live.textContent !== parts.join(' · ')) live.textContent = parts.join(' · ');
  const after = app.lastSync ? t('lastSync', clock(app.lastSync)) : t('never');
  app.badgeParts = { before: [...parts], after };
  parts.push(app.pending > 0 ? t('pending', app.pending) : t('allSynced'));
  parts.push(after);
  badge.querySelector('.badge-text').textContent = parts.join(' · ');
  badge.dataset.pending = String(app.pending);
  badge.classList.toggle('has-pending', app.pending > 0);
  const login = document.getElementById('login-again');
  login.hidden = app.auth !== 'login';
}

async function renderNotices() {
  const box = document.getElementById('notices');
  if (!box || !app.db) return;
  const rows = await app.db.getAll('rejected');
  const lost = await getMeta(app.db, 'lost_ops', 0);
  clear(box);
  if (!rows.length && !lost) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  if (lost) box.append(h('p', { class: 'error' }, t('lostOps', lost)));
  if (rows.length) {
    box.append(h('h2', {}, t('notices')));
    const list = h('ul', { class: 'notice-list' });
    for (const row of rows.sort((a, b) => a.seq - b.seq)) {
      const label = row.status === 'correction' ? t('correctionNotice') : row.reason || row.code;
      list.append(
        h(
          'li',
          { class: 'notice', 'data-op': row.op_id, 'data-code': row.code || '' },
          h('strong', {}, describeOp(row)),
          ' ',
          h('span', { class: 'reason' }, label),
          ' ',
          h('button', { class: 'btn btn-small', type: 'button', 'data-dismiss': row.op_id, 'aria-label': `Dismiss: ${describeOp(row)}` }, '✕'),
        ),
      );
    }
    box.append(list);
  }
}

function describeOp(row) {
  const when = clock(row.at);
  return `${row.type} (${when})`;
}

// --- logout ------------------------------------------------------------------------------

async function logout() {
  const status = document.getElementById('sync-status');
  status.querySelector('.badge-text').textContent = t('logoutSyncing');
  await Promise.allSettled([...app.inflight]);
  await flush(app.user.id);
  const left = await pendingCount(app.db);
  if (left > 0 && !window.confirm(t('logoutConfirm', left))) {
    await refreshStatus();
    return;
  }
  await wipeUserDb(app.user.id);
  await forgetUser();
  try {
    await fetch('/api/auth/logout', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'x-csrf-token': (document.cookie.match(/(?:^|;\s*)tandem_csrf=([^;]+)/) || [])[1] || '' },
    });
  } catch {
    // Offline: the data on this phone is gone already; the server session expires on its own.
  }
  window.location.assign('/login');
}

// --- service worker and updates -------------------------------------------------------

async function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  let controller = navigator.serviceWorker.controller;
  let reloading = false;
  navigator.serviceWorker.addEventListener('controllerchange', async () => {
    // A new version took over (the user chose "Update now" here or in another tab):
    // reload so old and new files never run together. Pending writes finish first. The
    // very first worker taking control changes nothing: it serves the same files.
    const previous = controller;
    controller = navigator.serviceWorker.controller;
    if (!previous || reloading) return;
    reloading = true;
    await Promise.allSettled([...app.inflight]);
    window.location.reload();
  });
  navigator.serviceWorker.addEventListener('message', (event) => {
    if (event.data?.type === 'flush') scheduleFlush(0);
    if (event.data?.type === 'navigate' && typeof event.data.url === 'string' && event.data.url.startsWith(window.location.origin)) {
      window.location.assign(event.data.url);
    }
  });
  const reg = await navigator.serviceWorker.register('/sw.js', { type: 'module', scope: '/' });
  const offer = () => {
    if (reg.waiting && navigator.serviceWorker.controller) showUpdate(reg.waiting);
  };
  offer();
  reg.addEventListener('updatefound', () => {
    const worker = reg.installing;
    worker?.addEventListener('statechange', () => worker.state === 'installed' && offer());
  });
  setInterval(() => reg.update().catch(() => {}), 30 * 60 * 1000);
}

function showUpdate(worker) {
  const banner = document.getElementById('update-banner');
  banner.hidden = false;
  banner.querySelector('button').onclick = async () => {
    await Promise.allSettled([...app.inflight]);
    worker.postMessage({ type: 'skip-waiting' });
  };
}

// --- routing -----------------------------------------------------------------------------

export function navigate(path) {
  window.history.pushState({}, '', path);
  render();
}

async function render() {
  const main = document.getElementById('main');
  const path = window.location.pathname.replace(/\/+$/, '') || '/app';
  app.view = null;
  const parts = path.split('/').filter(Boolean); // ['app', ...]
  const isParent = app.user.role === 'parent';
  // A parent's app (installed or not) reaches notes, messages and settings from here.
  document.getElementById('nav-students').hidden = isParent;
  document.getElementById('nav-notes').hidden = !isParent;
  document.getElementById('nav-settings').hidden = !isParent;
  if (parts[1] === 'messages') {
    app.view = parts[2] ? await renderThread(main, Number(parts[2])) : await renderThreads(main);
  } else if (isParent && navigator.onLine && app.auth === 'ok') {
    // The installed app opens on the family's page (notes, children); offline, messages.
    window.location.replace('/parent');
    return null;
  } else if (isParent) {
    window.history.replaceState({}, '', '/app/messages');
    return render();
  } else if (parts[1] === 'student' && parts[2]) {
    app.view = await renderStudent(main, Number(parts[2]));
  } else {
    app.view = await renderHome(main);
  }
  document.getElementById('main').focus({ preventScroll: true });
  return null;
}

function onLinkClick(event) {
  const a = event.target.closest('a[href^="/app"]');
  if (!a || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey) return;
  event.preventDefault();
  navigate(a.getAttribute('href'));
}

// --- start -------------------------------------------------------------------------------

function onSyncMessage(message) {
  if (!app.user || message.userId !== app.user.id) return;
  if (message.type === 'status') refreshStatus();
  if (message.type === 'tapped') {
    // Another tab of this user recorded: show its taps in the same session here too.
    app.view?.entriesChanged?.(message.sessionId);
    refreshStatus();
    return;
  }
  if (message.type === 'pulled' || message.type === 'changed') {
    const busy = document.activeElement && ['TEXTAREA', 'INPUT'].includes(document.activeElement.tagName);
    if (app.view?.refresh && !busy) app.view.refresh();
  }
}

async function start() {
  registerServiceWorker().catch(() => {});
  const me = await whoAmI();
  let user = me.user || null;
  if (user) {
    await rememberUser(user);
  } else {
    // Offline or session expired: keep working as the last user of this phone. Their
    // ops wait until the same user logs in again.
    user = await lastUser();
    app.auth = me.status === 'login' ? 'login' : 'offline';
    if (!user) {
      if (me.status === 'login') {
        window.location.assign('/login?next=' + encodeURIComponent(window.location.pathname));
        return;
      }
      clear(document.getElementById('main')).append(h('p', {}, t('unknownUser')), h('a', { href: '/login?next=/app', class: 'btn btn-primary' }, t('login')));
      return;
    }
  }
  app.user = user;
  await setLanguage(user.language);
  app.db = await openUserDb(user.id);
  app.raw = unwrap(app.db);
  navigator.storage?.persist?.().catch(() => {});
  applyChrome();
  await refreshStatus();
  await render();
  document.body.dataset.ready = '1';

  tabs.onmessage = (e) => onSyncMessage(e.data);
  window.addEventListener('tandem-sync', (e) => onSyncMessage(e.detail));
  window.addEventListener('online', () => scheduleFlush(0));
  window.addEventListener('offline', renderBadge);
  document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && scheduleFlush(0));
  window.addEventListener('popstate', render);
  setInterval(() => scheduleFlush(0), FLUSH_EVERY_MS);
  requestBackgroundSync();
  scheduleFlush(0);
}

function applyChrome() {
  document.getElementById('nav-students').textContent = t('students');
  document.getElementById('nav-messages').textContent = t('messages');
  document.getElementById('nav-notes').textContent = t('notes');
  document.getElementById('nav-settings').textContent = t('settings');
  document.getElementById('logout').textContent = t('logout');
  document.getElementById('login-again').textContent = t('loginToSend');
  document.querySelector('#update-banner span').textContent = t('updateReady');
  document.querySelector('#update-banner button').textContent = t('updateNow');
  document.getElementById('who').textContent = app.user.name || '';
  // A password link was made for this account, or used: its holder must hear of it.
  const account = document.getElementById('account-banner');
  account.querySelector('span').textContent = t('accountNews');
  account.querySelector('a').textContent = t('accountNewsLink');
  account.hidden = !app.user.notice_pending;
  document.getElementById('logout').addEventListener('click', logout);
  document.getElementById('sync-status').addEventListener('click', () => scheduleFlush(0));
  document.getElementById('notices').addEventListener('click', async (e) => {
    const id = e.target.closest('[data-dismiss]')?.dataset.dismiss;
    if (!id) return;
    await app.db.delete('rejected', id);
    await renderNotices();
  });
  document.body.addEventListener('click', onLinkClick);
}

export { requestBackgroundSync };
start();
