// Form pieces shared by the pages: labelled fields with a slot for their error, a select of
// translated options, a box that shows a secret once with a copy button, and a submit helper
// that disables the button, shows API errors next to the field they name, and re-enables.
import { h, fill } from './dom.js';
import { showError, clearErrors } from './api.js';

// A labelled input (or select/textarea). opts: {id, name, label (key), type, hint (key),
// required, optional (marks the label "optional"), options: [{value, key (translated) or text (data)}] for a select, value, autocomplete, attrs}.
export function field(opts) {
  const { id, name = opts.id, label, type = 'text', hint, required, optional, options, value, attrs = {} } = opts;
  const describedBy = [hint ? `${id}-hint` : null, `${id}-error`].filter(Boolean).join(' ');
  let control;
  const common = { id, name, required: !!required, 'aria-describedby': describedBy, ...attrs };
  if (options) {
    control = h('select', common, options.map((o) => h('option', { value: o.value, i18n: o.key, text: o.text, selected: o.value === value })));
  } else if (type === 'textarea') {
    control = h('textarea', { ...common, rows: 3 });
    if (value !== undefined) control.value = value;
  } else {
    control = h('input', { ...common, type, value: value !== undefined ? value : null, autocomplete: opts.autocomplete || 'off' });
  }
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, h('span', { i18n: label }), optional ? h('span', { class: 'muted small', i18n: 'common.optional' }) : null),
    control,
    hint ? h('span', { class: 'hint', id: `${id}-hint`, i18n: hint }) : null,
    h('span', { class: 'field-error', id: `${id}-error` }),
  );
}

// Wires form's submit to action(form) → Promise. Errors land next to the field the server
// names (error.detail) or in the form's action message; onDone(result) runs after success.
export function onSubmit(form, action, onDone) {
  const msg = form.querySelector('.action-error') || form.appendChild(h('p', { class: 'action-error', role: 'alert' }));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    fill(msg);
    const buttons = [...form.querySelectorAll('button[type=submit]')];
    buttons.forEach((b) => (b.disabled = true));
    try {
      const result = await action(form);
      if (onDone) await onDone(result);
    } catch (e) {
      showError(msg, e, form);
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  });
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // no clipboard permission (or an insecure page): the old way, from a selection
    const ta = h('textarea', { class: 'visually-hidden', 'aria-hidden': 'true' });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    ta.remove();
    return ok;
  }
}

// A secret shown once (token, temporary password): the value, a copy button, and a warning.
export function secretBox(value, { id, warning }) {
  const status = h('span', { class: 'small', role: 'status', 'aria-live': 'polite' });
  const code = h('code', { id, text: value });
  const btn = h('button', {
    type: 'button',
    class: 'secondary small',
    id: `${id}-copy`,
    i18n: 'common.copy',
    on: {
      click: async () => {
        const ok = await copyText(value);
        fill(status, h('span', { i18n: ok ? 'common.copied' : 'common.copy_failed' }));
        if (!ok) {
          const r = document.createRange();
          r.selectNodeContents(code);
          getSelection().removeAllRanges();
          getSelection().addRange(r);
        }
      },
    },
  });
  return h('div', {}, h('div', { class: 'secret-box' }, code, btn, status), h('p', { class: 'small', i18n: warning }));
}

// A button that asks once more before it acts: the first click shows "confirm" and "cancel".
export function confirmButton({ id, key, confirmKey, className = 'danger small', onConfirm }) {
  const wrap = h('span', { class: 'form-actions' });
  const first = h('button', { type: 'button', id, class: className, i18n: key });
  const yes = h('button', { type: 'button', id: `${id}-confirm`, class: className, i18n: confirmKey });
  const no = h('button', { type: 'button', class: 'secondary small', i18n: 'common.cancel' });
  const err = h('span', { class: 'action-error', role: 'alert' });
  const reset = () => fill(wrap, first, err);
  first.addEventListener('click', () => {
    fill(wrap, yes, no, err);
    yes.focus();
  });
  no.addEventListener('click', () => {
    reset();
    first.focus();
  });
  yes.addEventListener('click', async () => {
    yes.disabled = true;
    no.disabled = true;
    fill(err);
    try {
      await onConfirm();
    } catch (e) {
      reset();
      showError(err, e);
    } finally {
      yes.disabled = false;
      no.disabled = false;
    }
  });
  reset();
  return wrap;
}
