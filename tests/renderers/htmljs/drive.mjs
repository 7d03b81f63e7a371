// Open a netdraw interactive page in headless Chromium, run steps, report as one JSON line:
// {"results": [...], "errors": console errors and page errors, "requests": URLs asked for
// beyond the page itself (data: and blob: excepted), "ms": load-to-first-view time}.
//   node drive.mjs PAGE.html STEPS.json
// A step is {"js": "async body, may use netdraw"} (its return value is the result),
// {"click": CSS selector}, {"key": [CSS selector, key name]} or {"focused": true} (the
// data-path of the focused element).
import puppeteer from "puppeteer-core";
import fs from "node:fs";
import { pathToFileURL } from "node:url";

const [, , file, stepsFile] = process.argv;
const steps = JSON.parse(fs.readFileSync(stepsFile, "utf8"));
const firefox = !!process.env.FIREFOX;
const browser = await puppeteer.launch(firefox
  ? { browser: "firefox", executablePath: process.env.FIREFOX, headless: true }
  : { executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage", "--no-proxy-server"] });
const out = { results: [], errors: [], requests: [], dialogs: [] };
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1000 });
  const url = pathToFileURL(file).href;
  await page.setRequestInterception(true);
  page.on("request", (req) => {
    const u = req.url();
    const local = process.env.ALLOW_FILES && u.startsWith(process.env.ALLOW_FILES);
    if (u === url || u.startsWith(url + "#") || u.startsWith("data:") || u.startsWith("blob:") || local) return req.continue();
    out.requests.push(u);
    req.abort();
  });
  page.on("console", (msg) => { if (msg.type() === "error" || msg.type() === "warning") out.errors.push(msg.text()); });
  page.on("pageerror", (err) => out.errors.push(String(err)));
  page.on("dialog", async (d) => { out.dialogs.push(d.message()); await d.dismiss(); });
  const t0 = Date.now();
  await page.goto(url + (process.env.HASH || ""), { waitUntil: "load", timeout: 60000 });
  try {
    await page.waitForFunction(() => !!(window.netdraw && window.netdraw.ready), { timeout: 30000 });
    await page.evaluate(() => window.netdraw.ready);
  } catch (err) {
    out.errors.push("not ready: " + String(err && err.message || err));
  }
  out.ms = Date.now() - t0;
  for (const step of out.errors.length ? [] : steps) {
    try {
      if (step.js !== undefined) {
        out.results.push(await page.evaluate(`(async () => { ${step.js} })()`));
      } else if (step.click !== undefined) {
        const before = await page.evaluate(() => window.netdraw.stats().layouts);
        await page.click(step.click);
        // a click that changes the view lays it out again: wait for that (events may be delivered late)
        await page.waitForFunction((n) => window.netdraw.stats().layouts > n, { timeout: 3000, polling: 20 }, before)
          .catch(() => {});
        out.results.push(await page.evaluate(async () => { await window.__netdrawIdle(); return window.netdraw.visible(); }));
      } else if (step.shot !== undefined) {
        await page.screenshot({ path: step.shot, fullPage: true });
        out.results.push(step.shot);
      } else if (step.key !== undefined) {
        const [sel, key] = step.key;
        if (sel) await page.evaluate((s) => document.querySelector(s).focus(), sel);
        await page.keyboard.press(key);
        out.results.push(await page.evaluate(async () => {
          await window.__netdrawIdle();
          const a = document.activeElement;
          return { focused: a && a.getAttribute ? a.getAttribute("data-path") : null, visible: window.netdraw.visible() };
        }));
      }
    } catch (err) {
      out.results.push({ error: String(err && err.message || err) });
    }
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
