// Attachments, for the desk and the widget alike: uploading one file
// (`POST /api/v1/conversations/{id}/attachments`, multipart/form-data, answered with a
// signed URL and the IMAGE/FILE body to send), showing an IMAGE body as a thumbnail
// and a FILE body as a chip with its name and size, and dropping files on a pane.

import { h } from "/shared/dom.js";

export class UploadError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/** True for a body that carries an attachment (IMAGE, FILE, ... with `attachment`). */
export function isAttachment(body) {
  return typeof body?.attachment?.mediaUrl === "string";
}

/** "12 KB", "3.4 MB". */
export function formatSize(bytes) {
  const n = Number(bytes);
  if (!Number.isFinite(n) || n < 0) return "";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/** The file name shown for an attachment body. */
export function attachmentName(body) {
  return body?.additionalDetails?.fileName || body?.caption || "file";
}

/**
 * Uploads `file` into the conversation; `headers` authenticate (a bearer token, or
 * the widget's X-Channel-Session + X-Session-Secret). Resolves with
 * `{id, url, expiresAt, fileName, size, mimeType, body}`; rejects with an UploadError
 * whose message is the server's, in plain words.
 */
export async function uploadAttachment(conversationId, file, headers) {
  const form = new FormData();
  form.append("file", file, file.name);
  let response;
  try {
    response = await fetch(`/api/v1/conversations/${encodeURIComponent(conversationId)}/attachments`, {
      method: "POST",
      headers: { Accept: "application/json", ...headers },
      body: form,
    });
  } catch (err) {
    throw new UploadError("network", `cannot reach the server (${err.message})`);
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    throw new UploadError(data?.code ?? `http_${response.status}`, data?.message ?? `upload failed (${response.status})`);
  }
  return data;
}

/** The attachment of a body: an image thumbnail (opens full size) or a file chip. */
export function attachmentNode(body) {
  const url = body.attachment.mediaUrl;
  const name = attachmentName(body);
  if (body.type === "IMAGE") {
    return h(
      "a",
      { class: "attachment-image", href: url, target: "_blank", rel: "noopener", title: `Open ${name}` },
      h("img", { class: "thumb", src: url, alt: name, loading: "lazy", "data-testid": "attachment-image" }),
    );
  }
  return h(
    "a",
    { class: "file-chip", href: url, target: "_blank", rel: "noopener", download: name, "data-testid": "attachment-file" },
    h("span", { class: "file-icon", "aria-hidden": "true", text: "📄" }),
    h("span", { class: "file-name", text: name }),
    h("span", { class: "file-size", text: formatSize(body.attachment.size) }),
  );
}

/** Calls `onFiles([File])` when files are dropped on `zone`, highlighting it meanwhile. */
export function acceptDrops(zone, onFiles) {
  let depth = 0;
  const hasFiles = (e) => [...(e.dataTransfer?.types ?? [])].includes("Files");
  zone.addEventListener("dragenter", (e) => {
    if (!hasFiles(e)) return;
    depth += 1;
    zone.classList.add("dropping");
  });
  zone.addEventListener("dragover", (e) => {
    if (hasFiles(e)) e.preventDefault();
  });
  zone.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) zone.classList.remove("dropping");
  });
  zone.addEventListener("drop", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth = 0;
    zone.classList.remove("dropping");
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length) onFiles(files);
  });
}

/** A paperclip button and its hidden file input: `onFiles([File])` on a choice. */
export function attachButton(onFiles) {
  const input = h("input", { type: "file", hidden: true, multiple: true, "data-testid": "attach-input" });
  input.addEventListener("change", () => {
    const files = [...(input.files ?? [])];
    input.value = "";
    if (files.length) onFiles(files);
  });
  const button = h("button", {
    type: "button",
    class: "attach",
    title: "Attach an image or a file",
    "aria-label": "Attach a file",
    text: "📎",
    onClick: () => input.click(),
  });
  return [button, input];
}
