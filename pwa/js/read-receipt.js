// Read receipts of server-rendered pages (a progress note, a message thread). A GET
// never records a read: link prefetchers, prerendering and mail scanners fetch pages
// nobody looks at. So the page itself posts the receipt, once, when it is actually in
// view. The element [data-read-receipt] names the URL to post to.

const CSRF_COOKIE = /(?:^|;\s*)tandem_csrf=([^;]+)/;

function inView() {
  return document.visibilityState === 'visible' && !document.prerendering;
}

function report(el, url) {
  let sent = false;
  const send = () => {
    if (sent || !inView()) return;
    sent = true;
    document.removeEventListener('visibilitychange', send);
    document.removeEventListener('prerenderingchange', send);
    fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'x-csrf-token': (document.cookie.match(CSRF_COOKIE) || [])[1] || '' },
    })
      .then((response) => {
        if (response.ok) el.setAttribute('data-read-recorded', '');
      })
      .catch(() => {}); // offline: the next visit reports it
  };
  document.addEventListener('visibilitychange', send);
  document.addEventListener('prerenderingchange', send);
  send();
}

for (const el of document.querySelectorAll('[data-read-receipt]')) {
  const url = el.getAttribute('data-read-receipt') || '';
  if (url.startsWith('/api/')) report(el, url);
}
