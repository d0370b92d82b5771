/**
 * GraphiQL as an analyst meets it: a real (headless) Chromium opens the gateway's page with every
 * request to a host other than this machine refused, finds the Customer 360 example in the editor,
 * runs it, and sees one answer joined from the CRM, the order system and the support desk, and in
 * the Fan-out panel the calls that answer made, drawn as a waterfall.
 *
 * The browser is Debian's Chromium at /usr/bin/chromium (or CHROMIUM_PATH), driven by
 * playwright-core; Playwright's own browser download is never used. Without a browser the suite is
 * skipped, and says so in its name and on the console.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { normalizeEmail, sandboxDataset } from '../../sources/sandbox';
import baseConfig from '../../virtualization.config';
import { startHarness, type Harness } from '../support/harness';

const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const BROWSER_AVAILABLE = existsSync(CHROMIUM_PATH);
const SUITE = 'GraphiQL in headless Chromium, offline';

/** Loopback only: what the page may reach. `URL.hostname` keeps the brackets of an IPv6 literal. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
/** Flags that keep Chromium from calling Google's hosts at start-up (refused on closed networks). */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const STEP_TIMEOUT_MS = 20_000;
const SCREENSHOT = join(tmpdir(), 'virtualize-graphiql.png');
const FANOUT_SCREENSHOT = join(tmpdir(), 'virtualize-graphiql-fanout.png');

if (!BROWSER_AVAILABLE) {
  console.warn(
    `${SUITE}: SKIPPED, no Chromium at ${CHROMIUM_PATH}. Install Debian's browser with ` +
      '`apt-get install -y chromium` (or point CHROMIUM_PATH at one) to run it.',
  );
}
const describeWithBrowser = BROWSER_AVAILABLE ? describe : describe.skip;
const suiteName = BROWSER_AVAILABLE
  ? SUITE
  : `${SUITE} [SKIPPED: no browser at ${CHROMIUM_PATH}; apt-get install -y chromium]`;

/**
 * The text of a Monaco editor as it is drawn. Monaco positions its line elements absolutely and
 * reuses them while scrolling, so DOM order is not line order: sort by `top`. Only the lines in
 * view are in the DOM, hence the tall viewport below.
 */
async function editorText(editor: Locator): Promise<string> {
  const lines = await editor
    .locator('.view-line')
    .evaluateAll((elements) => elements.map((element) => ({ top: parseFloat(element.style.top), text: element.textContent ?? '' })));
  return lines
    .sort((a, b) => a.top - b.top)
    .map((line) => line.text.replace(/\u00a0/g, ' '))
    .join('\n');
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const collapse = (text: string) => text.replace(/\s+/g, ' ').trim();

/** What the first customers of the example must show, taken from the sandboxes' own datasets. */
function expectedCustomer(first: number) {
  const data = sandboxDataset();
  for (const contact of data.crm.contacts.slice(0, first)) {
    const orderNumbers = data.orders.crosswalk
      .filter((pair) => pair.crmCustomerId === contact.Id)
      .flatMap((pair) => data.orders.ordersByRef.get(pair.orderCustomerRef) ?? [])
      .map((order) => order.number);
    const requester = data.support.requesterByEmail.get(normalizeEmail(contact.Email));
    const tickets = requester ? (data.support.ticketsByRequester.get(requester.id) ?? []) : [];
    if (orderNumbers.length > 0 && tickets.length > 0) return { name: contact.Name, orderNumbers, tickets };
  }
  throw new Error(`none of the first ${first} CRM contacts has both orders and tickets: the example cannot show a three-way join`);
}

describeWithBrowser(suiteName, () => {
  let h: Harness;
  let browser: Browser;
  let page: Page;
  const blocked: string[] = [];
  const pageErrors: string[] = [];
  /** What the page's Content-Security-Policy refused (Chromium reports each refusal on the console). */
  const policyRefusals: string[] = [];

  /** A page in a fresh browser context (no GraphiQL state from an earlier test), loopback only. */
  async function freshPage(): Promise<Page> {
    // Tall enough that Monaco draws the whole example and the first customer of the answer.
    const context = await browser.newContext({ viewport: { width: 1400, height: 3000 } });
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    // On the context rather than the page, so that workers' requests are refused too.
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (LOOPBACK_HOSTS.has(url.hostname)) return route.continue();
      blocked.push(url.href);
      return route.abort('blockedbyclient');
    });
    const opened = await context.newPage();
    opened.on('pageerror', (error) => pageErrors.push(error.message));
    opened.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) policyRefusals.push(message.text());
    });
    opened.on('websocket', (socket) => {
      if (!LOOPBACK_HOSTS.has(new URL(socket.url()).hostname)) blocked.push(socket.url());
    });
    return opened;
  }

  beforeAll(async () => {
    h = await startHarness();
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: STEP_TIMEOUT_MS });
  }, 30_000);

  beforeEach(async () => {
    page = await freshPage();
  });

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  }, 30_000);

  it('renders with the internet blocked and runs the Customer 360 example across all three systems', async () => {
    const example = baseConfig.examples?.[0];
    expect(example?.name).toBe('Customer 360');
    const expected = expectedCustomer(5);

    const response = await page.goto(`${h.server.url}/graphql`);
    expect(response?.status()).toBe(200);
    // The page runs under its own policy: never framed, its scripts by hash, requests to this origin.
    expect(response?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");

    // The page rendered: the operation editor holds the default example.
    const queryEditor = page.locator('.graphiql-query-editor');
    await queryEditor.locator('.view-lines').filter({ hasText: 'Customer360' }).waitFor();
    expect(collapse(await editorText(queryEditor))).toBe(collapse(example!.query));

    // Run it, as an analyst does.
    h.resetUpstream();
    const answered = page.waitForResponse(
      (r) => r.url().endsWith('/graphql') && r.request().method() === 'POST' && (r.request().postData() ?? '').includes('Customer360'),
    );
    await page.getByRole('button', { name: /execute query/i }).click();
    const body = (await (await answered).json()) as { data?: unknown; errors?: unknown };
    expect(body.errors).toBeUndefined();

    const responsePane = page.locator('.graphiql-response');
    await responsePane.locator('.view-lines').filter({ hasText: expected.name }).waitFor();
    await page.screenshot({ path: SCREENSHOT });
    const shown = await editorText(responsePane);

    // Joined data from each system, in the pane: a CRM name, its orders, its tickets.
    expect(shown).toContain('"customers"');
    expect(shown).toContain(`"name": "${expected.name}"`);
    const orderShown = expected.orderNumbers.find((number) => shown.includes(`"number": "${number}"`));
    expect(orderShown).toMatch(/^SO-\d+$/);
    // The desk's statuses are lower case; the canonical enum is upper case: compare either way.
    const ticketShown = expected.tickets.find((ticket) =>
      new RegExp(`"subject": ${escapeRegExp(JSON.stringify(ticket.subject))},\\s*"status": "${ticket.status}"`, 'i').test(shown),
    );
    expect(ticketShown).toBeDefined();

    // The gateway really called the three systems for it.
    const upstream = h.upstream();
    for (const system of ['crm', 'orders', 'support'] as const) {
      expect(Object.values(upstream[system]).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    }

    // It all worked with nothing but loopback reachable; whatever the page tried beyond it was refused.
    if (blocked.length > 0) console.info(`${SUITE}: refused ${blocked.length} non-loopback request(s): ${blocked.join(', ')}`);
    expect(pageErrors).toEqual([]);
    // Everything the page needed, its policy allowed.
    expect(policyRefusals).toEqual([]);
  }, 30_000);

  it('draws the fan-out of the example as a waterfall over the three systems in the Fan-out panel', async () => {
    expect((await page.goto(`${h.server.url}/graphql`))?.status()).toBe(200);
    await page.locator('.graphiql-query-editor .view-lines').filter({ hasText: 'Customer360' }).waitFor();
    await page.getByRole('button', { name: 'Show Fan-out' }).click();

    h.resetUpstream();
    const answered = page.waitForResponse((r) => r.url().endsWith('/graphql') && (r.request().postData() ?? '').includes('Customer360'));
    await page.getByRole('button', { name: /execute query/i }).click();
    const response = await answered;
    // The panel asked for the explanation on GraphiQL's behalf.
    expect(response.request().headers()['x-virtualize-explain']).toBe('1');

    const waterfall = page.getByTestId('fanout-waterfall');
    await waterfall.waitFor();
    await page.screenshot({ path: FANOUT_SCREENSHOT });
    // One bar per upstream call the systems counted, each system in the legend.
    const rows = waterfall.locator('.virtualize-fanout-row');
    expect(await rows.count()).toBe(h.upstream().total);
    const legend = await waterfall.locator('.virtualize-fanout-legend li').evaluateAll((items) => items.map((item) => item.getAttribute('data-source')));
    expect(legend.sort()).toEqual(['crm', 'orders', 'support']);
    for (const system of ['crm', 'orders', 'support']) {
      const bars = waterfall.locator(`.virtualize-fanout-row[data-source="${system}"] .virtualize-fanout-bar`);
      expect(await bars.count()).toBe(Object.values(h.upstream()[system as 'crm']).reduce((a, b) => a + b, 0));
      const width = await bars.first().evaluate((bar) => bar.getBoundingClientRect().width);
      expect(width).toBeGreaterThan(0);
    }
    // The CRM page comes first; the joins start when it has come back.
    const lefts = await rows.locator('.virtualize-fanout-bar').evaluateAll((bars) => bars.map((bar) => bar.getBoundingClientRect().left));
    expect(lefts.slice(1).every((left) => left >= lefts[0]!)).toBe(true);
    expect(await waterfall.locator('.virtualize-fanout-provenance').textContent()).toContain('customers.nodes.tickets');
    expect(pageErrors).toEqual([]);
    expect(policyRefusals).toEqual([]);
  }, 30_000);
});
