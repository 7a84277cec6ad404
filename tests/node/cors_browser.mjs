// Open each page URL in headless Chromium (the system build) and print what its script recorded.
// Usage: node cors_browser.mjs <chromium> <user-data-dir> <url>...
import { chromium } from "playwright-core";

const [, , executablePath, userDataDir, ...urls] = process.argv;
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
});
const results = {};
try {
  for (const url of urls) {
    const page = await context.newPage();
    const console_ = [];
    page.on("console", (message) => console_.push(message.text()));
    await page.goto(url);
    await page.waitForSelector("body[data-done]", { state: "attached", timeout: 60_000 });
    results[url] = {
      calls: JSON.parse(await page.textContent("#result")),
      console: console_,
    };
    await page.close();
  }
} finally {
  await context.close();
}
process.stdout.write(JSON.stringify(results) + "\n");
