<script>
/* The tables and cards markups (markup.py): actions that are links or <div role="button">, and custom
   comboboxes, found by the variant's hook attribute (sbx.mk.hook). */
(function () {
  var H = sbx.mk.hook;
  function arg(el) { return el.getAttribute(H + '-arg'); }
  document.addEventListener('click', function (e) {
    var target = e.target instanceof Element ? e.target : null;
    if (!target) return;
    if (target.closest('[aria-disabled="true"]')) { e.preventDefault(); e.stopImmediatePropagation(); return; }
    if (target.closest('a[href="#"]')) e.preventDefault();  // an action drawn as a link
  }, true);
  document.addEventListener('keydown', function (e) {  // Enter and Space press a <div role="button">
    var b = e.target instanceof Element ? e.target.closest('[role="button"]') : null;
    if (!b || b.tagName === 'BUTTON' || b.tagName === 'INPUT' || b.tagName === 'A') return;
    if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); b.click(); }
  });
  document.addEventListener('click', function (e) {  // hook "go": an action that opens a page
    var go = e.target instanceof Element ? e.target.closest('[' + H + '="go"]') : null;
    if (go && sbx.enabled(go)) { e.preventDefault(); window.location.assign(arg(go)); }
  });

  /* A custom combobox (hook "combo"): a read-only text box with role=combobox, the value in a hidden
     input (which gets a change event), and a listbox of options (hook "option", the value as its arg). */
  function combobox(box) {
    var input = box.querySelector('[role=combobox]'), list = box.querySelector('[role=listbox]');
    var value = box.querySelector('input[type=hidden]');
    var options = Array.prototype.slice.call(list.querySelectorAll('[role=option]'));
    var initial = value.value, active = -1;
    function setActive(i) {
      active = i;
      options.forEach(function (o, j) { o.classList.toggle('k-active', j === i); });
      if (i >= 0) input.setAttribute('aria-activedescendant', options[i].id); else input.removeAttribute('aria-activedescendant');
    }
    function open() {
      list.hidden = false; input.setAttribute('aria-expanded', 'true');
      setActive(Math.max(0, options.findIndex(function (o) { return arg(o) === value.value; })));
    }
    function close() { list.hidden = true; input.setAttribute('aria-expanded', 'false'); setActive(-1); }
    function choose(option, quiet) {
      options.forEach(function (o) { o.setAttribute('aria-selected', o === option ? 'true' : 'false'); });
      value.value = arg(option);
      input.value = option.textContent.trim();
      close();
      if (!quiet) value.dispatchEvent(new Event('change', {bubbles: true}));
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
    if (input.form) input.form.addEventListener('reset', function () {
      setTimeout(function () {
        var first = options.find(function (o) { return arg(o) === initial; });
        if (first) choose(first, true); else { value.value = initial; input.value = ''; }
      }, 0);
    });
  }
  document.addEventListener('app:rendered', function () { sbx.all('combo').forEach(combobox); });
})();
</script>
