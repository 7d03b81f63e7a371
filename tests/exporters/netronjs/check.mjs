// Open a Netron URL in headless Chromium and report what the page shows, as one JSON line:
// {"cls": body class, "message": the message box's text, "nodes": graph nodes, "inputs", "outputs"}.
//   node check.mjs URL BUILD_DATE
// Netron waits on a cookie-consent dialog until a `consent` cookie is set, and, once its build is
// 180 days old, asks for an update forever: the cookie is set before the page loads and the
// page's clock is pinned to a day after the build date.
import puppeteer from "puppeteer-core";

const [, , url, buildDate] = process.argv;
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage", "--no-proxy-server"],
});
try {
  const page = await browser.newPage();
  const host = new URL(url).hostname;
  await browser.setCookie({ name: "consent", value: String(Date.now()), domain: host, path: "/" });
  if (buildDate) {
    await page.evaluateOnNewDocument((fixed) => {
      const Real = Date;
      const now = Real.parse(fixed.replace(" ", "T") + "Z") + 86400000;
      class Pinned extends Real {
        constructor(...args) { if (args.length) { super(...args); } else { super(now); } }
        static now() { return now; }
      }
      window.Date = Pinned;
    }, buildDate);
  }
  await page.goto(url, { waitUntil: "load", timeout: 60000 });
  await page.waitForFunction(() => {
    const cls = document.body.getAttribute("class") || "";
    return document.getElementsByClassName("graph-node").length > 0 || cls.includes("alert")
      || cls.includes("notification");
  }, { timeout: 60000, polling: 200 }).catch(() => {});
  await new Promise((r) => setTimeout(r, 500));
  const result = await page.evaluate(() => ({
    cls: document.body.getAttribute("class") || "",
    message: (document.getElementById("message-text") || {}).innerText || "",
    nodes: document.getElementsByClassName("graph-node").length,
    inputs: document.getElementsByClassName("graph-input").length,
    outputs: document.getElementsByClassName("graph-output").length,
  }));
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
}
