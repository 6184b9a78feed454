/* The Entra admin center's single-page app: the blade the hash names, asked from /_blade and shown after the
   rendering delay the server gives (X-Render-Delay); its controls are enabled half that delay later. Blades act
   through /api/... (JSON) and are drawn again from the server afterwards. Elements are found by hook (data-blade
   in plain, the markup's own hook attribute elsewhere). A new client secret's value is kept in memory only,
   for the blade that made it. */
(function () {
  var C = window.ENTRA, H = sbx.mk.hook || 'data-blade';
  var main = document.querySelector('main');
  var fresh = {};     // appId -> {keyId: secret text}: shown until the Certificates & secrets blade is left
  var freshApp = null;
  var seq = 0, listSeq = 0;
  var keepToasts = false;

  function sel(name, a) {
    return '[' + H + '="' + name + '"]' + (a == null ? '' : '[' + H + '-arg="' + CSS.escape(String(a)) + '"]');
  }
  function q(name, root, a) { return (root || document).querySelector(sel(name, a)); }
  function qa(name, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel(name))); }
  function arg(el) { return el.getAttribute(H + '-arg'); }
  function enabled(el) { return sbx.enabled(el); }
  function setEnabled(el, on) { if (el) sbx.setEnabled(el, on); }
  function on(el, type, fn) { if (el) el.addEventListener(type, fn); }
  function click(el, fn) {
    on(el, 'click', function (event) { event.preventDefault(); if (enabled(el)) fn(event); });
  }
  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }
  function host() { return q('host'); }
  function route() { return window.location.hash.replace(/^#/, '') || 'home'; }
  function signIn() { window.location.assign(C.signIn + encodeURIComponent(window.location.hash)); }

  // notifications ------------------------------------------------------------------------------------------
  function clearToasts() { q('toasts').replaceChildren(); }
  function toast(message, error) {
    var note = document.createElement('div');
    note.setAttribute('role', error ? 'alert' : 'status');
    note.className = C.toast + (error ? ' ' + C.toastError : '');
    note.textContent = message;
    q('toasts').replaceChildren(note);
  }

  // the server -----------------------------------------------------------------------------------------------
  function call(method, url, body) {
    return fetch(url, {method: method, credentials: 'same-origin',
                       headers: {'Content-Type': 'application/json', 'Accept': 'application/json'},
                       body: body === undefined ? undefined : JSON.stringify(body)})
      .then(function (r) {
        if (r.status === 401) { signIn(); throw new Error('signed out'); }
        return r.json().catch(function () { return {}; }).then(function (data) { data._status = r.status; return data; });
      });
  }
  function bladeUrl(params) {
    params.mk = C.markup;
    return '/_blade?' + new URLSearchParams(params).toString();
  }
  function getBlade(params) {
    return fetch(bladeUrl(params), {credentials: 'same-origin'}).then(function (r) {
      if (r.status === 401) { signIn(); throw new Error('signed out'); }
      if (!r.ok) throw new Error('HTTP ' + r.status);
      var delay = parseInt(r.headers.get('X-Render-Delay') || '0', 10) || 0;
      var title = decodeURIComponent(r.headers.get('X-Blade-Title') || '');
      return r.text().then(function (html) { return sleep(delay).then(function () {
        return {html: html, delay: delay, title: title}; }); });
    });
  }
  function enableReady(root, delay) {
    setTimeout(function () {
      root.querySelectorAll('[' + sbx.mk.ready + ']').forEach(function (e) { setEnabled(e, true); });
    }, Math.round(delay / 2));
  }

  // blades -------------------------------------------------------------------------------------------------------
  function load(attempts) {
    var r = route(), mine = ++seq;
    if (attempts === undefined) attempts = 2;
    var m = /ApplicationMenuBlade\/~\/Credentials\/appId\/([^/]+)/.exec(r);
    if (!m || m[1] !== freshApp) { fresh = {}; freshApp = m ? m[1] : null; }
    if (!keepToasts) clearToasts();
    keepToasts = false;
    main.setAttribute('aria-busy', 'true');
    host().replaceChildren(q('loading').content.cloneNode(true));
    markNav(r);
    getBlade({route: r}).then(function (blade) {
      if (mine !== seq) return;
      host().innerHTML = blade.html;
      if (blade.title) document.title = blade.title;
      var root = q('blade', host());
      init(root);
      main.removeAttribute('aria-busy');
      enableReady(host(), blade.delay);
    }).catch(function (error) {
      if (mine !== seq || String(error.message) === 'signed out') return;
      if (attempts > 0) { setTimeout(function () { if (mine === seq) load(attempts - 1); }, 500); return; }
      host().replaceChildren(q('load-error').content.cloneNode(true));
      host().querySelector('button').addEventListener('click', function () { load(); });
      main.removeAttribute('aria-busy');
    });
  }
  function reload(keep) { keepToasts = !!keep; load(); }
  function go(target, keep) {
    keepToasts = !!keep;
    if (route() === target) load(); else window.location.hash = target;
  }
  function markNav(r) {
    qa('nav').forEach(function (a) {
      var key = arg(a);
      var current = (key === 'home' && r === 'home') || (key === 'apps' && r.indexOf('Microsoft_AAD_RegisteredApps') >= 0) ||
        (key === 'enterprise' && r.indexOf('Microsoft_AAD_IAM') >= 0);
      if (current) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
    });
    if (r.indexOf('Microsoft_AAD') >= 0) expandNav(true);
  }
  function expandNav(open) {
    var button = q('nav-group'), items = q('nav-items');
    button.setAttribute('aria-expanded', open ? 'true' : 'false');
    items.hidden = !open;
  }

  // shared controls ----------------------------------------------------------------------------------------------
  function initCombos(root) {
    qa('combo', root).forEach(function (box) {
      var input = box.querySelector('[role=combobox]'), list = box.querySelector('[role=listbox]');
      var value = box.querySelector('input[type=hidden]'), text = q('combo-text', box);
      var options = qa('option', list), active = -1;
      function setActive(i) {
        active = i;
        options.forEach(function (o, j) { o.classList.toggle('active', j === i); });
        if (i >= 0) input.setAttribute('aria-activedescendant', options[i].id); else input.removeAttribute('aria-activedescendant');
      }
      function open() {
        list.hidden = false; input.setAttribute('aria-expanded', 'true');
        setActive(Math.max(0, options.findIndex(function (o) { return arg(o) === value.value; })));
      }
      function close() { list.hidden = true; input.setAttribute('aria-expanded', 'false'); setActive(-1); }
      function choose(option) {
        options.forEach(function (o) { o.setAttribute('aria-selected', o === option ? 'true' : 'false'); });
        value.value = arg(option);
        if (input.tagName === 'INPUT') input.value = option.textContent.trim();
        else { text.textContent = option.textContent.trim(); text.classList.remove('combo-placeholder'); }
        close();
        value.dispatchEvent(new Event('change', {bubbles: true}));
      }
      input.addEventListener('click', function () { if (list.hidden) open(); else close(); });
      input.addEventListener('keydown', function (e) {
        if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
          e.preventDefault();
          if (list.hidden) { open(); return; }
          setActive(Math.min(options.length - 1, Math.max(0, active + (e.key === 'ArrowDown' ? 1 : -1))));
        } else if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          if (list.hidden) open(); else if (active >= 0) choose(options[active]);
        } else if (e.key === 'Escape') { close(); }
      });
      options.forEach(function (o) { o.addEventListener('click', function () { choose(o); input.focus(); }); });
      document.addEventListener('click', function (e) { if (!box.contains(e.target)) close(); });
    });
  }
  function valueOf(form, name) {
    var field = form.querySelector('[name="' + name + '"]');
    if (!field) return '';
    if (field.type === 'radio') { var c = form.querySelector('[name="' + name + '"]:checked'); return c ? c.value : ''; }
    return field.value;
  }
  function initTabs(root, hook, onSelect) {
    var tabs = qa(hook, root);
    tabs.forEach(function (tab) {
      on(tab, 'click', function (event) {
        event.preventDefault();
        tabs.forEach(function (t) {
          var chosen = t === tab;
          t.setAttribute('aria-selected', chosen ? 'true' : 'false');
          if (t.hasAttribute('tabindex') && t.tagName !== 'BUTTON' && t.tagName !== 'A') t.tabIndex = chosen ? 0 : -1;
        });
        onSelect(arg(tab));
      });
    });
  }
  function openDialog(root, key) {
    var d = q('dialog', root, key);
    d.hidden = false;
    return d;
  }
  function closeDialog(d) { d.hidden = true; }
  function showErrors(root, errors) {
    qa('error', root).forEach(function (e) { e.textContent = ''; e.hidden = true; });
    Object.keys(errors || {}).forEach(function (key) {
      var e = q('error', root, key);
      if (e) { e.textContent = errors[key]; e.hidden = false; }
    });
  }
  function copyText(button) {
    var text = arg(button);
    if (!text) {
      var value = button.parentElement.querySelector(sel('secret-value'));
      text = value ? value.textContent.trim() : '';
    }
    if (navigator.clipboard) navigator.clipboard.writeText(text).catch(function () {});
    var status = q('copied', host());
    if (status) { status.hidden = false; setTimeout(function () { status.hidden = true; }, 2000); }
  }
  function confirmThen(root, key, action, target) {
    var d = openDialog(root, key);
    var t = q('target', d);
    if (t) t.textContent = target || '';
    var yes = q('yes', d), no = q('no', d);
    var fresh_yes = yes.cloneNode(true), fresh_no = no.cloneNode(true);  // one listener per opening
    yes.replaceWith(fresh_yes); no.replaceWith(fresh_no);
    click(fresh_no, function () { closeDialog(d); });
    click(fresh_yes, function () {
      setEnabled(fresh_yes, false);
      action().then(function () { closeDialog(d); setEnabled(fresh_yes, true); },
                    function () { closeDialog(d); setEnabled(fresh_yes, true); });
    });
  }
  function failed(data) { toast((data && data.error) || C.messages.failed, true); }

  function init(root) {
    if (!root) return;
    initCombos(root);
    qa('copy', root).forEach(function (b) { click(b, function () { copyText(b); }); });
    qa('go-to', root).forEach(function (b) { click(b, function () { go(arg(b).replace(/^#/, '')); }); });
    qa('refresh', root).forEach(function (b) { click(b, function () { reload(); }); });
    var kind = arg(root);
    if (kind === 'apps') initApps(root);
    if (kind === 'create') initCreate(root);
    if (kind === 'app') initApp(root);
    if (kind === 'consent') initConsent(root);
  }

  // App registrations ----------------------------------------------------------------------------------------------
  function initApps(root) {
    var state = {tab: arg(q('list', root)) || 'all', search: q('search', root).value, count: 50};
    var timer = null;
    function refresh() {
      var mine = ++listSeq, list = q('list', root);
      list.setAttribute('aria-busy', 'true');
      list.replaceChildren(q('loading').content.cloneNode(true));
      getBlade({route: route(), part: 'list', tab: state.tab, search: state.search, count: state.count})
        .then(function (blade) {
          if (mine !== listSeq || !root.isConnected) return;
          var holder = document.createElement('div');
          holder.innerHTML = blade.html;
          var fresh_list = holder.firstElementChild;
          q('list', root).replaceWith(fresh_list);
          bindList();
        }).catch(function (error) {
          if (mine !== listSeq || String(error.message) === 'signed out') return;
          setTimeout(function () { if (mine === listSeq) refresh(); }, 500);
        });
    }
    function bindList() {
      var more = q('more', root);
      click(more, function () { state.count = parseInt(arg(more), 10) || state.count + 50; refresh(); });
    }
    initTabs(root, 'apps-tab', function (tab) { state.tab = tab; state.count = 50; refresh(); });
    on(q('search', root), 'input', function () {
      clearTimeout(timer);
      var box = this;
      timer = setTimeout(function () { state.search = box.value; state.count = 50; refresh(); }, 300);
    });
    bindList();
  }

  // Register an application -------------------------------------------------------------------------------------------
  function initCreate(root) {
    var form = q('register-form', root), uri = q('redirect-uri', root);
    var platform = form.querySelector('[name=platform]');
    on(platform, 'change', function () { uri.disabled = !platform.value; });
    on(form, 'submit', function (event) {
      event.preventDefault();
      var button = q('register', root);
      if (!enabled(button)) return;
      setEnabled(button, false);
      showErrors(root, {});
      var error = q('form-error', root);
      error.hidden = true;
      call('POST', '/api/applications', {name: valueOf(form, 'name'), audience: valueOf(form, 'audience'),
                                         platform: valueOf(form, 'platform'), redirectUri: uri.value})
        .then(function (data) {
          if (data._status === 201) { go(data.route); return; }
          setEnabled(button, true);
          if (data.errors) showErrors(root, data.errors);
          else { error.textContent = data.error || C.messages.failed; error.hidden = false; }
        }, function (e) {
          setEnabled(button, true);
          if (String(e.message) !== 'signed out') { error.textContent = C.messages.failed; error.hidden = false; }
        });
    });
  }

  // an application's blade ---------------------------------------------------------------------------------------------
  function initApp(root) {
    var app = arg(q('app', root));
    var api = '/api/applications/' + encodeURIComponent(app);
    click(q('delete-app', root), function () {
      confirmThen(root, 'delete_app', function () {
        return call('DELETE', api).then(function (data) {
          if (data._status !== 200) { failed(data); return; }
          toast(data.message);
          go(data.route, true);
        }, function () { failed(); });
      });
    });
    if (q('uri-list', root)) initAuthentication(root, api);
    if (q('dialog', root, 'permissions')) initPermissions(root, api);
    if (q('cred-tab', root)) initCredentials(root, api, app);
  }

  function initAuthentication(root, api) {
    var list = q('uri-list', root), save = q('save', root), discard = q('discard', root);
    function values() { return qa('uri', list).map(function (f) { return f.value.trim(); }); }
    var initial = JSON.stringify(values());
    function changed() {
      var dirty = JSON.stringify(values()) !== initial;
      setEnabled(save, dirty); setEnabled(discard, dirty);
    }
    function bindRow(row) {
      on(q('uri', row), 'input', changed);
      click(q('uri-delete', row), function () { row.remove(); changed(); });
    }
    qa('uri-row', list).forEach(bindRow);
    click(q('add-uri', root), function () {
      var template = q('uri-template', root).content.cloneNode(true);
      var row = template.querySelector(sel('uri-row'));
      list.appendChild(row);
      bindRow(row);
      q('uri', row).focus();
      changed();
    });
    click(discard, function () { reload(); });
    click(save, function () {
      setEnabled(save, false);
      clearToasts();
      qa('uri-error', list).forEach(function (e) { e.textContent = ''; e.hidden = true; });
      call('PUT', api + '/redirectUris', {web: qa('uri', list).map(function (f) { return f.value; })})
        .then(function (data) {
          if (data._status === 200) {  // saved: the fields stay as they are (empty ones dropped), nothing to save
            qa('uri-row', list).forEach(function (row) { if (!q('uri', row).value.trim()) row.remove(); });
            initial = JSON.stringify(values());
            changed();
            toast(data.message);
            return;
          }
          setEnabled(save, true);
          if (!data.errors) { failed(data); return; }
          var rows = qa('uri-row', list);
          Object.keys(data.errors).forEach(function (i) {
            var e = rows[+i] && q('uri-error', rows[+i]);
            if (e) { e.textContent = data.errors[i]; e.hidden = false; }
          });
        }, function (e) { setEnabled(save, true); if (String(e.message) !== 'signed out') failed(); });
    });
  }

  function initPermissions(root, api) {
    var panel = q('dialog', root, 'permissions'), footer = q('panel-footer', panel);
    var add = q('add-permissions', panel), apis = q('apis', panel), current = null;
    var pages = qa('api-page', panel);
    pages.forEach(function (page) {
      qa('scope', page).forEach(function (box) { if (box.defaultChecked) box.disabled = true; });
    });
    function newlyChecked() {
      return current ? qa('scope', current).filter(function (b) { return b.checked && !b.disabled; }) : [];
    }
    function update() { setEnabled(add, newlyChecked().length > 0); }
    function showApis() {
      current = null;
      pages.forEach(function (p) { p.hidden = true; });
      apis.hidden = false; footer.hidden = true;
    }
    function showApi(rid) {
      current = q('api-page', panel, rid);
      apis.hidden = true;
      pages.forEach(function (p) { p.hidden = p !== current; });
      footer.hidden = false;
      q('panel-error', panel).hidden = true;
      update();
    }
    function reset() {
      pages.forEach(function (page) {
        qa('scope', page).forEach(function (b) { b.checked = b.defaultChecked; });
        var search = q('scope-search', page);
        if (search) { search.value = ''; filter(page, ''); }
      });
      showApis();
    }
    function filter(page, text) {
      var needle = text.trim().toLowerCase();
      qa('scope', page).forEach(function (box) {
        var row = box.closest('tr') || box.parentElement.closest('div');
        row.hidden = needle !== '' && row.textContent.toLowerCase().indexOf(needle) < 0;
      });
    }
    initTabs(panel, 'api-tab', function (key) {
      qa('api-panel', panel).forEach(function (p) { p.hidden = arg(p) !== key; });
    });
    qa('api', panel).forEach(function (tile) {
      click(tile, function () { showApi(arg(tile)); });
      on(tile, 'keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); tile.click(); } });
    });
    qa('back', panel).forEach(function (b) { click(b, showApis); });
    pages.forEach(function (page) {
      qa('scope', page).forEach(function (b) { on(b, 'change', update); });
      var search = q('scope-search', page);
      on(search, 'input', function () { filter(page, search.value); });
    });
    click(q('open-panel', root, 'permissions'), function () { reset(); panel.hidden = false; });
    click(q('close-panel', panel), function () { panel.hidden = true; });
    click(q('discard-panel', panel), function () { panel.hidden = true; });
    click(add, function () {
      var values = newlyChecked().map(function (b) { return b.value; });
      if (!values.length) return;
      setEnabled(add, false);
      clearToasts();
      call('POST', api + '/permissions', {resourceAppId: arg(current), scopes: values}).then(function (data) {
        if (data._status !== 200) {
          setEnabled(add, true);
          var e = q('panel-error', panel); e.textContent = data.error || C.messages.failed; e.hidden = false;
          return;
        }
        panel.hidden = true;
        toast(data.message);
        reload(true);
      }, function () { setEnabled(add, true); failed(); });
    });
    click(q('grant', root), function () {
      confirmThen(root, 'grant', function () {
        clearToasts();
        return call('POST', api + '/adminConsent', {}).then(function (data) {
          if (data._status !== 200) { failed(data); return; }
          toast(data.message);
          reload(true);
        }, function () { failed(); });
      });
    });
  }

  function initCredentials(root, api, app) {
    var panel = q('dialog', root, 'secret'), form = q('secret-form', panel);
    var custom = q('custom-end', panel), addButton = q('add-secret', panel);
    initTabs(root, 'cred-tab', function (key) {
      qa('cred-panel', root).forEach(function (p) { p.hidden = arg(p) !== key; });
    });
    // the values of secrets made in this blade, in memory only
    var shown = 0;
    qa('secret-value', root).forEach(function (cell) {
      var value = fresh[arg(cell)];
      if (!value) return;
      cell.textContent = value;
      cell.after(q('copy-template', root).content.cloneNode(true));
      var copy = cell.parentElement.querySelector(sel('copy'));
      click(copy, function () { copyText(copy); });
      shown += 1;
    });
    q('secret-notice', root).hidden = shown === 0;
    on(form.querySelector('[name=expires]'), 'change', function () {
      custom.hidden = valueOf(form, 'expires') !== 'custom';
    });
    click(q('open-panel', root, 'secret'), function () {
      form.reset();
      showErrors(panel, {});
      var combo = q('combo', panel);
      if (combo) {  // back to the default choice
        var first = combo.querySelector('[role=option][' + H + '-arg="180"]');
        if (first) first.click();
      }
      custom.hidden = true;
      panel.hidden = false;
    });
    click(q('close-panel', panel), function () { panel.hidden = true; });
    click(q('discard-panel', panel), function () { panel.hidden = true; });
    on(form, 'submit', function (event) {
      event.preventDefault();
      if (!enabled(addButton)) return;
      setEnabled(addButton, false);
      showErrors(panel, {});
      clearToasts();
      call('POST', api + '/secrets', {description: valueOf(form, 'description'), expires: valueOf(form, 'expires'),
                                      end: valueOf(form, 'end')}).then(function (data) {
        setEnabled(addButton, true);
        if (data._status !== 201) { if (data.errors) showErrors(panel, data.errors); else failed(data); return; }
        fresh[data.keyId] = data.secretText;
        freshApp = app;
        panel.hidden = true;
        toast(data.message);
        go('view/Microsoft_AAD_RegisteredApps/ApplicationMenuBlade/~/Credentials/appId/' + app + '/tab/ClientSecrets', true);
      }, function () { setEnabled(addButton, true); failed(); });
    });
    qa('delete-secret', root).forEach(function (button) {
      click(button, function () {
        var key = arg(button), description = q('description', root, key);
        confirmThen(root, 'delete_secret', function () {
          clearToasts();
          return call('DELETE', api + '/secrets/' + encodeURIComponent(key)).then(function (data) {
            if (data._status !== 200) { failed(data); return; }
            delete fresh[key];
            toast(data.message);
            go('view/Microsoft_AAD_RegisteredApps/ApplicationMenuBlade/~/Credentials/appId/' + app + '/tab/ClientSecrets', true);
          }, function () { failed(); });
        }, description ? description.textContent : '');
      });
    });
  }

  // User consent settings ------------------------------------------------------------------------------------------------
  function initConsent(root) {
    var save = q('save-consent', root), discard = q('discard', root);
    if (!save) return;
    var radios = Array.prototype.slice.call(root.querySelectorAll('input[name=userConsent]'));
    var initial = (radios.find(function (r) { return r.checked; }) || {}).value;
    function choice() { return (radios.find(function (r) { return r.checked; }) || {}).value; }
    radios.forEach(function (r) {
      on(r, 'change', function () { var dirty = choice() !== initial; setEnabled(save, dirty); setEnabled(discard, dirty); });
    });
    click(discard, function () { reload(); });
    click(save, function () {
      setEnabled(save, false);
      clearToasts();
      call('PUT', '/api/consentSettings', {choice: choice()}).then(function (data) {
        if (data._status !== 200) { setEnabled(save, true); failed(data); return; }
        initial = choice();
        setEnabled(discard, false);
        toast(data.message);
      }, function () { setEnabled(save, true); failed(); });
    });
  }

  // the navigation -----------------------------------------------------------------------------------------------------
  document.addEventListener('app:rendered', function () {
    click(q('nav-group'), function () { expandNav(q('nav-group').getAttribute('aria-expanded') !== 'true'); });
    expandNav(route().indexOf('Microsoft_AAD') >= 0);
    window.addEventListener('hashchange', function () { load(); });
    load();
  });
})();
