// The predictor's web page: plain JavaScript, no build step. Talks only to this server's JSON API
// (same origin); writes text with textContent (never HTML), so product names cannot inject markup.
/* global echarts */
(function () {
  'use strict';

  const $ = (id) => document.getElementById(id);
  const search = $('search');
  const results = $('results');
  const status = $('search-status');
  const keyForm = $('key-form');
  let apiKey = sessionStorage.getItem('pricedrop-api-key') || '';
  let searchSeq = 0;
  let pickSeq = 0;
  let debounce = 0;
  let options = [];
  let active = -1;
  let chart = null;
  let pendingAfterKey = null;
  // The model's question, from GET /api/model: "a drop of at least X % within H days".
  let question = '';

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(path, init) {
    const headers = Object.assign({}, init && init.headers);
    if (apiKey) headers['X-API-Key'] = apiKey;
    const response = await fetch(path, Object.assign({}, init, { headers }));
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const message = body && body.error && body.error.message ? body.error.message : 'The server answered ' + response.status;
      throw new ApiError(response.status, message);
    }
    return body;
  }

  function showError(error, retry) {
    if (error instanceof ApiError && error.status === 401) {
      keyForm.hidden = false;
      pendingAfterKey = retry;
      $('api-key').focus();
    }
    const box = $('error');
    box.textContent = error instanceof Error ? error.message : String(error);
    box.hidden = false;
  }

  function clearError() {
    $('error').hidden = true;
  }

  keyForm.addEventListener('submit', (event) => {
    event.preventDefault();
    apiKey = $('api-key').value.trim();
    sessionStorage.setItem('pricedrop-api-key', apiKey);
    keyForm.hidden = true;
    clearError();
    const retry = pendingAfterKey;
    pendingAfterKey = null;
    if (!question) loadQuestion();
    if (retry) retry();
  });

  // ---- search as you type -------------------------------------------------------------------
  search.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(runSearch, 150);
  });

  async function runSearch() {
    const q = search.value.trim();
    const seq = ++searchSeq;
    if (q === '') {
      renderOptions([]);
      status.textContent = '';
      return;
    }
    try {
      const body = await api('/api/products?q=' + encodeURIComponent(q.slice(0, 100)) + '&limit=20');
      if (seq !== searchSeq) return; // a newer keystroke won
      clearError();
      renderOptions(body.products);
      status.textContent = body.products.length === 0 ? 'No product matches "' + q + '".' : body.products.length + ' match' + (body.products.length === 1 ? '' : 'es');
    } catch (error) {
      if (seq === searchSeq) showError(error, runSearch);
    }
  }

  function renderOptions(products) {
    options = products;
    active = products.length > 0 ? 0 : -1;
    results.replaceChildren(
      ...products.map((product, i) => {
        const li = document.createElement('li');
        li.id = 'result-' + i;
        li.setAttribute('role', 'option');
        li.dataset.testid = 'result';
        li.dataset.id = product.id;
        const name = document.createElement('span');
        name.textContent = product.name;
        const id = document.createElement('span');
        id.className = 'id';
        id.textContent = product.id + ' · ' + formatMoney(product.price, product.currency);
        li.append(name, id);
        li.addEventListener('mousedown', (event) => event.preventDefault());
        li.addEventListener('click', () => pick(product.id));
        return li;
      }),
    );
    results.hidden = products.length === 0;
    search.setAttribute('aria-expanded', String(!results.hidden));
    highlight();
  }

  function highlight() {
    [...results.children].forEach((li, i) => li.setAttribute('aria-selected', String(i === active)));
    if (active >= 0) {
      search.setAttribute('aria-activedescendant', 'result-' + active);
      results.children[active].scrollIntoView({ block: 'nearest' });
    } else search.removeAttribute('aria-activedescendant');
  }

  search.addEventListener('keydown', (event) => {
    if (results.hidden) return;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      const step = event.key === 'ArrowDown' ? 1 : -1;
      active = (active + step + options.length) % options.length;
      highlight();
    } else if (event.key === 'Enter' && active >= 0) {
      event.preventDefault();
      pick(options[active].id);
    } else if (event.key === 'Escape') {
      renderOptions([]);
    }
  });
  search.addEventListener('blur', () => setTimeout(() => renderOptions([]), 100));

  // ---- one product: advice beside the history ------------------------------------------------
  async function pick(id) {
    const seq = ++pickSeq;
    renderOptions([]);
    if (location.hash !== '#product=' + encodeURIComponent(id)) history.replaceState(null, '', '#product=' + encodeURIComponent(id));
    try {
      const [product, prediction] = await Promise.all([
        api('/api/products/' + encodeURIComponent(id)),
        api('/api/predict', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ product_id: id }) }),
      ]);
      if (seq !== pickSeq) return;
      clearError();
      search.value = product.name;
      renderProduct(product, prediction);
    } catch (error) {
      if (seq === pickSeq) showError(error, () => pick(id));
    }
  }

  function renderProduct(product, prediction) {
    $('product').hidden = false;
    $('product-name').textContent = product.name;
    const asOf = product.as_of ? ' · as of ' + new Date(product.as_of).toLocaleDateString() : '';
    $('product-meta').textContent = product.id + ' · ' + product.category + ' · now ' + formatMoney(product.price, product.currency) + (product.old_price ? ' (was ' + formatMoney(product.old_price, product.currency) + ')' : '') + asOf;
    $('question').textContent = question;
    const recommendation = $('recommendation');
    recommendation.textContent = prediction.recommendation;
    recommendation.className = 'recommendation ' + (prediction.recommendation === 'Wait' ? 'wait' : 'buy');
    $('will-drop').textContent = prediction.will_drop ? 'Yes' : 'No';
    $('confidence').textContent = (prediction.confidence * 100).toFixed(0) + ' %';
    $('drop-amount').textContent = formatMoney(prediction.expected_drop_amount, product.currency);
    $('drop-pct').textContent = prediction.expected_drop_pct.toFixed(1) + ' %';
    const risk = $('risk');
    risk.textContent = prediction.risk_level;
    risk.className = 'risk-' + prediction.risk_level;
    $('reasons').replaceChildren(
      ...prediction.reasons.map((reason) => {
        const li = document.createElement('li');
        // A reason is {feature, value, effect_pct_points, text}; older servers sent plain strings.
        li.textContent = typeof reason === 'string' ? reason : reason.text;
        return li;
      }),
    );
    drawChart(product);
  }

  function drawChart(product) {
    if (typeof echarts === 'undefined') return;
    const element = $('chart');
    if (!chart) {
      chart = echarts.init(element, null, { renderer: 'canvas' });
      window.addEventListener('resize', () => chart.resize());
    }
    chart.setOption(
      {
        animation: false,
        grid: { left: 56, right: 24, top: 24, bottom: 56 },
        tooltip: { trigger: 'axis', valueFormatter: (value) => formatMoney(value, product.currency) },
        xAxis: { type: 'time' },
        yAxis: { type: 'value', scale: true, axisLabel: { formatter: (value) => formatMoney(value, product.currency) } },
        dataZoom: [{ type: 'inside' }, { type: 'slider', height: 20, bottom: 8 }],
        series: [
          {
            name: 'Price',
            type: 'line',
            step: 'end',
            showSymbol: false,
            data: product.history.map((point) => [point[0], point[1]]),
            lineStyle: { width: 2, color: '#2457a6' },
            areaStyle: { color: 'rgba(36, 87, 166, 0.08)' },
            markLine: product.history.length > 0 ? { symbol: 'none', silent: true, data: [{ type: 'min', name: 'Lowest' }], label: { position: 'insideEndTop', formatter: 'lowest {c}' }, lineStyle: { color: '#1d6f42', type: 'dashed' } } : undefined,
          },
        ],
      },
      true,
    );
    element.dataset.points = String(product.history.length);
  }

  function formatMoney(value, currency) {
    if (typeof value !== 'number' || !isFinite(value)) return '–';
    try {
      return new Intl.NumberFormat(undefined, { style: 'currency', currency: currency || 'USD' }).format(value);
    } catch {
      return value.toFixed(2) + ' ' + (currency || '');
    }
  }

  // ---- start ---------------------------------------------------------------------------------
  async function showModel() {
    try {
      const health = await api('/health');
      const created = new Date(health.bundle_created_at);
      $('model-info').textContent = 'Model ' + health.model_version + ' · ' + health.products.toLocaleString() + ' products · published ' + created.toLocaleString();
    } catch {
      $('model-info').textContent = '';
    }
  }

  async function loadQuestion() {
    try {
      const model = await api('/api/model');
      const options = model.options || {};
      if (typeof options.min_drop_pct === 'number' && typeof options.horizon_days === 'number') {
        question = 'Will the price fall at least ' + options.min_drop_pct + ' % within ' + options.horizon_days + ' days?';
        $('question').textContent = question;
      }
    } catch {
      // Without the key (401) the question waits until one is entered; the advice does not need it.
    }
  }

  showModel();
  loadQuestion();
  const fromHash = /^#product=(.+)$/.exec(location.hash);
  if (fromHash) {
    try {
      pick(decodeURIComponent(fromHash[1]));
    } catch {
      /* a malformed hash is ignored */
    }
  }
  search.focus();
})();
