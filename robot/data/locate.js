// Reading a page the way a person does, whatever its HTML (robot/locate.py calls these in the page).
// Only what is shown counts: hidden, template, inert and off-screen elements never win.
// Each entry point is `(root, arg) => result`; `root` is the element searched in (document.body for a page).

const norm = s => (s || '').replace(/\s+/g, ' ').trim();
// a label's words by meaning: case, punctuation, a trailing colon, a required or optional marker and articles
// or possessives ("the", "your") do not matter (robot/locate/words.py reads words the same way)
const ARTICLES = new Set(['a', 'an', 'the', 'your', 'my', 'our', 'this']);
const labelWords = s => {
  const words = norm(s).replace(/\s*(\*|\(?(required|optional)\)?)\s*$/i, '').toLowerCase()
    .split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  const kept = words.filter(w => !ARTICLES.has(w));
  return (kept.length ? kept : words).join(' ');
};
const NOT_CONTENT = 'script, style, template, svg, [hidden]';
const SKIP = NOT_CONTENT + ', button, [role=button], select, option';
const CELL = 'td, th, [role=cell], [role=gridcell], [role=rowheader], [role=columnheader]';
const ROW = 'tr, [role=row]';
const ITEM = 'li, [role=listitem], tr, [role=row], article, [role=article]';
const LIST = 'ul, ol, [role=list], table, [role=table], [role=grid], [role=treegrid]';

function isShown(el) {
  if (!el.isConnected || el.closest('template, [hidden], [inert]')) return false;
  if (el.checkVisibility && !el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true,
                                                opacityProperty: true, visibilityProperty: true})) return false;
  const r = el.getBoundingClientRect();
  if (r.width <= 0 && r.height <= 0) return false;
  return r.right + window.scrollX > 0 && r.bottom + window.scrollY > 0;  // not parked off-screen
}

// What one look at the page has learnt (a look is one call from the robot, or one check of a wait):
// whether an element is shown, its text and its full text. Elements are asked about many times per look.
let shownSeen = new Map(), textSeen = new Map(), fullSeen = new Map();
function newLook() { shownSeen = new Map(); textSeen = new Map(); fullSeen = new Map(); }

function shown(el) {
  if (!el) return false;
  let answer = shownSeen.get(el);
  if (answer === undefined) shownSeen.set(el, answer = isShown(el));
  return answer;
}

// The text a person reads in `el`: form values, shown text; not the words of buttons inside (e.g. "Copy").
function valueOf(el) {
  if (el.matches('input, textarea')) return norm(el.value);
  if (el.matches('select')) return norm(el.selectedOptions[0] ? el.selectedOptions[0].text : '');
  let text = textSeen.get(el);
  if (text !== undefined) return text;
  const parts = [];
  for (const child of el.childNodes) {
    if (child.nodeType === Node.TEXT_NODE) parts.push(child.textContent);
    else if (child.nodeType !== Node.ELEMENT_NODE || !shown(child)) continue;
    else if (child.matches('input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=submit])'
                           + ':not([type=button]), textarea')) parts.push(child.value);
    else if (!child.matches(SKIP)) parts.push(valueOf(child));
  }
  textSeen.set(el, text = norm(parts.join(' ')));
  return text;
}

function textOf(el) { return el.matches('input, textarea, select') ? '' : valueOf(el); }

function labelledBy(el) {
  const ids = (el.getAttribute('aria-labelledby') || '').split(/\s+/).filter(Boolean);
  return norm(ids.map(id => (document.getElementById(id) || {}).textContent || '').join(' '));
}

function within(root, selector) {
  const found = Array.from(root.querySelectorAll(selector));
  return root.matches(selector) ? [root, ...found] : found;
}

// ---- the value next to a label -----------------------------------------------------------------
function cellsOf(row) { return Array.from(row.children).filter(c => c.matches(CELL)); }

function isHeaderRow(row) {
  const cells = cellsOf(row).filter(c => textOf(c));
  return !!row.closest('thead') || !!row.querySelector('th[scope=col], [role=columnheader]')
    || (cells.length > 0 && cells.every(c => c.matches('th')));
}

function tableOf(el) { return el.closest('table, [role=table], [role=grid], [role=treegrid]'); }

function nextCell(cell) {
  for (let c = cell.nextElementSibling; c; c = c.nextElementSibling) {
    if (c.matches(CELL) && shown(c) && valueOf(c)) return c;
  }
  return null;
}

// The cell under a column header: in the row `root` is (or is in), else in the first data row.
function columnCell(header, root) {
  const headerRow = header.closest(ROW);
  const table = headerRow && tableOf(headerRow);
  if (!table) return null;
  const index = cellsOf(headerRow).indexOf(header);
  const rows = within(table, ROW).filter(r => r !== headerRow && !isHeaderRow(r));
  const mine = rows.filter(r => r === root || r.contains(root) || root.contains(r));
  for (const row of (mine.length ? mine : rows)) {
    const cell = cellsOf(row)[index];
    if (cell && shown(cell)) return cell;
  }
  return null;
}

// The column headers of the table `root` is a row of (or is in), for reading one row by its columns.
function headersAbove(root) {
  const table = tableOf(root);
  if (!table || !root.closest(ROW)) return [];
  return within(table, ROW).filter(isHeaderRow).flatMap(cellsOf);
}

// The value shown after `label` (document order) in its container, going up at most three levels.
function adjacentValue(label) {
  let container = label;
  for (let level = 0; level < 3 && container.parentElement; level++) {
    container = container.parentElement;
    const walker = document.createTreeWalker(container, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
    walker.currentNode = label;
    let node = walker.nextSibling() || nextOutside(walker, label, container);
    const parts = [];
    while (node) {
      if (node.nodeType === Node.TEXT_NODE) {
        if (node.parentElement && shown(node.parentElement) && !node.parentElement.closest(SKIP)) parts.push(node.textContent);
        node = walker.nextNode();
      } else if (node.matches(SKIP) || !shown(node)) {
        node = walker.nextSibling() || nextOutside(walker, node, container);
      } else if (node.matches('input, textarea')) {
        parts.push(node.value);
        node = walker.nextNode();
      } else {
        node = walker.nextNode();
      }
      if (norm(parts.join(' '))) return norm(parts.join(' '));
    }
  }
  return '';
}

function nextOutside(walker, from, container) {
  for (let n = from; n && n !== container; n = n.parentNode) {
    walker.currentNode = n;
    const sibling = walker.nextSibling();
    if (sibling) return sibling;
  }
  return null;
}

// {el, value}: the element showing the value next to a label (any of `labels`), and its text.
// A label's words, or them with one word of context before or after ("Your app's App ID"), a last resort.
function aroundLabel(text, wanted) {
  const words = labelWords(text);
  return wanted.some(w => words.startsWith(w + ' ') && words.split(' ').length === w.split(' ').length + 1
                       || words.endsWith(' ' + w) && words.split(' ').length === w.split(' ').length + 1);
}

// The value next to a label by its words; when none is, by its words with one word of context around them.
function findValue(root, labels) {
  const wanted = labels.map(labelWords);
  return valueOfLabel(root, text => wanted.includes(labelWords(text)))
    ?? valueOfLabel(root, text => aroundLabel(text, wanted));
}

function valueOfLabel(root, is) {
  const any = (selector, test, element) => {
    for (const el of within(root, selector)) {
      if (!shown(el) || !test(el)) continue;
      const found = element(el);
      if (found && found.value) return found;
    }
    return null;
  };
  const at = el => (el && shown(el) && !el.matches('button, [role=button], a') ? {el, value: valueOf(el)} : null);
  return any('[aria-labelledby]', el => is(labelledBy(el)), at)
    ?? any('[aria-label]', el => is(el.getAttribute('aria-label')), at)
    ?? any('label', el => is(textOf(el)), el => at(el.control))
    ?? any('dt, [role=term]', el => is(textOf(el)), el => {
      for (let d = el.nextElementSibling; d; d = d.nextElementSibling) {
        if (d.matches('dd, [role=definition]')) return at(d);
        if (d.matches('dt, [role=term]')) return null;
      }
      return null;
    })
    ?? any(CELL, el => is(textOf(el)) && !!el.closest(ROW),
           el => (el.matches('th[scope=col], [role=columnheader]') ? null : at(nextCell(el))))
    ?? any('th, [role=columnheader]', el => is(textOf(el)), el => at(columnCell(el, root)))
    ?? headersAbove(root).filter(h => shown(h) && is(textOf(h))).map(h => at(columnCell(h, root))).find(Boolean)
    ?? any('*', el => is(textOf(el)) && !Array.from(el.children).some(c => is(textOf(c))), el => {
      const value = adjacentValue(el);
      return value ? {el: el.parentElement, value} : null;
    })
    ?? any('*', el => !el.matches(SKIP) && !!inlineValue(el, is) && !Array.from(el.children).some(c => inlineValue(c, is)),
           el => ({el, value: inlineValue(el, is)}));
}

// "Label: value" in one element (a list item, a line): the value after the colon when the words before it
// are the label.
function inlineValue(el, is) {
  const text = textOf(el);
  const colon = text.search(/[:\uff1a]/);
  return colon > 0 && is(text.slice(0, colon)) ? norm(text.slice(colon + 1)) : '';
}

function valueNextTo(root, labels) {
  const found = findValue(root, labels);
  return found ? found.value : null;
}

// Marks the element showing the value next to a label (for masking or clicking); false when none.
function tagValue(root, arg) {
  const found = findValue(root, arg.labels);
  if (!found) return false;
  found.el.setAttribute('data-vcs-robot-value', `${found.el.getAttribute('data-vcs-robot-value') || ''} ${arg.tag}`.trim());
  return true;
}

// ---- entries: the row, item or card holding one thing --------------------------------------------
function ownMatches(root, re) {
  const hits = within(root, '*').filter(el => shown(el) && !el.matches(NOT_CONTENT)
                                        && (re.test(textOf(el) || norm(el.value)) || re.test(el.getAttribute('aria-label') || '')));
  return hits.filter(el => !hits.some(other => other !== el && el.contains(other)));
}

// Each marker's entry: its largest ancestor that holds no other marker, no furniture (the page's
// headings, controls outside the entries) and is not the page itself. A list item, row or article that holds
// more than the marker is an entry already: it never grows into its list (a list of one entry).
function entryElements(root, arg) {
  // the first marker that shows at all: one that each entry holds once
  const markers = arg.markers.map(m => ownMatches(root, new RegExp(m, 'i'))).find(found => found.length) || [];
  const furniture = [...within(root, 'h1, [role=heading][aria-level="1"], main, [role=main], nav, header, footer'),
                     ...arg.furniture.flatMap(f => ownMatches(root, new RegExp(f, 'i')))];
  const found = [];
  const add = entry => { if (!found.includes(entry)) found.push(entry); };
  for (const marker of markers) {
    const header = marker.closest('th, [role=columnheader]');
    if (header && header.closest(ROW)) {  // a column of a table: each data row is an entry
      const table = header.closest('table, [role=table], [role=grid], [role=treegrid]');
      within(table || root, ROW).filter(r => shown(r) && !isHeaderRow(r)).forEach(add);
      continue;
    }
    let entry = marker;
    while (entry.parentElement && entry !== root) {
      if (entry !== marker && entry.matches(ITEM) && valueOf(entry) !== valueOf(marker)) break;
      const parent = entry.parentElement;
      if (parent === document.body || parent === root) break;
      if (markers.some(m => m !== marker && !entry.contains(m) && parent.contains(m))) break;
      if (furniture.some(f => !entry.contains(f) && (parent.contains(f) || f === parent))) break;
      entry = parent;
    }
    add(entry);
  }
  return found;
}

// Tags each entry found (tags accumulate, so locators of earlier calls keep pointing at their entries).
function taggedEntries(root, arg) {
  const found = entryElements(root, arg);
  found.forEach((e, i) => e.setAttribute('data-vcs-robot-entry',
                                         `${e.getAttribute('data-vcs-robot-entry') || ''} ${arg.tag}-${i}`.trim()));
  return found;
}

function entries(root, arg) { return taggedEntries(root, arg).length; }

// Each entry tagged (as `entries`) and what it shows (as `describe`), in one look.
function describedEntries(root, arg) { return taggedEntries(root, arg).map(e => describe(e, arg.nameLabels)); }

// Where a link or a scripted control goes: its href, else an attribute holding a path or URL.
function targetOf(el) {
  if (el.getAttribute('href')) return el.getAttribute('href');
  const held = Array.from(el.attributes).map(a => a.value).find(v => /^(\/|https?:\/\/)/.test(v));
  return held || (el.closest('form') && el.closest('form').getAttribute('action')) || '';
}

// What an entry shows: its name (first heading, row header or strong text, else its first words),
// its text, the values of its fields and codes, its links and buttons.
function describe(entry, nameLabels) {
  const heading = within(entry, 'h1, h2, h3, h4, h5, h6, [role=heading], th[scope=row], [role=rowheader], caption, legend, strong, b, dt')
    .find(el => shown(el) && textOf(el) && !el.closest('button, a, [role=button], [role=link]'));
  const label = entry.matches(LIST) ? '' : entry.getAttribute('aria-label') || labelledBy(entry);
  const firstCell = entry.matches(ROW) ? cellsOf(entry).find(c => shown(c) && textOf(c)) : null;
  const named = findValue(entry, nameLabels && nameLabels.length ? nameLabels : ['Name', 'Display name']);
  // else the first words shown on their own: a card's title line
  const firstText = within(entry, '*').find(el => shown(el) && !el.matches(SKIP) && !el.closest('button, a, [role=button], [role=link]')
    && Array.from(el.childNodes).some(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim()));
  const name = norm(label || (named && named.value) || (heading && textOf(heading)) || (firstCell && textOf(firstCell))
                    || (firstText && textOf(firstText)) || valueOf(entry).split(' ').slice(0, 6).join(' '));
  const values = within(entry, 'input, textarea, code, pre, samp, kbd').filter(shown).map(e => (e.matches('input, textarea') ? e.value : e.textContent));
  const links = within(entry, 'a, button, [role=button], [role=link]').filter(shown)
    .map(a => ({text: norm(a.getAttribute('aria-label') || a.textContent), href: targetOf(a)}));
  return {name, text: valueOf(entry) + ' ' + values.join(' '), values, links};
}

// How many entries are named `arg.name` (and show, or do not show, `arg.has` / `arg.hasNot`).
function countNamed(root, arg) {
  const has = arg.has ? new RegExp(arg.has, 'i') : null, hasNot = arg.hasNot ? new RegExp(arg.hasNot, 'i') : null;
  return entryElements(root, arg).map(e => describe(e, arg.nameLabels)).filter(d => d.name.toLowerCase() === arg.name.toLowerCase()
    && (!has || has.test(d.text)) && (!hasNot || !hasNot.test(d.text))).length;
}

// What a list with no rows says: "No applications found", "No results", "There are no items", "Nothing to show".
const EMPTY_LIST = /\b(no|zero)\b[^.]{0,40}\b(found|results?|match\w*|applications?|apps|items?|entries|rows|records)\b|\bnothing (to (show|display)|found)\b/i;

// Whether a list filtered by `arg.words` shows its answer: every entry shows the words, and the list says
// how many it found and shows that many (or, with no count shown, shows an entry or says it found none).
// A list between two renderings (loading, no entries yet) is not settled.
function filteredListShows(root, arg) {
  const words = arg.words.toLowerCase();
  const found = entryElements(root, arg);
  if (!found.every(e => describe(e, arg.nameLabels).text.toLowerCase().includes(words))) return false;
  const text = valueOf(root);
  const count = text.match(/\b(\d+)\s+(?:[a-z]+\s+)?(?:applications?|results?|items?|secrets?)\s+found\b/i);
  if (count) return Number(count[1]) === found.length;
  // the list's own short message, not words somewhere in the page's prose
  return found.length > 0 || ownMatches(root, EMPTY_LIST).some(el => textOf(el).length <= 80);
}

// Shown words a person could mean instead of the ones that were not found (for drift reports).
function shownWords(root) {
  const out = [];
  for (const el of within(root, 'button, a, [role=button], [role=link], [role=option], [role=menuitem], [role=tab], h1, h2, h3, h4, label, th, dt, legend, input, textarea')) {
    if (!shown(el)) continue;
    const words = norm(el.getAttribute('aria-label') || (el.matches('input, textarea') ? el.placeholder || el.value : el.textContent));
    const kind = el.getAttribute('role') || el.tagName.toLowerCase();
    if (words && words.length <= 80) out.push([words, kind]);
    if (out.length >= 400) break;
  }
  return out;
}


// ---- screens: which known step of a multi-step page is showing ------------------------------------
function nameOfControl(el) {
  return norm(el.getAttribute('aria-label') || (el.matches('input') ? el.value : el.textContent));
}

function fieldWords(el) {
  const labels = el.labels ? Array.from(el.labels).map(l => l.textContent) : [];
  return [el.getAttribute('aria-label'), labelledBy(el), el.placeholder, el.name, el.id, ...labels]
    .filter(Boolean).map(norm);
}

// The first screen (in the order given) that shows any of its cues; null when none does.
function screenOf(root, screens) {
  const test = (patterns, words) => patterns.some(p => words.some(w => new RegExp(p, 'i').test(w)));
  const headings = within(root, 'h1, h2, h3, h4, [role=heading], legend').filter(shown).map(textOf);
  const fields = within(root, 'input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=submit])'
                        + ':not([type=button]), textarea').filter(shown);
  const controls = within(root, 'button, a, [role=button], [role=link], input[type=submit], input[type=button]')
    .filter(shown).map(nameOfControl);
  for (const screen of screens) {
    if (test(screen.headings, headings)
        || fields.some(f => test(screen.fields, fieldWords(f)))
        || test(screen.controls, controls)
        || screen.css.some(selector => within(root, selector).some(shown))
        || (screen.texts.length && ownMatches(root, new RegExp(screen.texts.join('|'), 'i')).length)) {
      return screen.name;
    }
  }
  return null;
}

// The shown error messages of a page (alerts and error-styled text).
function errorTexts(root, selectors) {
  return within(root, selectors).filter(shown).map(textOf).filter(Boolean);
}

// ---- finding one element by role, label, placeholder, text or CSS -------------------------------
// A page-side reading of Playwright's getByRole / getByLabel / getByPlaceholder / getByText: the cheap,
// common cases (robot/locate.py falls back to Playwright's own engines when these find nothing).
const IMPLICIT = {
  button: 'button, input[type=button], input[type=submit], input[type=reset], input[type=image], input[type=file]',
  link: 'a[href], area[href]', heading: 'h1, h2, h3, h4, h5, h6', checkbox: 'input[type=checkbox]',
  radio: 'input[type=radio]', searchbox: 'input[type=search]', combobox: 'select, input[list], input[type=search][list]',
  textbox: 'input, textarea', listbox: 'select', option: 'option', dialog: 'dialog', group: 'fieldset, details, optgroup',
  listitem: 'li', list: 'ul, ol, menu', region: 'section', status: 'output', navigation: 'nav', article: 'article',
  table: 'table', row: 'tr', cell: 'td', gridcell: 'td', columnheader: 'th', rowheader: 'th', term: 'dt',
  definition: 'dd',
};
const INPUT_ROLES = {button: 'button', image: 'button', reset: 'button', submit: 'button', file: 'button',
                     checkbox: 'checkbox', radio: 'radio', number: 'spinbutton', range: 'slider'};
const NAME_FROM_CONTENT = new Set(['button', 'cell', 'checkbox', 'columnheader', 'gridcell', 'heading', 'link',
  'menuitem', 'menuitemcheckbox', 'menuitemradio', 'option', 'radio', 'row', 'rowheader', 'switch', 'tab', 'treeitem']);

function implicitRole(el) {
  const tag = el.tagName;
  if (/^H[1-6]$/.test(tag)) return 'heading';
  if (tag === 'INPUT') {
    const type = el.type.toLowerCase();
    if (type === 'hidden') return null;
    if (type === 'search') return el.hasAttribute('list') ? 'combobox' : 'searchbox';
    if (['email', 'tel', 'text', 'url', ''].includes(type)) return el.hasAttribute('list') ? 'combobox' : 'textbox';
    return INPUT_ROLES[type] || 'textbox';
  }
  if (tag === 'SELECT') return el.multiple || el.size > 1 ? 'listbox' : 'combobox';
  if (tag === 'A' || tag === 'AREA') return el.hasAttribute('href') ? 'link' : null;
  if (tag === 'SECTION') return el.hasAttribute('aria-label') || el.hasAttribute('aria-labelledby') ? 'region' : null;
  if (tag === 'TD') return el.closest('[role=grid], [role=treegrid]') ? 'gridcell' : 'cell';
  if (tag === 'TH') return el.getAttribute('scope') === 'row' ? 'rowheader' : 'columnheader';
  const simple = {BUTTON: 'button', TEXTAREA: 'textbox', OPTION: 'option', DIALOG: 'dialog', FIELDSET: 'group',
                  DETAILS: 'group', OPTGROUP: 'group', LI: 'listitem', UL: 'list', OL: 'list', MENU: 'list',
                  OUTPUT: 'status', NAV: 'navigation', ARTICLE: 'article', TABLE: 'table', TR: 'row', DT: 'term',
                  DD: 'definition'};
  return simple[tag] || null;
}

function roleOf(el) {
  const explicit = (el.getAttribute('role') || '').trim().split(/\s+/)[0];
  return explicit && explicit !== 'none' && explicit !== 'presentation' ? explicit : implicitRole(el);
}

// Hidden from a screen reader (and so from Playwright's getByRole): not rendered, or aria-hidden.
function hiddenForAria(el) {
  if (el.closest('[aria-hidden=true]')) return true;
  return el.checkVisibility ? !el.checkVisibility({visibilityProperty: true}) : false;
}

// The text an element gives to the name of the control it is in: labels of embedded images and controls.
function contentName(el) {
  const parts = [];
  for (const child of el.childNodes) {
    if (child.nodeType === Node.TEXT_NODE) parts.push(child.textContent);
    else if (child.nodeType !== Node.ELEMENT_NODE || child.matches(NOT_CONTENT) || hiddenForAria(child)) continue;
    else if (child.getAttribute('aria-label')) parts.push(child.getAttribute('aria-label'));
    else if (child.matches('img')) parts.push(child.getAttribute('alt') || '');
    else if (child.matches('input[type=checkbox], input[type=radio], input[type=hidden]')) continue;
    else if (child.matches('input, textarea')) parts.push(child.value);
    else parts.push(contentName(child));
  }
  return norm(parts.join(' '));
}

// The accessible name, as a screen reader would announce it (the common cases of the W3C algorithm).
function accessibleName(el, role) {
  const by = labelledBy(el);
  if (by) return by;
  const aria = norm(el.getAttribute('aria-label'));
  if (aria) return aria;
  if (el.matches('input[type=button], input[type=submit], input[type=reset]')) {
    return norm(el.value) || ({submit: 'Submit', reset: 'Reset'})[el.type] || '';
  }
  if (el.matches('img, area, input[type=image]')) return norm(el.getAttribute('alt') || el.title);
  if (el.labels && el.labels.length) return norm(Array.from(el.labels).map(contentName).join(' '));
  const caption = el.matches('fieldset') ? el.querySelector(':scope > legend')
    : el.matches('table') ? el.querySelector(':scope > caption') : null;
  if (caption) return contentName(caption);
  if (NAME_FROM_CONTENT.has(role)) {
    const content = contentName(el);
    if (content) return content;
  }
  return norm(el.title || (el.matches('input, textarea') ? el.placeholder : ''));
}

// Playwright's elementText: all text, hidden or not, without scripts and styles; buttons by their value.
function fullText(el) {
  if (el.matches('input[type=button], input[type=submit], input[type=reset]')) return norm(el.value);
  let text = fullSeen.get(el);
  if (text !== undefined) return text;
  const parts = [];
  for (const child of el.childNodes) {
    if (child.nodeType === Node.TEXT_NODE) parts.push(child.textContent);
    else if (child.nodeType === Node.ELEMENT_NODE && !child.matches('script, style, noscript')) parts.push(fullText(child));
  }
  fullSeen.set(el, text = norm(parts.join('')));
  return text;
}

function labelsOf(el) {
  const ids = (el.getAttribute('aria-labelledby') || '').split(/\s+/).filter(Boolean);
  const by = ids.map(id => document.getElementById(id)).filter(Boolean);
  if (by.length) return by.map(fullText);
  const aria = el.getAttribute('aria-label');
  if (aria && aria.trim()) return [norm(aria)];
  return el.labels ? Array.from(el.labels).map(fullText) : [];
}

function levelOf(el) {
  const tag = /^H([1-6])$/.exec(el.tagName);
  return Number(el.getAttribute('aria-level')) || (tag ? Number(tag[1]) : 2);
}

// The elements a candidate matches, in document order.
function matchesOf(root, c) {
  const has = c.has ? new RegExp(c.has[0], c.has[1]) : null;
  const found = matchesAlone(root, c).filter(el => !c.inside || (el.parentElement && el.parentElement.closest(c.inside)));
  return has ? found.filter(el => has.test(fullText(el))) : found;
}

function matchesAlone(root, c) {
  const re = c.name ? new RegExp(c.name[0], c.name[1]) : null;
  if (c.kind === 'css') return within(root, c.selector);
  if (c.kind === 'placeholder') return within(root, '[placeholder]').filter(el => re.test(norm(el.getAttribute('placeholder'))));
  if (c.kind === 'label') {
    return within(root, '[aria-labelledby], [aria-label], input:not([type=hidden]), textarea, select, button, meter, output, progress')
      .filter(el => labelsOf(el).some(l => re.test(l)));
  }
  if (c.kind === 'text') {
    return within(root, '*').filter(el => !el.matches('script, style, noscript, head, html') && re.test(fullText(el))
      && !Array.from(el.children).some(child => re.test(fullText(child))));
  }
  const selector = `[role], ${IMPLICIT[c.role] || ''}`.replace(/, $/, '');
  return within(root, selector).filter(el => roleOf(el) === c.role && !hiddenForAria(el)
                                        && (!c.level || levelOf(el) === c.level)
                                        && (!re || re.test(accessibleName(el, c.role))));
}

// The first shown element of the first of `arg.groups` of candidates that shows one (in a group: CSS
// candidates first, then the others in document order), tagged `arg.tag`; the group's number counted from
// 1, or false when none shows.
function findFirst(root, arg) {
  for (const [i, group] of arg.groups.entries()) {
    const hit = firstShown(root, group);
    if (hit) return keepFound(hit, arg.tag, root, group) && i + 1;
  }
  return false;
}

// Each group's first shown element (as findFirst), tagged `${arg.tag}-${i}`; false, and nothing tagged,
// unless every group shows one.
function findEach(root, arg) {
  const hits = arg.groups.map(group => firstShown(root, group));
  if (!hits.every(Boolean)) return false;
  hits.forEach((hit, i) => keepFound(hit, `${arg.tag}-${i}`, root, arg.groups[i]));
  return true;
}

// The smallest block holding each group's first shown element (their lowest common ancestor: a form, a
// panel, a card), tagged data-vcs-robot-block `arg.tag`; false, and nothing tagged, unless every group
// shows one.
function blockOf(root, arg) {
  const hits = arg.groups.map(group => firstShown(root, group));
  if (!hits.every(Boolean)) return false;
  let block = hits[0];
  while (block.parentElement && !hits.every(e => block.contains(e))) block = block.parentElement;
  block.setAttribute('data-vcs-robot-block', `${block.getAttribute('data-vcs-robot-block') || ''} ${arg.tag}`.trim());
  return true;
}

// Found elements stay found for a while: when the page replaces a tagged element (a framework's
// re-render), the tag moves to what the same question finds now, so the robot's action on the tag does
// not wait for an element that is gone.
const KEEP_MS = 10000, KEEP_AT_MOST = 8;
const kept = new Map();  // tag -> {el, root, group, until}
let keeper = null;

function keepFound(el, tag, root, group) {
  tagFound(el, tag);
  kept.set(tag, {el, root, group, until: performance.now() + KEEP_MS});
  if (kept.size > KEEP_AT_MOST) kept.delete(kept.keys().next().value);
  if (!keeper) {
    keeper = new MutationObserver(retag);
    keeper.observe(document, {subtree: true, childList: true});
  }
  return true;
}

function retag() {
  const now = performance.now();
  for (const [tag, found] of kept) {
    if (now > found.until) kept.delete(tag);
    else if (!found.el.isConnected) {
      newLook();
      const hit = firstShown(found.root.isConnected ? found.root : document.body, found.group);
      if (hit) tagFound(found.el = hit, tag);
    }
  }
  if (!kept.size) {  // nothing left to keep: stop watching the page
    keeper.disconnect();
    keeper = null;
  }
}

// The first shown match of a group: CSS candidates first, then the others, then those that allow words of
// context around the wanted ones ("loose"); within a tier, in document order.
function firstShown(root, group) {
  const first = list => list.filter(shown).sort((a, b) => a === b ? 0
    : a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1)[0];
  const tiers = [group.filter(c => c.kind === 'css'), group.filter(c => c.kind !== 'css' && !c.loose),
                 group.filter(c => c.kind !== 'css' && c.loose)];
  for (const tier of tiers) {
    const hit = first(tier.flatMap(c => matchesOf(root, c)));
    if (hit) return hit;
  }
  return null;
}

function tagFound(el, tag) {
  el.setAttribute('data-vcs-robot-find', `${el.getAttribute('data-vcs-robot-find') || ''} ${tag}`.trim());
  return true;
}

// Check boxes to set so that exactly `arg.labels` are checked (names compared case-insensitively):
// each wanted box tagged `${arg.tag}-want-${i}` (when exactly one shown box has that name), each other
// checked box `${arg.tag}-drop-${j}`. How many shown boxes each label names, and how many to uncheck.
function checkboxesToSet(root, arg) {
  const boxes = matchesOf(root, {kind: 'role', role: 'checkbox', name: null}).filter(shown);
  const nameOf = box => accessibleName(box, 'checkbox').toLowerCase();
  const wanted = arg.labels.map(l => norm(l).toLowerCase());
  const counts = wanted.map((label, i) => {
    const named = boxes.filter(box => nameOf(box) === label);
    if (named.length === 1) tagFound(named[0], `${arg.tag}-want-${i}`);
    return named.length;
  });
  const drop = boxes.filter(box => (box.checked || box.getAttribute('aria-checked') === 'true')
                            && !wanted.includes(nameOf(box)));
  drop.forEach((box, j) => tagFound(box, `${arg.tag}-drop-${j}`));
  return {counts, drop: drop.length};
}

// ---- waiting: a condition checked in the page, woken by its changes, stoppable -------------------
const WAKE_MS = 30;     // after a change of the document, check within this
const IDLE_MS = 200;    // and at least this often (changes that are no mutation: layout, typed values)

// Resolves with the first truthy value of `test(input.arg)`, or null once `input.timeout` ms pass or the
// robot stops the wait (window.__vcsRobotStop[input.token](): a race lost).
function waitUntil(test, input) {
  const stops = window.__vcsRobotStop || (window.__vcsRobotStop = {});
  return new Promise(resolve => {
    let timer = 0, due = 0, done = false;
    const soon = ms => {
      const at = performance.now() + ms;
      if (timer && due <= at) return;
      clearTimeout(timer);
      due = at;
      timer = setTimeout(check, ms);
    };
    const observer = new MutationObserver(() => soon(WAKE_MS));
    const finish = value => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(limit);
      observer.disconnect();
      delete stops[input.token];
      resolve(value);
    };
    function check() {
      timer = 0;
      let value = false;
      newLook();
      try { value = test(input.arg); } catch (e) { value = false; }
      if (value) finish(value); else if (!done) soon(IDLE_MS);
    }
    const limit = setTimeout(() => finish(null), input.timeout);
    stops[input.token] = () => finish(null);
    observer.observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
    check();
  });
}
