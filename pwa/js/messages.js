// Message threads about a student, with drafts kept on this device on every keystroke
// (offline too, and after the app is killed), saved to the server debounced with the
// version they were based on, and sending queued while offline. A draft changed on two
// devices shows both texts.
import { app, notePending, track } from './app.js';
import { clear, h } from './dom.js';
import { clock, t } from './i18n.js';
import { enqueue } from './outbox.js';

const DRAFT_SYNC_MS = 1500;

function notificationsButton() {
  const btn = h('button', { class: 'btn', type: 'button', id: 'enable-notifications' }, t('notifications'));
  btn.addEventListener('click', () => import('/static/js/push.js').then((m) => m.enableNotifications()));
  return btn;
}

export async function renderThreads(main) {
  const draw = async () => {
    const only = Number(new URLSearchParams(window.location.search).get('student')) || null;
    const students = new Map((await app.db.getAll('students')).map((s) => [s.id, s]));
    const threads = (await app.db.getAll('threads')).filter((th) => !only || th.student_id === only);
    const drafts = new Map((await app.db.getAll('drafts')).map((d) => [d.thread_id, d]));
    clear(main).append(h('h1', {}, t('messages')));
    if (!threads.length) main.append(h('p', { class: 'hint' }, t('noThreads')));
    const list = h('ul', { class: 'thread-list' });
    for (const th of threads.sort((a, b) => a.id - b.id)) {
      const s = students.get(th.student_id);
      const draft = drafts.get(th.id);
      list.append(
        h(
          'li',
          {},
          h(
            'a',
            { class: 'student-link', href: `/app/messages/${th.id}`, 'data-thread': th.id },
            h('span', { class: 'student-name' }, th.subject),
            s ? h('span', { class: 'hint' }, ` · ${s.first_name} ${s.last_name}`) : null,
            draft && draft.body ? h('span', { class: 'pill' }, '✎') : null,
          ),
        ),
      );
    }
    main.append(list, notificationsButton());
  };
  await draw();
  return { refresh: draw };
}

export async function renderThread(main, threadId) {
  const view = new ThreadView(main, threadId);
  await view.draw();
  return view;
}

class ThreadView {
  constructor(main, threadId) {
    this.main = main;
    this.threadId = threadId;
    this.saveTimer = null;
  }

  async draft() {
    return (await app.db.get('drafts', this.threadId)) || { thread_id: this.threadId, body: '', base_version: 0, dirty: false };
  }

  async draw() {
    const thread = await app.db.get('threads', this.threadId);
    const main = clear(this.main);
    if (!thread) {
      main.append(h('h1', {}, t('messages')), h('p', {}, t('noThreads')), h('a', { href: '/app/messages' }, t('back')));
      return;
    }
    const student = await app.db.get('students', thread.student_id);
    const messages = (await app.db.getAllFromIndex('messages', 'thread_id', this.threadId)).sort((a, b) => (a.sent_at < b.sent_at ? -1 : 1));
    main.append(
      h('a', { href: '/app/messages', class: 'back' }, `← ${t('back')}`),
      h('h1', {}, thread.subject),
      student ? h('p', { class: 'hint' }, t('threadFor', `${student.first_name} ${student.last_name}`)) : null,
    );
    this.list = h('ol', { class: 'messages', 'aria-label': t('messages') });
    for (const m of messages) this.list.append(this.messageItem(m));
    main.append(this.list);
    await this.drawComposer();
  }

  messageItem(m) {
    const mine = m.author_id === app.user.id;
    return h(
      'li',
      { class: `message${mine ? ' mine' : ''}${m.pending ? ' pending' : ''}`, 'data-message': m.id },
      h('p', { class: 'message-meta' }, `${mine ? app.user.name : m.author_name || ''} · ${clock(m.sent_at)}`, m.pending ? ` · ${t('queued')}` : ''),
      h('p', { class: 'message-body' }, m.body),
    );
  }

  async drawComposer() {
    const draft = await this.draft();
    this.composer?.remove();
    const box = h('textarea', { id: 'draft', maxlength: '8000', 'aria-describedby': 'draft-status' });
    box.value = draft.body || '';
    this.box = box;
    const status = h('p', { id: 'draft-status', class: 'hint', 'aria-live': 'polite' });
    this.status = status;
    const send = h('button', { class: 'btn btn-primary', type: 'button', id: 'send' }, t('send'));
    this.composer = h('section', { class: 'card composer' }, h('label', { for: 'draft' }, t('draftLabel')), box, status, send);
    const conflict = draft.conflict_body ?? draft.server?.conflict_body;
    if (conflict) {
      const useOther = h('button', { class: 'btn', type: 'button', id: 'use-other' }, t('useOther'));
      const keepMine = h('button', { class: 'btn', type: 'button', id: 'keep-mine' }, t('keepMine'));
      const panel = h(
        'div',
        { class: 'conflict', role: 'alert', id: 'draft-conflict' },
        h('p', {}, t('conflictTitle')),
        h('p', { class: 'hint' }, t('conflictOther')),
        h('blockquote', { class: 'conflict-text' }, conflict),
        h('div', { class: 'bar-actions' }, useOther, keepMine),
      );
      useOther.addEventListener('click', () => this.resolve(conflict));
      keepMine.addEventListener('click', () => this.resolve(box.value));
      this.composer.prepend(panel);
    }
    box.addEventListener('input', () => this.onInput(box.value, status));
    send.addEventListener('click', () => this.send(box));
    this.main.append(this.composer);
  }

  // Every keystroke is kept on this device; the server gets it after a pause.
  onInput(body, status) {
    // Read and write in one transaction: a save queued meanwhile (new base version) is
    // never overwritten with an older one.
    track(
      (async () => {
        const tx = app.db.transaction('drafts', 'readwrite');
        const draft = (await tx.store.get(this.threadId)) || { thread_id: this.threadId, body: '', base_version: 0 };
        tx.store.put({ ...draft, body, dirty: true });
        await tx.done;
        // Only while there is a draft: a keystroke stored after the message was sent
        // must not bring the line back over an empty box.
        status.textContent = this.box?.value.trim() ? t('draftSaved') : '';
      })(),
    );
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => this.saveDraft(), DRAFT_SYNC_MS);
  }

  async saveDraft(clearConflict = false) {
    clearTimeout(this.saveTimer);
    const draft = await this.draft();
    if (!draft.dirty && !clearConflict) return;
    // The text box is the latest text (a keystroke may not be stored yet).
    const body = (this.box && this.box.isConnected ? this.box.value : draft.body).slice(0, 8000);
    const data = { thread_id: this.threadId, body, base_version: draft.base_version || 0 };
    // Our own save moves the server's version by one: the next save is based on that.
    const next = { ...draft, body, dirty: false, base_version: data.base_version + 1, conflict_body: null, server: null };
    const { done } = enqueue(app.raw, 'draft.save', data, { puts: [['drafts', next]] });
    notePending(1);
    await track(done);
  }

  async resolve(text) {
    const draft = await this.draft();
    const current = draft.server ? draft.server.version : draft.base_version;
    await app.db.put('drafts', { ...draft, body: text, dirty: true, base_version: current });
    if (this.box) this.box.value = text;
    await this.saveDraft(true);
    await this.draw();
  }

  async send(box) {
    const body = box.value.trim();
    if (!body) return;
    clearTimeout(this.saveTimer);
    const opId = crypto.randomUUID();
    const draft = await this.draft();
    const message = { id: opId, thread_id: this.threadId, author_id: app.user.id, author_name: app.user.name, body: body.slice(0, 8000), sent_at: new Date().toISOString(), pending: true };
    const cleared = { ...draft, body: '', dirty: false, conflict_body: null, server: null };
    const { done } = enqueue(app.raw, 'message.send', { thread_id: this.threadId, body: message.body }, { opId, puts: [['messages', message], ['drafts', cleared]] });
    box.value = '';
    // The draft is gone with the message (sent, or queued to send).
    if (this.status) this.status.textContent = '';
    this.list.append(this.messageItem(message));
    notePending(1);
    await track(done);
  }

  async refresh() {
    await this.draw();
  }
}
