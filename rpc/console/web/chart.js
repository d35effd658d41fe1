// A small bar chart drawn as SVG with DOM calls (no library, no inline
// style: colours come from style.css classes, so the CSP holds). Each bar
// carries a <title> with its label and value, and the figure has the same
// numbers as a table for screen readers and keyboard users.
import { el } from './dom.js';

const NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs, ...children) {
  const n = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, String(v));
  for (const c of children) n.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return n;
}

let seq = 0;

/** A figure with a bar chart of points ([label, value] pairs) and its table. */
export function barChart(title, points) {
  const id = 'chart-' + (++seq);
  const W = 720, H = 220, left = 44, bottom = 36, top = 12, right = 8;
  const max = Math.max(1, ...points.map(([, v]) => v));
  const bw = (W - left - right) / Math.max(1, points.length);
  const total = points.reduce((s, [, v]) => s + v, 0);
  const y = (v) => top + (H - top - bottom) * (1 - v / max);
  const g = svg('g', {});
  // Axes and three gridline labels.
  g.append(svg('line', { class: 'axis', x1: left, y1: y(0), x2: W - right, y2: y(0) }));
  g.append(svg('line', { class: 'axis', x1: left, y1: top, x2: left, y2: y(0) }));
  for (const v of [0, Math.round(max / 2), max]) {
    g.append(svg('text', { x: left - 6, y: y(v) + 4, 'text-anchor': 'end' }, v));
  }
  const every = Math.max(1, Math.ceil(points.length / 12));
  points.forEach(([label, v], i) => {
    const x = left + i * bw;
    g.append(svg('rect', { class: 'bar-rect', x: x + bw * 0.1, y: y(v), width: Math.max(1, bw * 0.8), height: y(0) - y(v), 'data-label': label, 'data-value': v },
      svg('title', {}, label + ': ' + v)));
    if (i % every === 0) {
      g.append(svg('text', { x: x + bw / 2, y: H - bottom + 14, 'text-anchor': 'middle' }, shortLabel(label)));
    }
  });
  const chart = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-labelledby': id + '-t', 'data-series': title },
    svg('title', { id: id + '-t' }, title + ': ' + total + ' in all, at most ' + max + ' in one period'), g);
  return el('figure', { class: 'chart', 'aria-labelledby': id + '-c' },
    el('figcaption', { id: id + '-c' }, el('strong', {}, title), ' — ' + total + ' in all'),
    chart,
    el('details', {}, el('summary', {}, 'Numbers'),
      el('table', {}, el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Period'), el('th', { scope: 'col' }, title))),
        el('tbody', {}, points.map(([l, v]) => el('tr', {}, el('td', {}, l), el('td', { class: 'num' }, v)))))));
}

function shortLabel(l) {
  // "2026-12-03T14:00:00Z" → "14:00"; "2026-12-03" → "12-03".
  const m = /^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d))?/.exec(l);
  if (!m) return l.slice(0, 8);
  return m[4] ? m[4] + ':' + m[5] : m[2] + '-' + m[3];
}
