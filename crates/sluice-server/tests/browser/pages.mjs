// Browser tests of sluice serve's web pages: Debian's Chromium driven by playwright-core.
// Run by crates/sluice-server/tests/pages.rs, which starts the server, seeds it through the API
// and passes what it made in SLUICE_PAGES (JSON). Exits non-zero, saying why, on any failure.
//
//   spec "journey": log in, portfolio, project, finding, approve a proposal in the triage
//                   queue, see the finding suppressed, impact search, download evidence + CSV.
//   spec "hostile": repository strings that each try to set window.__pwned render inert on
//                   every page, and no Content-Security-Policy violation is reported.
//   spec "screenshots": a PNG of each page into SLUICE_SCREENSHOTS (scripts/screenshots).
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const require = createRequire(path.join(process.env.SLUICE_BROWSER_MODULES, 'x.js'));
const { chromium } = require('playwright-core');

const cfg = JSON.parse(process.env.SLUICE_PAGES);
const spec = process.argv[2];
const base = cfg.base;

function fail(message) {
  throw new Error(message);
}

function check(cond, message) {
  if (!cond) fail(message);
}

const browser = await chromium.launch({
  executablePath: process.env.SLUICE_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
// Records CSP violations the page sees (the listener is Playwright's, outside the page's CSP).
await context.addInitScript(() => {
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`);
  });
});
const page = await context.newPage();
const problems = [];
page.on('console', (m) => {
  const text = m.text();
  if (/Content.Security.Policy|Refused to/i.test(text)) problems.push(`console: ${text}`);
});
page.on('dialog', async (d) => {
  problems.push(`a dialog opened: ${d.message()}`);
  await d.dismiss();
});
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));

/** After each page: nothing ran, nothing was blocked, no handler or script: URL is in the DOM. */
async function inert(label) {
  const state = await page.evaluate(() => ({
    pwned: window.__pwned,
    csp: window.__csp || [],
    scripts: document.querySelectorAll('script').length,
    handlers: [...document.querySelectorAll('*')].flatMap((el) =>
      [...el.attributes].filter((a) => a.name.toLowerCase().startsWith('on')).map((a) => `${el.tagName}[${a.name}]`)),
    jsLinks: [...document.querySelectorAll('[href],[src],[action],[formaction]')]
      .map((el) => el.getAttribute('href') || el.getAttribute('src') || el.getAttribute('action') || el.getAttribute('formaction'))
      .filter((u) => /^\s*(javascript|data|vbscript):/i.test(u || '')),
  }));
  check(state.pwned === undefined, `${label}: window.__pwned was set (${state.pwned})`);
  check(state.csp.length === 0, `${label}: CSP violations: ${state.csp.join('; ')}`);
  check(state.scripts === 0, `${label}: ${state.scripts} <script> elements`);
  check(state.handlers.length === 0, `${label}: event handler attributes: ${state.handlers.join(', ')}`);
  check(state.jsLinks.length === 0, `${label}: script URLs: ${state.jsLinks.join(', ')}`);
  check(problems.length === 0, `${label}: ${problems.join('; ')}`);
}

function step(text) {
  console.log(`step: ${text}`);
}

async function visit(url, label) {
  step(label);
  const response = await page.goto(base + url);
  check(response.status() === 200, `${label}: ${url} answered ${response.status()}`);
  const csp = response.headers()['content-security-policy'] || '';
  check(csp.includes("default-src 'none'"), `${label}: no strict CSP (${csp})`);
  await inert(label);
}

async function login(user, password) {
  await page.goto(`${base}/ui/`);
  check(page.url().includes('/ui/login'), `not sent to the login page: ${page.url()}`);
  await page.fill('#username', user);
  await page.fill('#password', password);
  await page.click('main form button[type=submit]');
  await page.waitForURL(`${base}/ui/`);
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'sluice_session');
  check(session, 'no session cookie after logging in');
  check(session.httpOnly, 'the session cookie is not HttpOnly');
  check(session.sameSite === 'Strict', `the session cookie is SameSite=${session.sameSite}`);
  check(session.path === '/ui', `the session cookie's path is ${session.path}`);
  check(await page.evaluate(() => document.cookie) === '', 'a script can read cookies');
}

async function journey() {
  await login(cfg.champion, cfg.champion_password);
  await inert('portfolio');
  // The portfolio: the project with its open findings.
  const row = page.locator('#portfolio tbody tr', { hasText: cfg.project });
  check(await row.count() === 1, 'the project is not in the portfolio');
  // Sorting and filtering by query parameters.
  await visit(`/ui/?q=${encodeURIComponent(cfg.other_project)}`, 'portfolio filtered');
  check(await page.locator('#portfolio tbody tr', { hasText: cfg.project }).count() === 0, 'the filter kept another project');
  await visit('/ui/?sort=open', 'portfolio sorted');
  await page.click(`#portfolio a:text-is("${cfg.project}")`);
  await inert('project');
  check((await page.textContent('h1')).includes(cfg.project), 'the project page is not the project\'s');
  check(await page.locator('#groups tbody tr').count() >= 1, 'no group of findings on the project page');
  // The finding: open, with the proposal awaiting a champion.
  await visit(`/ui/projects/${encodeURIComponent(cfg.project)}/findings/${encodeURIComponent(cfg.fingerprint)}`, 'finding');
  check(await page.locator('#open').count() === 1, 'the finding is not shown as open before the approval');
  check(await page.locator(`#decision-${cfg.proposal}`).count() === 1, 'the proposal is not on the finding page');
  // The triage queue: approve it there.
  await visit('/ui/triage', 'triage');
  check(await page.locator(`#proposal-${cfg.proposal}`).count() === 1, 'the proposal is not in the queue');
  await page.check(`#proposal-${cfg.proposal} input[type=checkbox]`);
  await page.fill('#note', 'reviewed: test fixture');
  await page.click('button[value=approve]');
  await page.waitForURL(/\/ui\/triage\?done=/);
  await inert('triage after approval');
  check((await page.textContent('[role=status]')).includes(`#${cfg.proposal}`), 'no confirmation of the approval');
  check(await page.locator(`#proposal-${cfg.proposal}`).count() === 0, 'the approved proposal is still in the queue');
  // The finding is suppressed now, by that decision, approved by the champion.
  await visit(`/ui/projects/${encodeURIComponent(cfg.project)}/findings/${encodeURIComponent(cfg.fingerprint)}`, 'finding after approval');
  const banner = await page.textContent('#suppressed');
  check(banner.includes(`#${cfg.proposal}`) && banner.includes(cfg.champion) && banner.includes('champion'),
    `the suppression does not say who approved it: ${banner}`);
  // Impact: the package from the stored SBOM, the advisory from the findings.
  await visit(`/ui/impact`, 'impact form');
  await page.fill('#package', cfg.package);
  await page.fill('#version', cfg.version_range);
  await page.click('form.filters button[type=submit]');
  await page.waitForURL(/\/ui\/impact\?/);
  await inert('impact by package');
  check((await page.textContent('#shipping')).startsWith('1 project ships'), `impact by package: ${await page.textContent('#shipping')}`);
  check(await page.locator('#shipped tbody tr', { hasText: cfg.project }).count() === 1, 'the project shipping the package is not listed');
  await visit(`/ui/impact?advisory=${encodeURIComponent(cfg.advisory_alias)}`, 'impact by advisory');
  check(await page.locator('#advisory-findings tbody tr', { hasText: cfg.project }).count() >= 1, 'the affected project is not listed by the advisory\'s alias');
  // Evidence: the run's SBOM and verdict, and the findings as CSV.
  await visit(`/ui/runs/${cfg.run}`, 'run');
  const downloads = cfg.downloads;
  fs.mkdirSync(downloads, { recursive: true });
  for (const [selector, file] of [
    [`a[href="/ui/runs/${cfg.run}/sbom"]`, 'sbom.json'],
    [`a[href="/ui/runs/${cfg.run}/verdict"]`, 'verdict.json'],
  ]) {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
    await download.saveAs(path.join(downloads, file));
    JSON.parse(fs.readFileSync(path.join(downloads, file), 'utf8'));
  }
  await visit(`/ui/projects/${encodeURIComponent(cfg.project)}`, 'project for CSV');
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('a[href$="findings.csv?state=all"]')]);
  await csv.saveAs(path.join(downloads, 'findings.csv'));
  // The weekly trend: a chart with its title, and its data as JSON.
  step('weekly trend');
  check(await page.locator('svg.weekly title#trends-title').count() === 1, 'no titled weekly chart on the project page');
  check(await page.locator('svg.weekly rect.bar-new').count() === 13, 'the weekly chart has not 12 weeks of bars');
  const [trends] = await Promise.all([page.waitForEvent('download'), page.click('a[href$="/trends.json"]')]);
  await trends.saveAs(path.join(downloads, 'trends.json'));
  const weeks = JSON.parse(fs.readFileSync(path.join(downloads, 'trends.json'), 'utf8')).weeks;
  check(weeks.length === 12 && weeks[11].open_at_end !== null, `trends.json: ${JSON.stringify(weeks[11])}`);
  // Log out: the cookie goes and the pages ask to log in again.
  await page.click('header.top form button');
  await page.waitForURL(/\/ui\/login/);
  await page.goto(`${base}/ui/`);
  check(page.url().includes('/ui/login'), 'still logged in after logging out');
}

async function hostile() {
  await login(cfg.champion, cfg.champion_password);
  await inert('portfolio');
  const urls = [
    ['/ui/', 'portfolio'],
    ['/ui/?sort=name&q=' + encodeURIComponent('"><img src=x onerror=window.__pwned=1>'), 'portfolio with a hostile filter'],
    [`/ui/projects/${encodeURIComponent(cfg.project)}`, 'project'],
    [`/ui/projects/${encodeURIComponent(cfg.project)}?rule=${encodeURIComponent(cfg.hostile_rule)}`, 'project filtered by a hostile rule'],
    ['/ui/triage', 'triage'],
    ['/ui/triage?done=' + encodeURIComponent('<script>window.__pwned=1</script>'), 'triage with a hostile message'],
    ['/ui/impact?package=' + encodeURIComponent('<script>window.__pwned=1</script>') + '&advisory=' + encodeURIComponent(cfg.hostile_rule), 'impact'],
    [`/ui/runs/${cfg.run}`, 'run'],
  ];
  for (const fp of cfg.hostile_fingerprints) {
    urls.push([`/ui/projects/${encodeURIComponent(cfg.project)}/findings/${encodeURIComponent(fp)}`, `finding ${fp}`]);
  }
  for (const [url, label] of urls) {
    await visit(url, label);
  }
  // The payloads are shown as text, not dropped: the reader sees what the repository said.
  await visit(`/ui/projects/${encodeURIComponent(cfg.project)}`, 'project text');
  const text = await page.textContent('main');
  for (const shown of cfg.hostile_shown) {
    check(text.includes(shown), `the project page does not show ${JSON.stringify(shown)} as text`);
  }
  // Links on every page lead to this server's pages or to http(s) URLs.
  for (const [url, label] of urls) {
    await page.goto(base + url);
    const hrefs = await page.evaluate(() => [...document.querySelectorAll('a[href]')].map((a) => a.href));
    for (const h of hrefs) {
      check(h.startsWith(base) || /^https?:\/\//.test(h), `${label}: a link to ${h}`);
    }
  }
  await page.goto(base + '/ui/login');
  await inert('login page (logged in: redirected)');
}

async function screenshots() {
  const dir = process.env.SLUICE_SCREENSHOTS;
  fs.mkdirSync(dir, { recursive: true });
  await page.goto(`${base}/ui/login`);
  await page.screenshot({ path: path.join(dir, 'login.png'), fullPage: true });
  await login(cfg.viewer, cfg.viewer_password);
  const shot = async (url, file) => {
    await visit(url, file);
    await page.screenshot({ path: path.join(dir, file), fullPage: true });
  };
  const finding = `/ui/projects/${encodeURIComponent(cfg.project)}/findings/${encodeURIComponent(cfg.fingerprint)}`;
  await shot('/ui/', 'portfolio.png');
  await shot(`/ui/projects/${encodeURIComponent(cfg.project)}`, 'project.png');
  await shot(finding, 'finding-proposed.png');
  await shot('/ui/triage', 'triage.png');
  // Approve the proposal, as the journey does, then the finding again: suppressed.
  await page.check(`#proposal-${cfg.proposal} input[type=checkbox]`);
  await page.fill('#note', 'reviewed: a test fixture');
  await page.click('button[value=approve]');
  await page.waitForURL(/\/ui\/triage\?done=/);
  await page.screenshot({ path: path.join(dir, 'triage-approved.png'), fullPage: true });
  await shot(finding, 'finding.png');
  await shot(`/ui/impact?package=${encodeURIComponent(cfg.package)}&version=${encodeURIComponent(cfg.version_range)}&advisory=${encodeURIComponent(cfg.advisory_alias)}`, 'impact.png');
  await shot(`/ui/runs/${cfg.run}`, 'run.png');
  await shot('/ui/projects/checkout-web', 'project-trend.png');
}

try {
  if (spec === 'journey') await journey();
  else if (spec === 'hostile') await hostile();
  else if (spec === 'screenshots') await screenshots();
  else fail(`unknown spec ${spec}`);
  console.log(`${spec}: ok`);
} catch (e) {
  console.error(`${spec}: FAILED: ${e.message}`);
  try {
    await page.screenshot({ path: path.join(process.env.SLUICE_FAILURE_DIR || '/tmp', `sluice-pages-${spec}-failure.png`), fullPage: true });
  } catch {}
  await browser.close();
  process.exit(1);
}
await browser.close();
