// Typing indicators and attachments through the bundled pages in headless Chromium:
// the desk (agent1) and the widget in two browser contexts. Typing shows on the other
// side both ways and goes away when the message arrives; an image goes each way and
// shows as a loaded thumbnail on both sides; a forbidden file (widget) and an
// oversized one (desk) are refused with a visible message.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { launchBrowser, readyDeskPage, skipReason, startSwitchboard, watch } from "./ui_browser.mjs";

const skip = skipReason();
const T = { timeout: 10_000 };
const SHOTS = process.env.UI_SCREENSHOTS ?? null;

/** A `size`×`size` PNG of one colour, made here (valid chunks and CRCs). */
function png(size, [r, g, b]) {
  const chunk = (type, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: size }, () => [r, g, b]).flat())]);
  const pixels = zlib.deflateSync(Buffer.concat(Array.from({ length: size }, () => row)));
  return Buffer.concat([
    Buffer.from("89504e470d0a1a0a", "hex"),
    chunk("IHDR", header),
    chunk("IDAT", pixels),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

const PNG = png(48, [220, 80, 60]);

async function shot(page, name) {
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

/** True once `img` has loaded real pixels. */
function loaded(img) {
  return img.evaluate((node) => node.complete && node.naturalWidth > 0);
}

describe("typing and attachments", { skip: skip ?? false }, () => {
  let server;
  let browser;

  before(async () => {
    server = await startSwitchboard();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("typing both ways, an image both ways, refused files explained", { timeout: 120_000 }, async (t) => {
    const deskContext = await browser.newContext({ viewport: { width: 1100, height: 760 } });
    const widgetContext = await browser.newContext({ viewport: { width: 390, height: 760 }, isMobile: true, hasTouch: true });
    t.after(async () => {
      await deskContext.close();
      await widgetContext.close();
    });
    const desk = await deskContext.newPage();
    const widget = await widgetContext.newPage();
    const problems = [watch(desk, "desk"), watch(widget, "widget")];

    await readyDeskPage(desk, server.url, "agent1");

    await widget.goto(`${server.url}/widget/`);
    await widget.fill("#name", "Jane Doe");
    await widget.click("#start-form button[type=submit]");
    const offer = desk.getByTestId("offer");
    await offer.waitFor(T);
    await offer.locator("button.accept").click();
    await offer.waitFor({ state: "detached", ...T });
    const chat = desk.locator("#chat");
    await widget.getByTestId("status").filter({ hasText: /chatting/ }).waitFor(T);

    // The customer types: the desk says so under the transcript; sending clears it.
    await widget.locator("#text").pressSequentially("Where is my", { delay: 20 });
    const deskTyping = desk.getByTestId("typing");
    await deskTyping.filter({ hasText: "Jane Doe is typing…" }).waitFor(T);
    await shot(desk, "desk-customer-typing");
    await widget.locator("#text").pressSequentially(" parcel?", { delay: 20 });
    await widget.press("#text", "Enter");
    await chat.locator(".msg", { hasText: "Where is my parcel?" }).waitFor(T);
    await deskTyping.filter({ hasText: /^$/ }).waitFor(T);

    // The agent types: the widget says so; sending clears it.
    await chat.locator(".composer textarea").pressSequentially("Let me look", { delay: 20 });
    const widgetTyping = widget.getByTestId("typing");
    await widgetTyping.filter({ hasText: "agent1 is typing…" }).waitFor(T);
    await shot(widget, "widget-agent-typing");
    await chat.locator(".composer textarea").press("Enter");
    await widget.locator(".msg:not(.mine)", { hasText: "Let me look" }).waitFor(T);
    await widgetTyping.filter({ hasText: /^$/ }).waitFor(T);

    // The agent sends an image with the paperclip: both sides show the thumbnail.
    await chat.getByTestId("attach-input").setInputFiles({ name: "label.png", mimeType: "image/png", buffer: PNG });
    const deskImage = chat.locator(".msg.mine img.thumb");
    await deskImage.waitFor(T);
    const widgetImage = widget.locator(".msg:not(.mine) img.thumb");
    await widgetImage.waitFor(T);
    await widget.waitForFunction(() => {
      const img = document.querySelector(".msg:not(.mine) img.thumb");
      return img?.complete && img.naturalWidth > 0;
    }, null, T);
    assert.ok(await loaded(widgetImage), "the customer's browser loaded the signed URL");

    // The customer sends an image: the desk shows it.
    await widget.getByTestId("attach-input").setInputFiles({ name: "parcel.png", mimeType: "image/png", buffer: PNG });
    await widget.locator(".msg.mine[data-state=delivered] img.thumb").waitFor(T);
    const fromCustomer = chat.locator(".msg:not(.mine) img.thumb");
    await fromCustomer.waitFor(T);
    await desk.waitForFunction(() => {
      const img = document.querySelector("#chat .msg:not(.mine) img.thumb");
      return img?.complete && img.naturalWidth > 0;
    }, null, T);

    // A text file goes as a file chip with its name and size.
    await widget.getByTestId("attach-input").setInputFiles({ name: "order.txt", mimeType: "text/plain", buffer: Buffer.from("Order 4711\n") });
    await chat.getByTestId("attachment-file").filter({ hasText: "order.txt" }).waitFor(T);
    assert.match(await chat.getByTestId("attachment-file").last().textContent(), /order\.txt.*B/);

    // A program is refused in the widget with a visible reason, and nothing is sent.
    await widget.getByTestId("attach-input").setInputFiles({
      name: "invoice.pdf.exe",
      mimeType: "application/pdf",
      buffer: Buffer.from("4d5a90000300000004000000ffff0000", "hex"),
    });
    const refused = widget.locator(".msg.mine.failed", { hasText: "invoice.pdf.exe" });
    await refused.waitFor(T);
    assert.match(await refused.textContent(), /Not sent: this kind of file cannot be sent \(images, PDF, text and office documents can\)/);
    await shot(widget, "widget-images-and-refusal");

    // An oversized file is refused on the desk, saying the limit.
    await chat.getByTestId("attach-input").setInputFiles({
      name: "huge.txt",
      mimeType: "text/plain",
      buffer: Buffer.alloc(10 * 1024 * 1024 + 1, "a"),
    });
    const tooBig = chat.locator(".msg.failed");
    await tooBig.waitFor(T);
    assert.match(await tooBig.textContent(), /not sent: the file is larger than the limit of 10 MiB/);
    await shot(desk, "desk-images-and-refusal");
    assert.equal(await widget.locator(".msg", { hasText: "huge.txt" }).count(), 0);

    assert.deepEqual(problems.flat().filter((p) => !/Failed to load resource.*(413|415)/.test(p)), []);
  });
});
