/* tradebot dashboard: five pages over /api/v1, refreshed every 10 s; no build step.
   Auth: inside Telegram the Mini App's init data ("Authorization: tma ..."); in a browser an API token
   kept in sessionStorage (this tab only). Numbers arrive as exact decimal strings and are formatted once here. */
"use strict";

const API = "../api/v1";
const REFRESH_MS = 10000;
const state = { auth: null, timer: null, charts: [], tradeQuery: { page: 1 }, sort: {} };

function initAuth() {
  const tg = window.Telegram && window.Telegram.WebApp && window.Telegram.WebApp.initData;
  const hash = new URLSearchParams(location.hash.replace(/^#/, ""));
  const fromHash = hash.get("tgWebAppData");
  if (tg || fromHash) {
    sessionStorage.setItem("tma", tg || fromHash);
    if (fromHash) history.replaceState(null, "", location.pathname + "#/dashboard");
  }
  const initData = sessionStorage.getItem("tma");
  if (initData) return "tma " + initData;
  const token = sessionStorage.getItem("token");
  return token ? "Bearer " + token : null;
}

async function api(path, params) {
  const url = new URL(API + path, location.href);
  Object.entries(params || {}).forEach(([k, v]) => { if (v !== "" && v != null) url.searchParams.set(k, v); });
  const resp = await fetch(url, { headers: { Authorization: state.auth } });
  const body = await resp.json();
  // every page needs only the viewer role: a 401 or 403 means this sign-in is no good at all
  if (resp.status === 401 || resp.status === 403) { signOut(body.error.message); throw new Error(body.error.message); }
  if (!resp.ok) throw new Error(body.error ? body.error.message : resp.statusText);
  return body;
}

const num = (v) => (v == null ? null : Number(v));
function money(v, quote) { return v == null ? "n/a" : Number(v).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + (quote ? " " + quote : ""); }
function pct(fraction) { return fraction == null ? "n/a" : (Number(fraction) * 100).toFixed(2) + " %"; }
function ratio(v) { return v == null ? "n/a" : Number(v).toFixed(2); }
function qty(v) { return v == null ? "n/a" : String(Number(v)); }
function when(iso) { return iso ? iso.replace("T", " ").slice(0, 16) : ""; }
function sign(v) { return num(v) > 0 ? "up" : num(v) < 0 ? "down" : ""; }
function esc(s) { return String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c])); }

function card(label, value, cls) {
  return `<div class="card"><div class="label">${esc(label)}</div><div class="value ${cls || ""}" data-kpi="${esc(label)}">${esc(value)}</div></div>`;
}

function table(id, columns, rows) {
  const sort = state.sort[id];
  if (sort) rows = [...rows].sort((a, b) => {
    const x = a[sort.key], y = b[sort.key];
    const nx = Number(x), ny = Number(y);
    const c = !isNaN(nx) && !isNaN(ny) && x !== "" && y !== "" ? nx - ny : String(x).localeCompare(String(y));
    return sort.desc ? -c : c;
  });
  const head = columns.map((c) => `<th data-table="${id}" data-key="${c.key}">${esc(c.label)}</th>`).join("");
  const body = rows.map((r) => "<tr>" + columns.map((c) => {
    const shown = c.format ? c.format(r[c.key], r) : r[c.key];
    return `<td class="${c.signed ? sign(r[c.key]) : ""}">${esc(shown == null ? "" : shown)}</td>`;
  }).join("") + "</tr>").join("");
  return `<div class="table-wrap"><table id="${id}"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
}

function clearCharts() { state.charts.forEach((c) => c.remove()); state.charts = []; }

function newChart(el) {
  const chart = LightweightCharts.createChart(el, {
    layout: { background: { color: "#1e222d" }, textColor: "#d1d4dc" },
    grid: { vertLines: { color: "#2a2e39" }, horzLines: { color: "#2a2e39" } },
    timeScale: { timeVisible: true }, autoSize: true,
  });
  state.charts.push(chart);
  return chart;
}

const sec = (iso) => Math.floor(Date.parse(iso) / 1000);

function equityChart(el, curve) {
  const chart = newChart(el);
  const line = chart.addLineSeries({ color: "#2962ff", lineWidth: 2, priceScaleId: "right" });
  line.setData(curve.points.map((p) => ({ time: sec(p.ts), value: Number(p.equity) })));
  const dd = chart.addHistogramSeries({ color: "#ef535088", priceScaleId: "dd" });
  chart.priceScale("dd").applyOptions({ scaleMargins: { top: 0.75, bottom: 0 } });
  dd.setData(curve.points.map((p) => ({ time: sec(p.ts), value: p.drawdown * 100 })));
  chart.timeScale().fitContent();
}

// A service trading several venue accounts: one row per account (its equity in its own quote; the
// cards above show the totals of the accounts in the main quote). Nothing with one venue.
function venueTable(balance, status) {
  if (!balance.venues || !balance.venues.length) return "";
  const notes = {};
  ((status && status.venues) || []).forEach((v) => { notes[v.venue] = v; });
  const rows = balance.venues.map((v) => ({ ...v, state: notes[v.venue] ? notes[v.venue].state : "",
    open: notes[v.venue] ? notes[v.venue].open_positions : "",
    note: v.note || (notes[v.venue] ? notes[v.venue].note : "") || (v.in_total ? "" : "not in the total (other quote)") }));
  return `<h2>Venues</h2>${table("venues", [
    { key: "venue", label: "Venue" }, { key: "exchange", label: "Exchange" }, { key: "mode", label: "Mode" },
    { key: "equity", label: "Equity", format: (v, r) => money(v, r.quote) },
    { key: "free", label: "Cash", format: (v, r) => money(v, r.quote) },
    { key: "exposure", label: "Exposure", format: (v, r) => money(v, r.quote) },
    ...(status ? [{ key: "state", label: "Trading" }, { key: "open", label: "Open" }] : []),
    { key: "note", label: "Note" }], rows)}`;
}

const pages = {
  async dashboard(el) {
    const [balance, status, kpis, daily, curve, recent, news] = await Promise.all([
      api("/balance"), api("/status"), api("/kpis"), api("/performance/periods/day", { count: 1 }),
      api("/equity"), api("/trades", { page_size: 5 }), api("/news", { limit: 6 }).catch(() => [])]);
    const unrealised = status.positions.reduce((s, p) => s + Number(p.pnl), 0);
    const q = balance.quote;
    el.innerHTML = `<h1>Dashboard</h1><div class="cards">
      ${card("Total equity", money(balance.equity, q))}
      ${card("Daily PnL", money(daily.rows.length ? daily.rows[0].pnl : 0, q), sign(daily.rows.length ? daily.rows[0].pnl : 0))}
      ${card("Unrealised PnL", money(unrealised, q), sign(unrealised))}
      ${card("Cash", money(balance.free, q))}
      ${card("Exposure", money(balance.exposure, q))}
      ${card("Win rate", pct(kpis.win_rate))}
      ${card("Trading", status.state)}</div>
      ${newsStrip(news)}${venueTable(balance, status)}
      <h2>Equity and drawdown</h2><div class="chart" id="equity-chart"></div>
      <h2>Recent trades</h2>${tradeTable(recent.trades, q)}`;
    equityChart(el.querySelector("#equity-chart"), curve);
  },

  async portfolio(el) {
    const [balance, basket] = await Promise.all([api("/balance"), api("/portfolio").catch((e) => ({ error: e.message }))]);
    const q = balance.quote;
    el.innerHTML = `<h1>Portfolio</h1><div class="cards">${card("Total equity", money(balance.equity, q))}
      ${card("Cash", money(balance.free, q))}${card("Exposure", money(balance.exposure, q))}</div>
      <h2>Assets</h2>${table("assets", [
        { key: "asset", label: "Asset" }, { key: "free", label: "Free", format: qty },
        { key: "used", label: "In orders", format: qty }, { key: "value", label: "Value " + q, format: (v) => money(v) },
      ], balance.assets)}${venueTable(balance)}${basketSection(basket)}`;
  },

  async performance(el) {
    const [kpis, pairs, strategies, months] = await Promise.all([
      api("/kpis"), api("/performance/pairs"), api("/performance/strategies"),
      api("/performance/periods/month", { count: 12 })]);
    const q = kpis.quote;
    const groups = [{ key: "key", label: "Name" }, { key: "trades", label: "Trades" },
      { key: "pnl", label: "PnL " + q, format: (v) => money(v), signed: true },
      { key: "pnl_fraction", label: "Avg", format: pct, signed: true }, { key: "win_rate", label: "Win rate", format: pct }];
    el.innerHTML = `<h1>Performance</h1><div class="cards">
      ${card("Trades", kpis.trades)}${card("Win rate", pct(kpis.win_rate))}
      ${card("Profit factor", ratio(kpis.profit_factor))}${card("Expectancy", money(kpis.expectancy, q))}
      ${card("Total PnL", money(kpis.total_pnl, q), sign(kpis.total_pnl))}${card("Max drawdown", pct(kpis.max_drawdown))}
      ${card("Sharpe", ratio(kpis.sharpe))}${card("Sortino", ratio(kpis.sortino))}${card("Volatility", pct(kpis.volatility))}</div>
      <h2>By pair</h2>${table("by-pair", groups, pairs)}
      <h2>By strategy</h2>${table("by-strategy", groups, strategies)}
      <h2>By month</h2>${table("by-month", [{ key: "start", label: "Month" }, { key: "trades", label: "Trades" },
        { key: "pnl", label: "PnL " + q, format: (v) => money(v), signed: true },
        { key: "pnl_fraction", label: "Return", format: pct, signed: true }], months.rows)}`;
  },

  async holdings(el) {
    const [status, groups] = await Promise.all([api("/status"), api("/pair-groups")]);
    const q = status.quote;
    const pair = state.holdingPair || (status.positions[0] && status.positions[0].pair) || "BTC/USDT";
    const venue = status.venues && status.venues.length ? [{ key: "venue", label: "Venue" }] : [];
    const columns = [...venue,
        { key: "pair", label: "Pair" }, { key: "direction", label: "Side" }, { key: "amount", label: "Amount", format: qty },
        { key: "entry_price", label: "Entry", format: qty }, { key: "current_price", label: "Now", format: qty },
        { key: "pnl", label: "PnL " + q, format: (v) => money(v), signed: true }, { key: "pnl_fraction", label: "PnL %", format: pct, signed: true },
        { key: "stop_price", label: "Stop", format: qty }, { key: "strategy", label: "Strategy" }];
    // perpetual swaps: leverage, where the venue would liquidate, and the funding paid (negative: received)
    if (status.positions.some((p) => Number(p.leverage) !== 1 || p.liquidation_price != null || Number(p.funding) !== 0)) {
      columns.splice(columns.findIndex((c) => c.key === "amount") + 1, 0, { key: "leverage", label: "Leverage", format: (v) => qty(v) + "x" });
      columns.push({ key: "liquidation_price", label: "Liquidation", format: qty },
        { key: "funding", label: "Funding " + q, format: (v) => money(v) });
    }
    // the pairs strategy's groups: a row per leg, the group's total (the API's) on its first leg
    const legs = groups.flatMap((g) => g.legs.map((l, i) => ({ ...l, group: g.id, state: g.status, spread: g.spread,
      total: i === 0 ? g.pnl : null })));
    const pairTable = groups.length ? `<h2>Pair groups</h2>${table("pair-groups", [
        { key: "group", label: "Group" }, { key: "spread", label: "Spread" }, { key: "state", label: "State" },
        { key: "pair", label: "Leg" }, { key: "side", label: "Side" }, { key: "amount", label: "Amount", format: qty },
        { key: "entry_price", label: "Entry", format: qty }, { key: "current_price", label: "Now", format: qty },
        { key: "pnl", label: "PnL " + q, format: (v) => money(v), signed: true },
        { key: "total", label: "Group PnL " + q, format: (v) => (v == null ? "" : money(v)), signed: true }], legs)}` : "";
    el.innerHTML = `<h1>Holdings</h1>${table("positions", columns, status.positions)}${pairTable}
      <h2>${esc(pair)}</h2><div class="chart" id="candles-chart"></div>`;
    const [candles, closed] = await Promise.all([
      api("/candles", { pair, timeframe: "1h", limit: 200, indicators: "ema_20" }),
      api("/trades", { pair, page_size: 100 })]);
    const chart = newChart(el.querySelector("#candles-chart"));
    const series = chart.addCandlestickSeries();
    series.setData(candles.time.map((t, i) => ({ time: t / 1000, open: candles.open[i], high: candles.high[i], low: candles.low[i], close: candles.close[i] })));
    const ema = chart.addLineSeries({ color: "#f0b90b", lineWidth: 1 });
    ema.setData(candles.time.map((t, i) => ({ time: t / 1000, value: candles.indicators.ema_20[i] })).filter((p) => p.value != null));
    const mine = status.positions.filter((p) => p.pair === pair);
    const first = candles.time[0] / 1000, last = candles.time[candles.time.length - 1] / 1000;
    const bar = (iso) => Math.floor(sec(iso) / 3600) * 3600;  // the 1h candle the moment falls in
    const entry = (iso) => ({ time: bar(iso), position: "belowBar", color: "#26a69a", shape: "arrowUp", text: "entry" });
    const markers = [...mine.map((p) => entry(p.opened_at)),
      ...closed.trades.flatMap((t) => [entry(t.opened_at),
        { time: bar(t.closed_at), position: "aboveBar", color: "#ef5350", shape: "arrowDown", text: "exit" }])]
      .filter((m) => m.time >= first && m.time <= last).sort((a, b) => a.time - b.time);
    series.setMarkers(markers);
    mine.filter((p) => p.stop_price).forEach((p) => series.createPriceLine({ price: Number(p.stop_price), color: "#ef5350", title: "stop" }));
    chart.timeScale().fitContent();
  },

  async trades(el) {
    const query = state.tradeQuery;
    const pageData = await api("/trades", { ...query, page_size: 25 });
    const q = pageData.quote;
    const total = pageData.trades.reduce((s, t) => s + Number(t.pnl), 0);
    const wins = pageData.trades.filter((t) => Number(t.pnl) > 0).length;
    el.innerHTML = `<h1>Trades</h1><form class="filters" id="trade-filters">
        <input name="pair" placeholder="Pair (BTC/USDT)" value="${esc(query.pair || "")}">
        <input name="strategy" placeholder="Strategy" value="${esc(query.strategy || "")}">
        <select name="side"><option value="">any side</option><option value="long">long</option><option value="short">short</option></select>
        <select name="outcome"><option value="">won or lost</option><option value="won">won</option><option value="lost">lost</option></select>
        <input name="since" type="date" value="${esc((query.since || "").slice(0, 10))}"><input name="until" type="date" value="${esc((query.until || "").slice(0, 10))}">
        <button type="submit">Filter</button></form>
      <div class="cards">${card("Matching trades", pageData.total)}${card("PnL on this page", money(total, q), sign(total))}
        ${card("Wins on this page", pageData.trades.length ? wins + " / " + pageData.trades.length : "n/a")}</div>
      ${tradeTable(pageData.trades, q)}
      <div class="pager"><button id="prev" ${pageData.page <= 1 ? "disabled" : ""}>‹</button>
        <span id="page-of">page ${pageData.page} of ${pageData.pages}</span><button id="next" ${pageData.page >= pageData.pages ? "disabled" : ""}>›</button></div>`;
    const form = el.querySelector("#trade-filters");
    form.side.value = query.side || ""; form.outcome.value = query.outcome || "";
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const f = new FormData(form);
      const day = (v) => (v ? v + "T00:00:00Z" : "");
      state.tradeQuery = { pair: f.get("pair").trim(), strategy: f.get("strategy").trim(), side: f.get("side"),
        outcome: f.get("outcome"), since: day(f.get("since")), until: day(f.get("until")), page: 1 };
      render();
    });
    el.querySelector("#prev").onclick = () => { state.tradeQuery.page -= 1; render(); };
    el.querySelector("#next").onclick = () => { state.tradeQuery.page += 1; render(); };
  },
};

function newsStrip(items) {
  if (!items.length) return "";
  const links = items.map((n) => `<a href="${esc(n.link)}" target="_blank" rel="noopener">${esc(n.title)}</a>
    <span class="news-meta">${esc(n.source)} · ${esc(when(n.published_at))}${n.assets.length ? " · " + esc(n.assets.join(", ")) : ""}</span>`);
  return `<div class="news-strip" id="news-strip">${links.map((l) => `<div class="news-item">${l}</div>`).join("")}</div>`;
}

function basketSection(v) {
  if (v.error) return `<h2>Basket</h2><p class="muted">${esc(v.error)}</p>`;
  const q = v.quote;
  // a stale price is never shown as fresh: the header lists them and each row is marked
  const stale = v.stale.length ? `<p class="error" id="basket-stale">STALE prices: ${esc(v.stale.join(", "))}</p>` : "";
  return `<h2>Basket ${esc(v.name)}</h2><div class="cards">${card("Basket value", money(v.value, q))}
    ${card("Basket cost", money(v.cost, q))}${Number(v.proceeds) ? card("Sold for", money(v.proceeds, q)) : ""}${card("Basket PnL", money(v.pnl, q), sign(v.pnl))}${card("Basket PnL %", pct(v.pnl_fraction), sign(v.pnl))}</div>
    ${stale}${table("basket-categories", [{ key: "title", label: "Category" },
      { key: "value", label: "Value " + q, format: (x) => money(x) }, { key: "pnl", label: "PnL", format: (x) => money(x), signed: true },
      { key: "pnl_fraction", label: "PnL %", format: pct, signed: true }, { key: "weight", label: "Weight", format: pct },
      { key: "drift", label: "Drift", format: pct, signed: true }, { key: "stale", label: "Stale", format: (x) => (x ? "STALE " + x : "") }],
      v.categories)}${table("basket-assets", [{ key: "symbol", label: "Asset" }, { key: "category", label: "Category" },
      { key: "quantity", label: "Amount", format: qty }, { key: "value", label: "Value " + q, format: (x) => money(x) },
      { key: "pnl_fraction", label: "PnL %", format: pct, signed: true },
      { key: "price", label: "Price", format: (p) => (p ? qty(p.price) + " (" + p.source + ")" + (p.stale ? " STALE" : "") : "no price") }],
      v.assets)}`;
}

function tradeTable(trades, quote) {
  return table("trades-table", [
    { key: "closed_at", label: "Closed", format: when }, { key: "pair", label: "Pair" }, { key: "direction", label: "Side" },
    { key: "amount", label: "Amount", format: qty }, { key: "entry_price", label: "Entry", format: qty },
    { key: "exit_price", label: "Exit", format: qty }, { key: "pnl", label: "PnL " + quote, format: (v) => money(v), signed: true },
    { key: "pnl_fraction", label: "Return", format: pct, signed: true }, { key: "exit_reason", label: "Exit" },
    { key: "strategy", label: "Strategy" }], trades);
}

function currentPage() { const name = location.hash.replace(/^#\//, ""); return pages[name] ? name : "dashboard"; }

let rendering = false;
let again = false;
async function render() {
  if (rendering) { again = true; return; }  // a newer request (page change, filter) runs after this one
  rendering = true;
  const name = currentPage();
  document.querySelectorAll("#nav a").forEach((a) => a.classList.toggle("active", a.dataset.page === name));
  const el = document.getElementById("page");
  const scroll = window.scrollY;
  // the new view is built next to the old one, which stays until it is ready (no blank refreshes)
  const stale = [...el.children];
  const oldCharts = state.charts;
  state.charts = [];
  const fresh = document.createElement("div");
  el.append(fresh);
  try {
    await pages[name](fresh);
    stale.forEach((node) => node.remove());
    oldCharts.forEach((c) => c.remove());
    document.body.dataset.loaded = name;
    document.getElementById("live").classList.remove("stale");
    window.scrollTo(0, scroll);
  } catch (err) {
    fresh.remove();
    state.charts.forEach((c) => c.remove());
    state.charts = oldCharts;
    document.getElementById("live").classList.add("stale");
    if (state.auth) el.insertAdjacentHTML("afterbegin", `<p class="error">${esc(err.message)}</p>`);
  } finally {
    rendering = false;
    if (again) { again = false; render(); }
  }
}

function signOut(message) {
  sessionStorage.removeItem("token"); sessionStorage.removeItem("tma");
  state.auth = null; clearInterval(state.timer); clearCharts();
  document.getElementById("page").replaceChildren();
  document.getElementById("login").hidden = false;
  document.getElementById("login-error").textContent = message || "";
}

function begin() {
  state.auth = initAuth();
  if (!state.auth) { signOut(""); return; }
  document.getElementById("login").hidden = true;
  window.onhashchange = render;
  render();
  clearInterval(state.timer);
  state.timer = setInterval(render, REFRESH_MS);
}

function setup() {
  if (window.Telegram && window.Telegram.WebApp) window.Telegram.WebApp.ready();
  document.getElementById("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    sessionStorage.setItem("token", document.getElementById("token").value.trim());
    begin();
  });
  document.addEventListener("click", (e) => {
    const th = e.target.closest("th[data-table]");
    if (!th) return;
    const prev = state.sort[th.dataset.table];
    state.sort[th.dataset.table] = { key: th.dataset.key, desc: prev && prev.key === th.dataset.key ? !prev.desc : false };
    render();
  });
  begin();
}

setup();
