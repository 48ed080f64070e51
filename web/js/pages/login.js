// Sign in. After success the reader goes back to where they came from (?next=, same site only).
import { h, fill } from '../dom.js';
import { boot } from '../shell.js';
import { showError, clearErrors } from '../api.js';
import { login } from '../session.js';

function nextUrl() {
  const n = new URLSearchParams(location.search).get('next') || '/';
  // only a path on this site: no scheme, no "//host"
  return /^\/(?![/\\])/.test(n) ? n : '/';
}

boot({ page: 'login', title: 'title.login' }, async (main, user) => {
  if (user) {
    fill(
      main,
      h('div', { class: 'card' }, h('h1', { i18n: 'login.already', args: { user: user.username } }), h('a', { class: 'button', href: nextUrl(), i18n: 'login.continue' })),
    );
    return;
  }
  const err = h('p', { class: 'action-error', id: 'login-error', role: 'alert' });
  const submit = h('button', { type: 'submit', id: 'login-submit', i18n: 'login.submit' });
  const form = h(
    'form',
    { class: 'stacked', id: 'login-form', novalidate: true },
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'username', i18n: 'login.username' }),
      h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true, 'aria-describedby': 'username-error', autocapitalize: 'none', spellcheck: 'false' }),
      h('span', { class: 'field-error', id: 'username-error' }),
    ),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'password', i18n: 'login.password' }),
      h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true, 'aria-describedby': 'password-error' }),
      h('span', { class: 'field-error', id: 'password-error' }),
    ),
    err,
    h('div', { class: 'form-actions' }, submit),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    fill(err);
    const username = form.username.value.trim();
    const password = form.password.value;
    if (!username || !password) {
      const f = !username ? form.username : form.password;
      f.setAttribute('aria-invalid', 'true');
      fill(form.querySelector(`#${f.id}-error`), h('span', { i18n: 'login.fill_both' }));
      f.focus();
      return;
    }
    submit.disabled = true;
    try {
      await login(username, password);
      location.href = nextUrl();
    } catch (e) {
      showError(err, e, form);
      form.password.select();
      submit.disabled = false;
    }
  });
  fill(
    main,
    h(
      'div',
      { class: 'grid two' },
      h('section', { class: 'card' }, h('h1', { i18n: 'login.title' }), h('p', { class: 'muted', i18n: 'login.lead' }), form),
      h('section', { class: 'card' }, h('h2', { i18n: 'login.why_title' }), h('p', { i18n: 'login.why_text' }), h('p', { class: 'muted', i18n: 'login.public_text' }), h('a', { href: '/explorer/', i18n: 'login.open_explorer' })),
    ),
  );
  form.username.focus();
});
