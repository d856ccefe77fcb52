// The aide's screens: the student list, and one student's session with a large target
// for every kind of goal. A tap updates the screen at once and writes the op in one
// IndexedDB transaction; the network comes later (sync.js).
import { app, notePending, tabs, track } from './app.js';
import { clear, h } from './dom.js';
import { clock, t } from './i18n.js';
import { enqueue } from './outbox.js';
import { deriveGoals, figures, secondsNow } from './figures.js';

const PROMPTS = [
  ['independent', 'I'],
  ['gestural', 'G'],
  ['verbal', 'V'],
  ['model', 'M'],
  ['partial_physical', 'PP'],
  ['full_physical', 'FP'],
];
const promptName = (key) => t(`prompt_${key}`);
// Undo takes back any observation of this session (the server voids them all alike).
const UNDOABLE = new Set(['trial', 'tally', 'rating', 'step', 'note', 'timer_start', 'timer_stop']);
const promptKey = (goalId) => `prompt:${goalId}`;
const RECENT_CLOSE_MS = 12 * 3600 * 1000; // a close this recent is shown on the start screen
const STATUS_TEXT = {
  open: 'Open',
  pending: 'Waiting for review',
  approved: 'Approved',
  rejected: 'Rejected',
};

// Per tap (bench/pwa_tap.py): from the handler's start to the IndexedDB commit event
// (wall time: it contains the frame Chromium renders before delivering the event)...
const tapTimes = (globalThis.tandemTapTimes ||= []);
// ...the synchronous part (handler start to return, the IndexedDB add/put included)...
const tapSyncTimes = (globalThis.tandemTapSyncTimes ||= []);
// ...and the main-thread time of the app's own code: the synchronous part plus the
// commit callback's own run time (no waiting counted).
const tapOwnTimes = (globalThis.tandemTapOwnTimes ||= []);

// Context for screen readers after the visible text (the accessible name starts with
// what the button shows, so voice control users can say it).
const hidden = (text) => h('span', { class: 'visually-hidden' }, ` ${text}`);

const byName = (a, b) => `${a.first_name} ${a.last_name}`.localeCompare(`${b.first_name} ${b.last_name}`);
const fullName = (s) => `${s.first_name} ${s.last_name}`;

// --- home: the student list ---------------------------------------------------------------

export async function renderHome(main) {
  const draw = async () => {
    const students = (await app.db.getAll('students')).sort(byName);
    const openSessions = (await app.db.getAll('sessions')).filter((s) => !s.closed_at && s.staff_id === app.user.id);
    const openFor = new Set(openSessions.map((s) => s.student_id));
    clear(main).append(
      h('h1', {}, t('yourStudents')),
      students.length
        ? h(
            'ul',
            { class: 'student-list' },
            students.map((s) =>
              h(
                'li',
                {},
                h(
                  'a',
                  { class: 'student-link', href: `/app/student/${s.id}`, 'data-student': s.id },
                  h('span', { class: 'student-name' }, fullName(s)),
                  s.grade ? h('span', { class: 'hint' }, ` · ${t('grade', s.grade)}`) : null,
                  openFor.has(s.id) ? h('span', { class: 'pill' }, t('sessionOpen')) : null,
                ),
              ),
            ),
          )
        : h('p', { class: 'hint' }, t('noStudents')),
      // Language and time zone (and what happened to the account): a server page.
      h('p', {}, h('a', { class: 'btn', href: '/account', id: 'account-link' }, t('accountSettings'))),
    );
  };
  await draw();
  return { refresh: draw };
}

// --- one student ----------------------------------------------------------------------------

export async function renderStudent(main, studentId) {
  const view = new StudentView(main, studentId);
  await view.load();
  view.draw();
  return view;
}

// What the goal's line says, from the one definition of each figure (figures.js).
function goalFigures(goal, entries, voided) {
  const live = entries.filter((e) => !voided.has(e.op_id));
  const results = deriveGoals(live);
  return figures(results.get(goal.id), goal.measurement, { continuous: Boolean(goal.continuous) });
}

function summarize(goal, entries, voided, now, f = goalFigures(goal, entries, voided)) {
  switch (goal.measurement) {
    case 'trials':
      return `${f.correct ?? 0}/${f.total ?? 0} correct · ${f.independent ?? 0} independent`;
    case 'frequency': {
      const n = f.count ?? 0;
      return n === 1 ? '1 time' : `${n} times`;
    }
    case 'duration':
      return formatDuration(f.entries ? secondsNow(f, now, { continuous: Boolean(goal.continuous) }) * 1000 : 0);
    case 'rating':
      if (!f.ratings) return 'no rating yet';
      return `last ${f.last}/${goal.rating_max} · mean ${f.rating_mean.toFixed(1)} (${f.ratings})`;
    case 'task_analysis':
      return `${f.steps_done ?? 0}/${goal.task_steps.length} steps · ${f.independent ?? 0} independent`;
    default:
      return '';
  }
}

// Milliseconds of the service timer (no goal), a running one counted up to `now`.
function timerTotal(entries, now) {
  const f = figures(deriveGoals(entries).get('none'), 'duration');
  return f.entries ? secondsNow(f, now) * 1000 : 0;
}

function formatDuration(ms) {
  const s = Math.floor(ms / 1000);
  const m = Math.floor(s / 60);
  const sec = String(s % 60).padStart(2, '0');
  return m >= 60 ? `${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

class StudentView {
  constructor(main, studentId) {
    this.main = main;
    this.studentId = studentId;
    this.prompts = new Map(); // goal id -> selected prompt level (kept in 'prefs')
    this.promptEpoch = 0; // bumped by a prompt chip: a load read before it is stale
    this.loadGen = 0; // bumped by every read of the screen's data and every local change
    this.tapCount = 0; // taps recorded on this screen
    this.sums = new Map(); // goal id -> [summary elements]
    this.tick = null;
    // Wall clock at load, advanced by the monotonic clock: a clock jump while the page
    // is open does not bend a running timer (DESIGN.md: clocks).
    this.wallBase = Date.now();
    this.perfBase = performance.now();
  }

  now() {
    return this.wallBase + (performance.now() - this.perfBase);
  }

  // Read everything the screen shows. Two loads may overlap (a pull and a tab's
  // message arrive together): each reads into its own variables, and only the newest
  // one is applied, so a load that finishes late never adds to what a newer one drew.
  // Returns false when a newer load (or a local change) made this one stale.
  async load() {
    const gen = ++this.loadGen;
    const promptEpoch = this.promptEpoch;
    const taps = this.tapCount;
    const db = app.db;
    const student = await db.get('students', this.studentId);
    const goals = (await db.getAllFromIndex('goals', 'student_id', this.studentId)).sort((a, b) => a.position - b.position || a.id - b.id);
    const services = (await db.getAllFromIndex('services', 'student_id', this.studentId)).filter((s) => s.provider_id === app.user.id);
    const sessions = (await db.getAllFromIndex('sessions', 'student_id', this.studentId)).sort((a, b) => (a.opened_at < b.opened_at ? 1 : -1));
    const session = sessions.find((s) => !s.closed_at && s.staff_id === app.user.id) || null;
    const entries = session ? await this.loadEntries(session.id) : [];
    const timers = new Map();
    if (session) {
      for (const timer of await db.getAll('timers')) if (timer.session_id === session.id) timers.set(timer.timer_id, timer);
    }
    const history = await this.readHistory(sessions, session?.id);
    const prefs = await db.getAll('prefs');
    const lastClosed = session ? null : await this.readLastClosed(sessions);
    if (gen !== this.loadGen) return false;
    // A tap landed while this read ran (its entry may be missing here): read again.
    if (taps !== this.tapCount) return this.load();
    Object.assign(this, { student, goals, services, sessions, session, entries, timers, history, lastClosed });
    if (promptEpoch === this.promptEpoch) {
      for (const { key, value } of prefs) if (key.startsWith('prompt:')) this.prompts.set(Number(key.slice(7)), value);
    }
    this.undoCount = (this.undoCount || 0) + 1; // entries changed: recompute what is voided
    this.indexEntries();
    return true;
  }

  async readHistory(sessions, currentId) {
    const history = [];
    for (const s of sessions.filter((x) => x.id !== currentId).slice(0, 10)) {
      history.push({ session: s, entries: await app.db.getAllFromIndex('entries', 'session_id', s.id) });
    }
    return history;
  }

  // The last session this user closed here, and whether its close is still on this
  // device (not yet sent: it may be reopened) or already in the teacher's queue.
  async readLastClosed(sessions) {
    const last = sessions.find((s) => s.staff_id === app.user.id);
    if (!last || !last.closed_at || last.review_status !== 'pending') return null;
    if (Date.now() - Date.parse(last.closed_at) > RECENT_CLOSE_MS) return null; // not today's news
    return { session: last, queued: await this.closeQueued(last.id) };
  }

  async closeQueued(sessionId) {
    const ops = await app.db.getAll('outbox');
    return ops.some((op) => op.type === 'session.close' && op.data?.session_id === sessionId);
  }

  async loadEntries(sessionId) {
    const entries = await app.db.getAllFromIndex('entries', 'session_id', sessionId);
    const order = (e) => e.ord ?? Date.parse(e.at);
    return entries.sort((a, b) => order(a) - order(b));
  }

  // After a sync: with a session open, keep the recording screen as it is (its taps are
  // local; rebuilding it would move focus under the user's thumb) and only update the
  // review status of earlier sessions.
  async refresh() {
    if (this.session) {
      // Only the other sessions' review status can have changed for this screen: read
      // them alone (a large read of the entries would hold up the next tap's write).
      const gen = ++this.loadGen;
      const current = this.session;
      const goals = await app.db.getAllFromIndex('goals', 'student_id', this.studentId);
      const sameGoals = goals.map((g) => g.id).sort().join() === this.goals.map((g) => g.id).sort().join();
      const sessions = (await app.db.getAllFromIndex('sessions', 'student_id', this.studentId)).sort((a, b) => (a.opened_at < b.opened_at ? 1 : -1));
      const mine = sessions.find((s) => s.id === current.id);
      if (sameGoals && mine && !mine.closed_at) {
        const history = await this.readHistory(sessions, current.id);
        if (gen !== this.loadGen) return; // a newer load or a local change drew since
        this.sessions = sessions;
        this.history = history;
        this.drawHistory(this.main);
        return;
      }
      if (gen !== this.loadGen) return;
    }
    const goalIds = this.goals.map((g) => g.id).join();
    const hadSession = this.session?.id;
    if (!(await this.load())) return;
    const same = goalIds === this.goals.map((g) => g.id).join() && hadSession === this.session?.id;
    if (same && this.session) {
      this.drawHistory(this.main);
      return;
    }
    this.draw();
  }

  // Entries per goal and the live entry count, kept up to date tap by tap so a tap's
  // work does not grow with the length of the session.
  indexEntries() {
    this.byGoal = new Map();
    for (const e of this.entries) this.addToIndex(e);
    const voided = this.voided();
    this.liveCount = this.entries.filter((e) => e.kind !== 'undo' && e.kind !== 'correction' && !voided.has(e.op_id) && !e.status).length;
  }

  addToIndex(e) {
    const key = e.goal_id ?? 'none';
    if (!this.byGoal.has(key)) this.byGoal.set(key, []);
    this.byGoal.get(key).push(e);
  }

  goalEntries(goalId) {
    return this.byGoal.get(goalId ?? 'none') || [];
  }

  // The voided op ids, kept between taps (rebuilt only after an undo or a reload).
  // Another tab recorded in this session: read its entries back and update the counts
  // (the screen itself stays as it is).
  async entriesChanged(sessionId) {
    if (!this.session || sessionId !== this.session.id) {
      if (!this.session) await this.refresh();
      return;
    }
    this.entries = await this.loadEntries(this.session.id);
    for (const timer of await app.db.getAll('timers')) if (timer.session_id === this.session.id) this.timers.set(timer.timer_id, timer);
    this.undoCount += 1;
    this.indexEntries();
    this.updateSums(null);
    this.drawNotes();
  }

  voided() {
    if (this.voidedCache && this.voidedCache.n === this.undoCount) return this.voidedCache.set;
    const set = new Set();
    for (const e of this.entries) if (e.kind === 'undo' && !e.status) set.add(e.voids_op_id);
    this.voidedCache = { n: this.undoCount, set };
    return set;
  }

  draw() {
    clearInterval(this.tick);
    this.sums.clear();
    const main = clear(this.main);
    if (!this.student) {
      main.append(h('h1', {}, 'Student not found'), h('p', {}, 'This student is not on your list on this device.'), h('a', { href: '/app' }, 'Back to students'));
      return;
    }
    main.append(
      h(
        'div',
        { class: 'student-head' },
        h('h1', {}, fullName(this.student)),
        h('a', { class: 'btn btn-small', href: `/app/messages?student=${this.student.id}` }, 'Messages'),
      ),
    );
    main.append(h('p', { id: 'announce', class: 'visually-hidden', 'aria-live': 'polite' }));
    if (this.session) this.drawSession(main);
    else this.drawStart(main);
    this.drawHistory(main);
    main.onclick = (event) => this.onClick(event);
  }

  drawStart(main) {
    const box = h('section', { class: 'card start' });
    box.append(h('button', { class: 'btn btn-primary btn-huge', type: 'button', 'data-act': 'open' }, 'Start session'));
    for (const service of this.services) {
      box.append(
        h(
          'button',
          { class: 'btn btn-huge', type: 'button', 'data-act': 'open-service', 'data-service': service.id },
          `Start ${service.service_type} (${service.minutes} min/${service.period})`,
        ),
      );
    }
    if (!this.goals.length) box.append(h('p', { class: 'hint' }, 'No active goals for this student.'));
    main.append(box);
    if (this.lastClosed) main.append(this.closedCard());
  }

  // The session just closed: reopen it while its close is still on this device; once
  // sent, it is in the teacher's review queue and the phone says so.
  closedCard() {
    const { session, queued } = this.lastClosed;
    const card = h('section', { class: 'card closed-card', 'data-session': session.id }, h('p', { id: 'closed-text' }, t('closedAt', clock(session.closed_at))));
    if (queued) card.append(h('button', { class: 'btn', type: 'button', 'data-act': 'reopen', 'aria-describedby': 'closed-text' }, t('reopen')));
    else card.append(h('p', { class: 'hint closed-sent' }, t('closedSent')));
    return card;
  }

  drawSession(main) {
    const voided = this.voided();
    const now = this.now();
    const bar = h(
      'section',
      { class: 'session-bar', 'aria-label': 'Session' },
      h('p', { class: 'session-meta' }, `Session started ${clock(this.session.opened_at)} · `, h('span', { id: 'entry-count' }, this.countText())),
    );
    const list = h('ul', { class: 'bar-goals' });
    for (const goal of this.goals) {
      const sum = h('span', { class: 'sum' }, summarize(goal, this.goalEntries(goal.id), voided, now));
      this.addSum(goal.id, sum);
      list.append(h('li', { 'data-goal': goal.id }, h('span', { class: 'bar-area' }, goal.area), ': ', sum));
    }
    if (this.session.service_id) {
      const sum = h('span', { class: 'sum' }, formatDuration(timerTotal(this.serviceEntries(voided), now)));
      this.addSum('service', sum);
      list.append(h('li', { 'data-goal': 'service' }, h('span', { class: 'bar-area' }, 'Service minutes'), ': ', sum));
    }
    // What the last Undo took back, visible and announced (role=status).
    this.undoLine = h('p', { id: 'undo-status', class: 'undo-status', role: 'status' });
    bar.append(list, h('div', { class: 'bar-actions' }, h('button', { class: 'btn', type: 'button', 'data-act': 'undo' }, t('undoLast'))), this.undoLine);
    main.append(bar);
    if (this.session.service_id) main.append(this.serviceCard());
    for (const goal of this.goals) main.append(this.goalCard(goal, voided, now));
    main.append(this.noteCard());
    // Closing is far from Undo, at the end of the session, and asks first (in the page).
    this.endCard = h('section', { class: 'card session-end' });
    this.drawEnd(false);
    main.append(this.endCard);
    this.tick = setInterval(() => this.updateTimers(), 1000);
  }

  drawEnd(asking) {
    const card = clear(this.endCard);
    if (!asking) {
      card.append(h('button', { class: 'btn btn-danger', type: 'button', 'data-act': 'close' }, t('closeSession')));
      return;
    }
    const keep = h('button', { class: 'btn', type: 'button', 'data-act': 'close-no' }, t('closeNo'));
    card.append(
      h(
        'div',
        { class: 'confirm', role: 'group', 'aria-labelledby': 'close-ask' },
        h('p', { id: 'close-ask', class: 'confirm-ask' }, t('closeAsk')),
        h('div', { class: 'bar-actions' }, keep, h('button', { class: 'btn btn-danger', type: 'button', 'data-act': 'close-yes', 'aria-describedby': 'close-ask' }, t('closeYes'))),
      ),
    );
    keep.focus();
    this.say(t('closeAsk'));
  }

  serviceEntries(voided) {
    return this.goalEntries(null).filter((e) => (e.kind === 'timer_start' || e.kind === 'timer_stop') && !voided.has(e.op_id));
  }

  addSum(goalId, el) {
    if (!this.sums.has(goalId)) this.sums.set(goalId, []);
    this.sums.get(goalId).push(el);
  }

  countText() {
    return `${this.liveCount} entries`;
  }

  promptChips(goal) {
    const selected = this.prompts.get(goal.id) || 'independent';
    return h(
      'div',
      { class: 'chips', role: 'group', 'aria-label': t('promptFor', goal.area) },
      PROMPTS.map(([key, short]) =>
        h(
          'button',
          { class: 'chip', type: 'button', 'data-act': 'prompt', 'data-goal': goal.id, 'data-prompt': key, 'aria-pressed': String(key === selected), title: short },
          promptName(key),
        ),
      ),
    );
  }

  // The prompt level a trial will be recorded with, on the trial buttons themselves.
  promptTag(goalId) {
    return h('span', { class: 'tap-prompt', 'data-prompt-of': goalId }, t('promptNow', promptName(this.prompts.get(goalId) || 'independent')));
  }

  // A task step's current state, as text (screen readers read it too).
  stepStateText(f, index) {
    const outcome = f.stepState?.get(index);
    if (!outcome) return t('stepNotYet');
    const prompt = promptName(f.stepPrompt.get(index));
    return outcome === 'correct' ? t('stepDone', prompt) : t('stepMissed', prompt);
  }

  // Anchors under the rating buttons: the goal's own, or the scale's ends.
  anchors(goal) {
    const max = goal.rating_max || 5;
    const given = (goal.rating_anchors || []).map((label, value) => [value, label]).filter(([, label]) => label);
    const shown = given.length ? given : [[0, t('anchorLow')], [max, t('anchorHigh')]];
    return h('ul', { class: 'anchors' }, shown.map(([value, label]) => h('li', { 'data-value': value }, t('anchor', value, label))));
  }

  goalCard(goal, voided, now) {
    const f = goalFigures(goal, this.goalEntries(goal.id), voided);
    const sum = h('p', { class: 'sum card-sum' }, summarize(goal, null, voided, now, f));
    this.addSum(goal.id, sum);
    const card = h(
      'section',
      { class: `card goal goal-${goal.measurement}`, 'data-goal': goal.id, 'aria-labelledby': `goal-${goal.id}` },
      h('h2', { id: `goal-${goal.id}` }, goal.area),
      h('p', { class: 'goal-text' }, goal.description),
      sum,
    );
    const area = goal.area;
    switch (goal.measurement) {
      case 'trials':
        card.append(
          this.promptChips(goal),
          h(
            'div',
            { class: 'big-row' },
            h('button', { class: 'btn tap tap-ok', type: 'button', 'data-act': 'trial', 'data-goal': goal.id, 'data-outcome': 'correct' }, '✓ Correct', this.promptTag(goal.id), hidden(area)),
            h('button', { class: 'btn tap tap-bad', type: 'button', 'data-act': 'trial', 'data-goal': goal.id, 'data-outcome': 'incorrect' }, '✗ Incorrect', this.promptTag(goal.id), hidden(area)),
            h('button', { class: 'btn tap', type: 'button', 'data-act': 'trial', 'data-goal': goal.id, 'data-outcome': 'no_response' }, '– No response', this.promptTag(goal.id), hidden(area)),
          ),
        );
        break;
      case 'frequency':
        card.append(
          h(
            'div',
            { class: 'big-row' },
            h('button', { class: 'btn tap tap-minus', type: 'button', 'data-act': 'tally', 'data-goal': goal.id, 'data-delta': '-1', 'aria-label': `Remove one: ${area}` }, '−'),
            h('button', { class: 'btn tap tap-plus', type: 'button', 'data-act': 'tally', 'data-goal': goal.id, 'data-delta': '1', 'aria-label': `Add one: ${area}` }, '+'),
          ),
        );
        break;
      case 'duration':
        card.append(h('div', { class: 'big-row' }, this.timerButton(goal.id, area)));
        break;
      case 'rating': {
        const row = h('div', { class: 'big-row rating-row', role: 'group', 'aria-label': `Rating for ${area}` });
        for (let v = 0; v <= (goal.rating_max || 5); v += 1) {
          row.append(h('button', { class: 'btn tap tap-rating', type: 'button', 'data-act': 'rating', 'data-goal': goal.id, 'data-value': v, 'aria-label': `${v} of ${goal.rating_max}, ${area}` }, String(v)));
        }
        card.append(row, this.anchors(goal));
        break;
      }
      case 'task_analysis': {
        const list = h('ol', { class: 'steps' });
        goal.task_steps.forEach((step, index) => {
          list.append(
            h(
              'li',
              {},
              h('span', { class: 'step-text' }, h('span', { class: 'step-name' }, step), h('span', { class: 'step-state', 'data-step-state': index }, this.stepStateText(f, index))),
              h('button', { class: 'btn tap-step tap-ok', type: 'button', 'data-act': 'step', 'data-goal': goal.id, 'data-step': index, 'data-outcome': 'correct', 'aria-label': `Correct: step ${index + 1}, ${step}` }, '✓'),
              h('button', { class: 'btn tap-step tap-bad', type: 'button', 'data-act': 'step', 'data-goal': goal.id, 'data-step': index, 'data-outcome': 'incorrect', 'aria-label': `Incorrect: step ${index + 1}, ${step}` }, '✗'),
            ),
          );
        });
        card.append(this.promptChips(goal), list);
        break;
      }
      default:
        break;
    }
    return card;
  }

  runningTimer(goalId) {
    for (const timer of this.timers.values()) if (timer.goal_id === goalId && !timer.stopped_ms && !timer.undone) return timer;
    return null;
  }

  timerButton(goalId, label) {
    const running = this.runningTimer(goalId);
    return h(
      'button',
      { class: `btn tap tap-timer${running ? ' running' : ''}`, type: 'button', 'data-act': 'timer', 'data-goal': goalId ?? '', 'data-label': label },
      running ? '■ Stop' : '▶ Start',
      hidden(`timer, ${label}`),
    );
  }

  serviceCard() {
    const service = this.services.find((s) => s.id === this.session.service_id);
    const label = service ? service.service_type : 'Service';
    return h('section', { class: 'card goal goal-service', 'data-goal': 'service' }, h('h2', {}, `${label}: service minutes`), h('div', { class: 'big-row' }, this.timerButton(null, label)));
  }

  noteCard() {
    this.noteList = h('ul', { class: 'note-list', 'aria-label': t('notesHere') });
    this.drawNotes();
    return h(
      'section',
      { class: 'card note' },
      h('label', { for: 'note-text' }, t('note')),
      h('textarea', { id: 'note-text', maxlength: '4000' }),
      h('button', { class: 'btn', type: 'button', 'data-act': 'note' }, t('addNote')),
      this.noteList,
    );
  }

  // The session's notes, each with its own Undo.
  drawNotes() {
    if (!this.noteList) return;
    const voided = this.voided();
    const notes = this.goalEntries(null).filter((e) => e.kind === 'note' && !voided.has(e.op_id) && !e.status);
    clear(this.noteList).append(
      ...notes.map((e) =>
        h(
          'li',
          { class: 'note-item', 'data-op': e.op_id },
          h('span', { class: 'note-body' }, e.note),
          h('button', { class: 'btn btn-small', type: 'button', 'data-act': 'undo-note', 'data-op': e.op_id }, t('undoNote'), hidden(e.note.slice(0, 60))),
        ),
      ),
    );
  }

  drawHistory(main) {
    const mine = this.history.filter(({ session }) => session.staff_id === app.user.id || session.local);
    if (!mine.length) {
      main.querySelectorAll('.history-card').forEach((card) => card.remove());
      return;
    }
    const list = h('ul', { class: 'history' });
    for (const { session, entries } of mine) {
      const corrected = entries.some((e) => e.kind === 'correction');
      let status = STATUS_TEXT[session.review_status] || session.review_status;
      if (session.review_status === 'rejected' && session.review_reason) status += `: ${session.review_reason}`;
      list.append(
        h(
          'li',
          { 'data-session': session.id, 'data-status': session.review_status, class: `status-${session.review_status}` },
          h('span', {}, `${new Date(session.opened_at).toLocaleDateString()} ${clock(session.opened_at)}`),
          ' · ',
          h('strong', { class: 'review' }, status),
          corrected ? h('span', { class: 'corrected' }, ' · corrected by the teacher') : null,
        ),
      );
    }
    main.querySelectorAll('.history-card').forEach((card) => card.remove());
    main.append(h('section', { class: 'card history-card' }, h('h2', {}, 'Recent sessions'), list));
  }

  // --- taps ---------------------------------------------------------------------------------

  onClick(event) {
    const btn = event.target.closest('button[data-act]');
    if (!btn || !this.main.contains(btn)) return;
    const t0 = performance.now();
    const goalId = btn.dataset.goal ? Number(btn.dataset.goal) : null;
    const sid = this.session?.id;
    switch (btn.dataset.act) {
      case 'prompt':
        this.choosePrompt(btn, goalId, btn.dataset.prompt);
        return;
      case 'trial': {
        const prompt = this.prompts.get(goalId) || 'independent';
        const data = { session_id: sid, goal_id: goalId, outcome: btn.dataset.outcome, prompt };
        this.record(t0, 'trial.record', data, { kind: 'trial', ...data }, `${btn.dataset.outcome.replace('_', ' ')}, ${promptName(prompt)}`);
        return;
      }
      case 'tally': {
        const data = { session_id: sid, goal_id: goalId, delta: Number(btn.dataset.delta) };
        this.record(t0, 'tally.add', data, { kind: 'tally', ...data }, data.delta > 0 ? 'plus one' : 'minus one');
        return;
      }
      case 'rating': {
        const data = { session_id: sid, goal_id: goalId, value: Number(btn.dataset.value) };
        this.record(t0, 'rating.record', data, { kind: 'rating', ...data }, `rating ${data.value}`);
        return;
      }
      case 'step': {
        const prompt = this.prompts.get(goalId) || 'independent';
        const data = { session_id: sid, goal_id: goalId, step_index: Number(btn.dataset.step), outcome: btn.dataset.outcome, prompt };
        this.record(t0, 'step.record', data, { kind: 'step', ...data }, `step ${data.step_index + 1} ${data.outcome}`);
        return;
      }
      case 'timer':
        this.toggleTimer(t0, btn, btn.dataset.goal === '' ? null : goalId);
        return;
      case 'note': {
        const box = this.main.querySelector('#note-text');
        const text = box.value.trim();
        if (!text) return;
        const data = { session_id: sid, text: text.slice(0, 4000) };
        this.record(t0, 'note.add', data, { kind: 'note', session_id: sid, goal_id: null, note: data.text }, 'note added');
        box.value = '';
        this.drawNotes();
        return;
      }
      case 'undo':
        this.undo(t0);
        return;
      case 'undo-note': {
        const target = this.entries.find((e) => e.op_id === btn.dataset.op);
        if (target && !this.voided().has(target.op_id)) this.undoEntry(t0, target);
        return;
      }
      case 'close':
        this.drawEnd(true);
        return;
      case 'close-no':
        this.drawEnd(false);
        this.endCard.querySelector('button')?.focus();
        return;
      case 'close-yes':
        this.closeSession();
        return;
      case 'reopen':
        this.reopenSession();
        return;
      case 'open':
        this.openSession(null);
        return;
      case 'open-service':
        this.openSession(Number(btn.dataset.service));
        return;
      default:
        break;
    }
  }

  // Screen first, then the write: the count changes in this frame, the transaction
  // commits after it. `t0` is when the handler started.
  record(t0, type, data, entry, spoken, puts = []) {
    const { op, done } = enqueue(app.raw, type, data, { entry, puts });
    this.tapCount += 1;
    if (this.undoShown && entry?.kind !== 'undo') {
      this.undoLine.textContent = '';
      this.undoShown = false;
    }
    if (entry) {
      const local = { ...entry, op_id: op.op_id, at: op.at };
      this.entries.push(local);
      this.addToIndex(local);
      if (entry.kind !== 'undo') this.liveCount += 1;
      if (entry.kind === 'undo') {
        this.undoCount += 1;
        this.liveCount -= 1;
      }
    }
    this.updateSums(entry ? entry.goal_id : null);
    this.say(spoken);
    notePending(1);
    const syncPart = performance.now() - t0;
    tapSyncTimes.push(syncPart);
    if (tapSyncTimes.length > 5000) tapSyncTimes.splice(0, 1000);
    track(done.then(() => {
      const c0 = performance.now();
      tapTimes.push(c0 - t0);
      if (tapTimes.length > 5000) tapTimes.splice(0, 1000);
      tabs.postMessage({ type: 'tapped', userId: app.user.id, sessionId: data.session_id ?? this.session?.id ?? null });
      tapOwnTimes.push(syncPart + (performance.now() - c0));
      if (tapOwnTimes.length > 5000) tapOwnTimes.splice(0, 1000);
    }).catch((err) => this.say(`Not saved: ${err.message}`)));
    return op;
  }

  say(text) {
    if (!this.announcer || !this.announcer.isConnected) this.announcer = this.main.querySelector('#announce');
    if (this.announcer) this.announcer.textContent = text;
  }

  updateSums(goalId) {
    const voided = this.voided();
    const now = this.now();
    const goals = goalId == null ? this.goals : this.goals.filter((g) => g.id === goalId);
    for (const goal of goals) {
      const f = goalFigures(goal, this.goalEntries(goal.id), voided);
      for (const el of this.sums.get(goal.id) || []) el.textContent = summarize(goal, null, voided, now, f);
      if (goal.measurement === 'task_analysis') {
        for (const el of this.main.querySelectorAll(`.card[data-goal="${goal.id}"] [data-step-state]`)) {
          const text = this.stepStateText(f, Number(el.dataset.stepState));
          if (el.textContent !== text) el.textContent = text;
        }
      }
    }
    if (goalId == null && this.sums.has('service')) {
      for (const el of this.sums.get('service')) el.textContent = formatDuration(timerTotal(this.serviceEntries(voided), now));
    }
    if (!this.counter || !this.counter.isConnected) this.counter = this.main.querySelector('#entry-count');
    if (this.counter) this.counter.textContent = this.countText();
  }

  updateTimers() {
    const now = this.now();
    const voided = this.voided();
    for (const goal of this.goals) {
      if (goal.measurement === 'duration' && this.runningTimer(goal.id)) {
        for (const el of this.sums.get(goal.id) || []) el.textContent = summarize(goal, this.goalEntries(goal.id), voided, now);
      }
    }
    if (this.sums.has('service') && this.runningTimer(null)) {
      for (const el of this.sums.get('service')) el.textContent = formatDuration(timerTotal(this.serviceEntries(voided), now));
    }
  }

  toggleTimer(t0, btn, goalId) {
    const running = this.runningTimer(goalId);
    const label = btn.dataset.label;
    if (running) {
      const stoppedMs = Date.now();
      const timer = { ...running, stopped_ms: stoppedMs };
      this.timers.set(timer.timer_id, timer);
      const data = { session_id: this.session.id, timer_id: running.timer_id };
      this.record(t0, 'timer.stop', data, { kind: 'timer_stop', session_id: this.session.id, goal_id: goalId, timer_id: running.timer_id, stopped_ms: stoppedMs }, 'timer stopped', [['timers', timer]]);
    } else {
      const startedMs = Date.now();
      const timer = { timer_id: crypto.randomUUID(), session_id: this.session.id, goal_id: goalId, started_ms: startedMs, stopped_ms: null };
      this.timers.set(timer.timer_id, timer);
      const data = { session_id: this.session.id, timer_id: timer.timer_id, goal_id: goalId };
      this.record(t0, 'timer.start', data, { kind: 'timer_start', session_id: this.session.id, goal_id: goalId, timer_id: timer.timer_id, started_ms: startedMs }, 'timer started', [['timers', timer]]);
    }
    btn.replaceWith(this.timerButton(goalId, label));
    this.main.querySelector(`[data-act="timer"][data-goal="${goalId ?? ''}"]`)?.focus();
  }

  undo(t0) {
    const voided = this.voided();
    for (let i = this.entries.length - 1; i >= 0; i -= 1) {
      const target = this.entries[i];
      if (!UNDOABLE.has(target.kind) || voided.has(target.op_id) || target.status) continue;
      this.undoEntry(t0, target);
      return;
    }
    this.showUndo(t('nothingToUndo'));
  }

  // Void one entry; a timer's start or stop also changes whether it runs.
  undoEntry(t0, target) {
    const puts = [];
    const timer = target.timer_id ? this.timers.get(target.timer_id) : null;
    if (timer && (target.kind === 'timer_start' || target.kind === 'timer_stop')) {
      // Undoing a stop lets the timer run on; undoing a start takes the whole run back.
      const next = target.kind === 'timer_stop' ? { ...timer, stopped_ms: null } : { ...timer, undone: true };
      this.timers.set(next.timer_id, next);
      puts.push(['timers', next]);
    }
    const data = { target_op_id: target.op_id };
    this.record(t0, 'undo', data, { kind: 'undo', session_id: this.session.id, goal_id: target.goal_id, voids_op_id: target.op_id }, '', puts);
    this.showUndo(t('undone', this.describe(target)));
    if (timer) {
      const btn = this.main.querySelector(`[data-act="timer"][data-goal="${target.goal_id ?? ''}"]`);
      if (btn) btn.replaceWith(this.timerButton(target.goal_id ?? null, btn.dataset.label));
    }
    if (target.goal_id == null) this.updateSums(null);
    if (target.kind === 'note') this.drawNotes();
  }

  showUndo(text) {
    if (!this.undoLine) return;
    this.undoLine.textContent = text;
    this.undoShown = true;
  }

  // What an entry was, in a few words: "✓ correct, Communication".
  describe(e) {
    const goal = this.goals.find((g) => g.id === e.goal_id);
    let what;
    switch (e.kind) {
      case 'trial':
        what = t(`what_${e.outcome}`);
        break;
      case 'tally':
        what = e.delta > 0 ? t('whatTallyUp') : t('whatTallyDown');
        break;
      case 'rating':
        what = t('whatRating', e.value);
        break;
      case 'step':
        what = t('whatStep', e.step_index + 1, e.outcome === 'correct' ? '✓' : '✗');
        break;
      case 'timer_start':
        what = t('whatTimerStart');
        break;
      case 'timer_stop':
        what = t('whatTimerStop');
        break;
      case 'note':
        return t('whatNote', e.note.length > 40 ? `${e.note.slice(0, 40)}…` : e.note);
      default:
        what = e.kind;
    }
    const where = goal ? goal.area : e.kind.startsWith('timer') ? t('serviceMinutes') : null;
    return where ? `${what}, ${where}` : what;
  }

  choosePrompt(btn, goalId, prompt) {
    this.prompts.set(goalId, prompt);
    this.promptEpoch += 1;
    for (const chip of btn.parentElement.children) chip.setAttribute('aria-pressed', String(chip === btn));
    const text = t('promptNow', promptName(prompt));
    for (const el of this.main.querySelectorAll(`[data-prompt-of="${goalId}"]`)) el.textContent = text;
    // Kept for this user on this device: a reload or coming back to the student keeps it.
    const tx = app.raw.transaction('prefs', 'readwrite');
    tx.objectStore('prefs').put({ key: promptKey(goalId), value: prompt });
    track(
      new Promise((resolve, reject) => {
        tx.oncomplete = resolve;
        tx.onabort = () => reject(tx.error);
      }),
    );
  }

  openSession(serviceId) {
    const t0 = performance.now();
    this.loadGen += 1; // a load still reading would draw the screen before this session
    this.lastClosed = null;
    const session = {
      id: crypto.randomUUID(),
      student_id: this.studentId,
      staff_id: app.user.id,
      service_id: serviceId,
      opened_at: new Date().toISOString(),
      closed_at: null,
      review_status: 'open',
      review_reason: null,
      local: true,
    };
    this.session = session;
    this.entries = [];
    this.undoCount += 1;
    this.indexEntries();
    this.timers = new Map();
    this.record(t0, 'session.open', { session_id: session.id, student_id: this.studentId, service_id: serviceId }, null, 'session started', [['sessions', session]]);
    this.draw();
    if (serviceId) {
      const btn = this.main.querySelector('[data-act="timer"][data-goal=""]');
      if (btn) this.toggleTimer(performance.now(), btn, null);
    }
    this.main.querySelector('.session-bar button')?.focus();
  }

  closeSession() {
    const t0 = performance.now();
    for (const timer of [...this.timers.values()]) {
      if (timer.stopped_ms) continue;
      const btn = this.main.querySelector(`[data-act="timer"][data-goal="${timer.goal_id ?? ''}"]`);
      if (btn) this.toggleTimer(t0, btn, timer.goal_id);
    }
    const closed = { ...this.session, closed_at: new Date().toISOString(), review_status: 'pending' };
    this.loadGen += 1;
    this.record(t0, 'session.close', { session_id: this.session.id }, null, 'session closed', [['sessions', closed]]);
    this.history.unshift({ session: closed, entries: this.entries });
    this.lastClosed = { session: closed, queued: true };
    this.session = null;
    this.entries = [];
    this.undoCount += 1;
    this.indexEntries();
    this.draw();
    this.main.querySelector('[data-act="reopen"]')?.focus();
  }

  // Reopen the session just closed, while its close has not left this device: the close
  // and the reopen then reach the server together and the teacher never sees it.
  async reopenSession() {
    const closed = this.lastClosed?.session;
    if (!closed) return;
    if (!(await this.closeQueued(closed.id))) {
      this.lastClosed = { session: closed, queued: false };
      this.draw();
      return;
    }
    const t0 = performance.now();
    const session = { ...closed, closed_at: null, review_status: 'pending' === closed.review_status ? 'open' : closed.review_status };
    this.loadGen += 1;
    this.record(t0, 'session.reopen', { session_id: session.id }, null, t('reopened'), [['sessions', session]]);
    this.lastClosed = null;
    this.history = this.history.filter((x) => x.session.id !== session.id);
    if (!(await this.load())) return; // a newer load draws the screen
    this.draw();
    this.say(t('reopened'));
    this.main.querySelector('.session-bar button')?.focus();
  }
}
