/* Microsoft sign-in of late 2026 (ms_signin_live.html, ms_personal.html; ms_flow.py on the server): the
   screens are <template>s swapped in place; every move asks POST /common/step {action, value}, which answers
   with the next screen, an error to show on this one, or where to go. A screen's form sends the screen's own
   name as its action (with the typed value); other controls carry their action (plain: data-action, else the
   markup's hook "act"); the classic screens' own controls are mapped below. */
(function () {
  var flowToken = {{ flow|tojson }}, first = {{ first|tojson }};
  var swapDelay = Math.max(20, Math.round({{ delay|int }} / 2));
  var keepEarlierSteps = {{ mk.cards|tojson }};  // cards: earlier steps stay in the DOM, off-screen
  var username = '', pending = false, pageReady = false;
  var CLASSIC = [['another-way', '#signInAnotherWay', 'another-way'],
                 ['troubleshoot', '#idA_SAOTCC_Troubleshoot', 'another-way'], ['no', '#idBtn_Back', 'no']];
  var FIELDS = 'input[type=email], input[type=password], input[type=tel], input[type=text]';

  function busy(on) { sbx.find('progress', '#progress').hidden = !on; }
  function show(name) {
    var step = sbx.find('step', '#step');
    var template = sbx.all('tpl', 'template[id^="tpl-"]').find(function (t) { return sbx.arg(t, 'id') === 'tpl-' + name; });
    if (keepEarlierSteps && step.firstElementChild) {
      var earlier = document.createElement('div');
      earlier.className = 'k-offscreen';
      earlier.append.apply(earlier, Array.prototype.slice.call(step.childNodes));
      step.parentNode.appendChild(earlier);
    }
    step.replaceChildren(template.content.cloneNode(true));
    if (pageReady) step.querySelectorAll('[' + sbx.mk.ready + ']').forEach(function (e) { sbx.setEnabled(e, true); });
    sbx.all('who', '#displayName', step).forEach(function (who) { who.textContent = username; });
    wire(step, name);
    var field = step.querySelector(FIELDS);
    if (field) field.focus();
  }
  function controls(s) { return s.querySelectorAll('[type=submit], [type=button], [role=button], a'); }
  function setControls(s, on) { controls(s).forEach(function (c) { sbx.setEnabled(c, on); }); }

  function ask(s, body) {
    if (pending) return;
    var errorEl = sbx.find('error', '.alert-error', s), field = s.querySelector(FIELDS);
    if (errorEl) { errorEl.textContent = ''; errorEl.hidden = true; }
    pending = true; setControls(s, false); busy(true);
    body.flowToken = flowToken;
    fetch('/common/step', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (data.redirect) { window.location.assign(data.redirect); return; }
        if (data.error) {
          pending = false; busy(false); setControls(s, true);
          if (errorEl) { errorEl.textContent = data.error; errorEl.hidden = false; }
          if (field) { if (field.type === 'password') field.value = ''; else field.select(); field.focus(); }
          return;
        }
        if (data.Username) username = data.Username;
        setTimeout(function () { pending = false; busy(false); show(data.next); }, swapDelay);
      })
      .catch(function () {
        pending = false; busy(false); setControls(s, true);
        if (errorEl) { errorEl.textContent = 'Something went wrong. Please try again.'; errorEl.hidden = false; }
      });
  }
  function onAction(s, el, body) {
    el.addEventListener('click', function (ev) { ev.preventDefault(); if (sbx.enabled(el)) ask(s, body); });
    if (!sbx.mk.hook && el.getAttribute('role') === 'button' && el.tagName !== 'BUTTON') {  // plain: keyboard on tiles
      el.addEventListener('keydown', function (ev) { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); el.click(); } });
    }
  }
  function wire(s, name) {
    var form = s.querySelector('form');
    if (form) form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var field = s.querySelector(FIELDS);
      ask(s, {action: name, value: field ? field.value : ''});
    });
    CLASSIC.forEach(function (c) { var el = sbx.find(c[0], c[1], s); if (el) onAction(s, el, {action: c[2]}); });
    sbx.all('method', '[data-value]', s).forEach(function (el) { onAction(s, el, {action: 'method', value: sbx.arg(el, 'data-value')}); });
    sbx.all('act', '[data-action]', s).forEach(function (el) { onAction(s, el, {action: sbx.arg(el, 'data-action')}); });
  }
  document.addEventListener('app:rendered', function () { show(first); });
  document.addEventListener('app:ready', function () { pageReady = true; });  // later screens start enabled
})();
